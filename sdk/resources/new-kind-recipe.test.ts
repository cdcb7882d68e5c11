import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { packageModel } from "../../scripts/schema-generator";
import { field, typeToken } from "../../core/schemas/field";
import { customResource } from "../../core/schemas/registry";
import { resourceClass, type ArgsOf } from "./tunnels-resource";

// CONTRIBUTING.md's recipe for a new resource kind, followed for a throwaway `widget`: the schema,
// the registry line, and what is derived from them (the class and its types, schema.json's
// resource, the forwarding provider's module). Its provider and prose file are stand-ins here.
const widgetSchema = {
  typeName: "Widget" as const,
  inputs: z.strictObject({ size: field(z.number().int().min(1), { description: "How big.", replaceOnChanges: true }), label: field(z.string().optional(), { description: "A label." }) }),
  outputs: z.object({ area: field(z.number(), { description: "size squared." }), secretCode: field(z.string(), { description: "Secret.", secret: true }) }),
};
const widget = customResource("widget", widgetSchema);
class Widget extends resourceClass(widget) {}

type Registered = { type: string; name: string; inputs: Record<string, unknown> };
const registered: Registered[] = [];

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id: `${args.name}-id`, state: { ...args.inputs, area: Number(args.inputs.size) ** 2, secretCode: "s3cret" } };
      },
      call: () => ({}),
    },
    "project",
    "stack",
    false,
  );
});

const valueOf = <T>(output: pulumi.Output<T>) => new Promise<T>((resolve) => output.apply(resolve));

describe("a new resource kind from one schema and one registry line", () => {
  it("gets a class whose Args and outputs are its schema's", async () => {
    const args: ArgsOf<typeof widgetSchema> = { size: 3 };
    // @ts-expect-error size is a number in the schema
    const wrong: ArgsOf<typeof widgetSchema> = { size: "3" };
    void wrong;
    const w = new Widget("w", args);
    expect(await valueOf(w.area)).toBe(9);
    expect(await valueOf(w.size)).toBe(3);
    expect(await valueOf(w.label)).toBeUndefined();
    expect(registered.find((r) => r.name === "w")?.type).toBe(typeToken("Widget"));
  });

  it("appears in schema.json's model with its fields and replace-on-change", () => {
    const model = packageModel({ info: { version: "0.0.0", description: "", license: "", npmPackage: "x" }, resources: [{ schema: widget.schema, isComponent: false, prose: "A widget." }], typeNames: {} });
    const resource = model.resources[0]!;
    expect(resource.typeName).toBe("Widget");
    expect(resource.inputs.map((f) => [f.name, f.required, f.replaceOnChanges])).toEqual([
      ["size", true, true],
      ["label", false, false],
    ]);
    expect(resource.outputs.find((f) => f.name === "secretCode")?.secret).toBe(true);
  });
});
