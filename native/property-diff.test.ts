import { z } from "zod";
import { describe, expect, it } from "vitest";
import { field } from "../core/schemas/field";
import { tunnelTokenSchema } from "../core/schemas/tunnel-token";
import { propertyDiffs } from "./property-diff";

const shape = {
  name: field(z.string(), { description: "replaces", replaceOnChanges: true }),
  label: field(z.string().optional(), { description: "updates in place" }),
};

describe("propertyDiffs", () => {
  it.each([
    ["an in-place field that changed is an UPDATE", { name: "a", label: "x" }, { name: "a", label: "y" }, [], { label: "UPDATE" }],
    ["a replaceOnChanges field that changed is an UPDATE_REPLACE", { name: "a" }, { name: "b" }, [], { name: "UPDATE_REPLACE" }],
    ["a field set for the first time is an ADD", { name: "a" }, { name: "a", label: "y" }, [], { label: "ADD" }],
    ["a field removed is a DELETE", { name: "a", label: "x" }, { name: "a" }, [], { label: "DELETE" }],
    ["a replace reason of the provider's own replaces even without replaceOnChanges", { name: "a", label: "x" }, { name: "a", label: "y" }, ["label"], { label: "UPDATE_REPLACE" }],
    ["nothing changed is no entry", { name: "a", label: "x" }, { name: "a", label: "x" }, [], {}],
  ] as const)("%s", (_, olds, news, replaces, kinds) => {
    const diffs = propertyDiffs(shape, olds, news, replaces);
    expect(Object.fromEntries(Object.entries(diffs).map(([key, diff]) => [key, diff.kind]))).toEqual(kinds);
    expect(Object.values(diffs).every((diff) => diff.inputDiff)).toBe(true);
  });

  it("ignores recorded outputs and engine keys that are not input fields", () => {
    const olds = { tunnelId: "tnl_1", rotation: "1", token: "secret", __provider: "old" };
    expect(propertyDiffs(tunnelTokenSchema.inputs.shape, olds, { tunnelId: "tnl_1", rotation: "1", __provider: "new" }, [])).toEqual({});
  });

  it("names a token rotation as an UPDATE of rotation, from the schema's metadata", () => {
    expect(propertyDiffs(tunnelTokenSchema.inputs.shape, { tunnelId: "tnl_1", rotation: "1" }, { tunnelId: "tnl_1", rotation: "2" }, [])).toEqual({ rotation: { kind: "UPDATE", inputDiff: true } });
  });
});
