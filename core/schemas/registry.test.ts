import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import * as sdk from "../../sdk/index";
import { RESOURCE_REGISTRY } from "./registry";

const ROOT = path.resolve(__dirname, "../..");
const kebab = (typeName: string) => typeName.replace(/[A-Z]/g, (c, at: number) => `${at ? "-" : ""}${c.toLowerCase()}`);

describe("the resource registry", () => {
  it.each(RESOURCE_REGISTRY.map((entry) => [entry.kind, entry] as const))("names %s after its type, and every file of the kind exists", async (kind, entry) => {
    expect(kind).toBe(kebab(entry.schema.typeName));
    expect(fs.existsSync(path.join(ROOT, "core/schemas", `${kind}.ts`))).toBe(true);
    expect(fs.existsSync(path.join(ROOT, "sdk/resources", `${kind}.ts`))).toBe(true);
    expect(fs.existsSync(path.join(ROOT, "sdk/resources", `${kind}.md`))).toBe(true);
    // The public index exports the class under the type's name.
    expect(typeof (sdk as Record<string, unknown>)[entry.schema.typeName]).toBe("function");
    if (entry.component) return;
    // The forwarding provider in state requires pulumi-mcp-tunnels/provider/<kind>.
    const module = (await import(path.join(ROOT, "provider", `${kind}.ts`))) as Record<string, unknown>;
    expect(typeof module.configure).toBe("function");
    expect(Object.keys(module.provider as object).sort()).toEqual(["check", "create", "delete", "diff", "read", "update"]);
  });

  it("lists each kind once", () => {
    const kinds = RESOURCE_REGISTRY.map((entry) => entry.kind);
    expect(new Set(kinds).size).toBe(kinds.length);
  });
});
