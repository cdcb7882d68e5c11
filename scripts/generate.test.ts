import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { field, schemaToken, type ResourceSchema } from "../core/schemas/field";
import { COMPONENT_SCHEMAS, RESOURCE_SCHEMAS } from "../core/schemas/index";
import { COMPONENT_TYPE } from "../core/schemas/tunnel-deployment";
import { generateDocs } from "./docs-generator";
import { constructorStatement, generatedDocs, generatedSchema, readSources, repoRoot, SCHEMA_FILE, staleDocs } from "./generate-files";
import { generateNodejsSdk, hermeticPulumiEnv } from "./generate-sdks";
import { generateSchemaJson, packageModel, packageSpec, type GeneratorSources, type ResourceModel } from "./schema-generator";

const run = promisify(execFile);
const ROOT = repoRoot(__dirname);
const PULUMI = path.join(ROOT, ".tools", "pulumi", "bin", "pulumi");

function firstDifference(committed: string, generated: string): string {
  const a = committed.split("\n");
  const b = generated.split("\n");
  const line = a.findIndex((text, i) => text !== b[i]);
  const at = line === -1 ? a.length : line;
  return `line ${at + 1}:\n    committed: ${a[at]?.trim() ?? "(end of file)"}\n    generated: ${b[at]?.trim() ?? "(end of file)"}`;
}

describe("generated files", () => {
  it("schema.json and docs/reference are exactly what the generators make from the zod schemas and the resource prose", () => {
    const docs = generatedDocs(ROOT);
    const problems: string[] = [];
    for (const [file, generated] of [...generatedSchema(ROOT), ...docs]) {
      const target = path.join(ROOT, file);
      if (!fs.existsSync(target)) problems.push(`${file}: missing`);
      else if (fs.readFileSync(target, "utf8") !== generated) problems.push(`${file}, ${firstDifference(fs.readFileSync(target, "utf8"), generated)}`);
    }
    for (const file of staleDocs(ROOT, docs)) problems.push(`${file}: no longer generated (its resource is gone)`);
    if (problems.length > 0) {
      expect.fail(`generated files are out of date with core/schemas and sdk/resources/*.md:\n  ${problems.join("\n  ")}\nRun \`make generate\` and commit the result.`);
    }
  });

  it("generates the same bytes on every run", () => {
    const sources = readSources(ROOT);
    expect(generateSchemaJson(sources)).toBe(generateSchemaJson(readSources(ROOT)));
    expect([...generateDocs({ ...sources, examples: new Map() })]).toEqual([...generateDocs({ ...readSources(ROOT), examples: new Map() })]);
  });
});

describe("the schema model of the real resources", () => {
  const model = packageModel(readSources(ROOT));
  const resource = (typeName: string): ResourceModel => model.resources.find((r) => r.typeName === typeName)!;
  const names = (fields: { name: string }[]): string[] => fields.map((f) => f.name);

  it("covers every resource and component in core/schemas/index.ts", () => {
    expect(names(model.resources.map((r) => ({ name: r.typeName })))).toEqual([...RESOURCE_SCHEMAS, ...COMPONENT_SCHEMAS].map((s) => s.typeName));
    expect(model.resources.filter((r) => r.isComponent).map((r) => r.typeName)).toEqual(COMPONENT_SCHEMAS.map((s) => s.typeName));
  });

  it("names the component in schema.json as it is recorded in state", () => {
    expect(resource("TunnelDeployment").token).toBe(COMPONENT_TYPE);
  });

  it.each([
    ["TunnelToken", "rotateAt"],
    ["CertificateAuthority", "renewAt"],
    ["ServerCertificate", "renewAt"],
  ])("keeps %s.%s, which check derives, out of the inputs and lists it as an output", (typeName, name) => {
    expect(names(resource(typeName).inputs)).not.toContain(name);
    expect(names(resource(typeName).derived)).toEqual([name]);
    expect(names(resource(typeName).outputs)).toContain(name);
  });

  it.each([
    // resource, field, required, default, secret, replaceOnChanges
    ["Tunnel", "displayName", true, undefined, false, true],
    ["Tunnel", "adoptTunnelId", false, undefined, false, true],
    ["TunnelToken", "rotation", false, undefined, false, false],
    ["CertificateAuthority", "keyAlgorithm", false, "ECDSA_P256", false, true],
    ["CertificateAuthority", "validityDays", false, 1825, false, true],
    ["ServerCertificate", "caPrivateKeyPem", true, undefined, true, true],
    ["FederationRuleBinding", "workspaceRole", false, "workspace_developer", false, false],
  ] as const)("takes %s.%s from its field metadata", (typeName, name, required, defaultValue, secret, replaceOnChanges) => {
    const input = resource(typeName).inputs.find((f) => f.name === name)!;
    expect({ required: input.required, default: input.default, secret: input.secret, replaceOnChanges: input.replaceOnChanges }).toEqual({
      required,
      default: defaultValue,
      secret,
      replaceOnChanges,
    });
  });

  it("echoes every input as an output, present after check when required or defaulted, and secret when the input is", () => {
    const ca = resource("CertificateAuthority").outputs;
    const validityDays = ca.find((f) => f.name === "validityDays")!;
    expect({ required: validityDays.required, hasDefault: "default" in validityDays }).toEqual({ required: true, hasDefault: false });
    expect(ca.find((f) => f.name === "rotation")).toMatchObject({ required: false });
    expect(resource("ServerCertificate").outputs.find((f) => f.name === "caPrivateKeyPem")).toMatchObject({ secret: true, required: true });
    expect(resource("TunnelToken").outputs.find((f) => f.name === "token")).toMatchObject({ secret: true, required: true });
  });

  it("maps a whole number to integer, an enum to a shared type and string | number to oneOf", () => {
    const spec = packageSpec(model) as { resources: Record<string, { inputProperties: Record<string, unknown> }>; types: Record<string, unknown> };
    const ca = spec.resources[schemaToken("CertificateAuthority")]!.inputProperties;
    expect(ca.validityDays).toMatchObject({ type: "integer", default: 1825 });
    expect(ca.keyAlgorithm).toMatchObject({ $ref: `#/types/${schemaToken("KeyAlgorithm")}` });
    expect(ca.rotation).toMatchObject({ oneOf: [{ type: "string" }, { type: "number" }] });
    expect(spec.types[schemaToken("WorkspaceRole")]).toMatchObject({ type: "string", enum: expect.arrayContaining([{ value: "workspace_developer", name: "WorkspaceDeveloper" }]) });
  });
});

describe("zod to Pulumi types", () => {
  const sources = (schemas: ResourceSchema[], typeNames: Record<string, string> = {}): GeneratorSources => ({
    info: { version: "1.2.3", description: "test", license: "Apache-2.0", npmPackage: "test" },
    resources: schemas.map((schema) => ({ schema, isComponent: false, prose: `${schema.typeName} prose` })),
    typeNames,
  });
  const route = z.strictObject({
    upstream: field(z.string(), { description: "Where to forward." }),
    mcpPath: field(z.string().default("/mcp"), { description: "The MCP path." }),
  });
  const deployment: ResourceSchema = {
    typeName: "Deployment",
    inputs: z.strictObject({
      routes: field(z.record(z.string(), z.union([z.string(), route])), { description: "Routes." }),
      ips: field(z.array(z.string()).optional(), { description: "Addresses." }),
      values: field(z.record(z.string(), z.unknown()).optional(), { description: "Anything." }),
    }),
    outputs: z.object({ urls: field(z.record(z.string(), z.string()), { description: "URLs." }) }),
  };

  it("turns a nested object into a shared type named in SHARED_TYPE_NAMES, and maps records, arrays and unknowns", () => {
    const spec = packageSpec(packageModel(sources([deployment], { "Deployment.routes": "RouteSpec" }))) as {
      resources: Record<string, { inputProperties: Record<string, unknown>; requiredInputs: string[] }>;
      types: Record<string, unknown>;
    };
    const inputs = spec.resources[schemaToken("Deployment")]!;
    expect(inputs.inputProperties.routes).toMatchObject({
      type: "object",
      additionalProperties: { oneOf: [{ type: "string" }, { $ref: `#/types/${schemaToken("RouteSpec")}` }] },
    });
    expect(inputs.inputProperties.ips).toMatchObject({ type: "array", items: { type: "string" } });
    expect(inputs.inputProperties.values).toMatchObject({ type: "object", additionalProperties: { $ref: "pulumi.json#/Any" } });
    expect(inputs.requiredInputs).toEqual(["routes"]);
    expect(spec.types[schemaToken("RouteSpec")]).toEqual({
      type: "object",
      properties: { upstream: { type: "string", description: "Where to forward." }, mcpPath: { type: "string", description: "The MCP path.", default: "/mcp" } },
      required: ["upstream"],
    });
  });

  it("refuses two different types under one name, naming both places and the fix", () => {
    const other: ResourceSchema = {
      typeName: "Other",
      inputs: z.strictObject({ routes: field(z.strictObject({ host: field(z.string(), { description: "Host." }) }), { description: "Other routes." }) }),
      outputs: z.object({}),
    };
    expect(() => packageModel(sources([deployment, other]))).toThrow(/shared type Routes is declared differently at Deployment\.routes and at Other\.routes: .*SHARED_TYPE_NAMES/);
  });

  it("refuses a top-level field without metadata", () => {
    const bare: ResourceSchema = { typeName: "Bare", inputs: z.strictObject({ name: z.string() }), outputs: z.object({}) };
    expect(() => packageModel(sources([bare]))).toThrow("Bare.name has no metadata: declare it with field()");
  });
});

describe("examples in the docs", () => {
  it("takes the whole statement that constructs the resource, ignoring brackets in strings and comments", () => {
    const source = [
      "export function program() {",
      "  const config = new pulumi.Config();",
      "  // the CA's rotation (a quote in a comment)",
      "  const deployment = new TunnelDeployment(\"demo\", {",
      "    displayName: `demo-${pulumi.getStack()}`, // no ) here",
      "    routes: { mcp: \"http://10.0.0.5:8080\" },",
      "    ca: { rotation: config.get(\"caRotation\") ?? \")\" },",
      "  });",
      "  return deployment;",
      "}",
    ].join("\n");
    expect(constructorStatement(source, "TunnelDeployment")).toBe(
      [
        "const deployment = new TunnelDeployment(\"demo\", {",
        "  displayName: `demo-${pulumi.getStack()}`, // no ) here",
        "  routes: { mcp: \"http://10.0.0.5:8080\" },",
        "  ca: { rotation: config.get(\"caRotation\") ?? \")\" },",
        "});",
      ].join("\n"),
    );
    expect(constructorStatement(source, "Tunnel")).toBeUndefined();
  });
});

interface InfoProperty {
  name: string;
  required: boolean;
}

/** The Inputs/Outputs lists of `pulumi package info --resource`: ` - name (type*): description`. */
function parseInfo(text: string): { inputs: InfoProperty[]; outputs: InfoProperty[] } {
  const section = (title: string): InfoProperty[] => {
    const body = text.split(`\n${title}:\n`)[1]?.split(/\n\S/)[0] ?? "";
    return [...body.matchAll(/^ - (\w+) \((.*?)(\*?)\)/gm)].map((m) => ({ name: m[1]!, required: m[3] === "*" })).sort((a, b) => a.name.localeCompare(b.name));
  };
  return { inputs: section("Inputs"), outputs: section("Outputs") };
}

const asInfo = (fields: { name: string; required: boolean }[]): InfoProperty[] =>
  fields.map(({ name, required }) => ({ name, required })).sort((a, b) => a.name.localeCompare(b.name));

/** Empty lists and objects carry no meaning in a schema; the engine drops them when it writes one back. */
function withoutEmpty(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutEmpty);
  if (value && typeof value === "object") {
    const entries = Object.entries(value)
      .map(([k, v]) => [k, withoutEmpty(v)] as const)
      .filter(([, v]) => !(Array.isArray(v) && v.length === 0) && !(v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0));
    return Object.fromEntries(entries);
  }
  return value;
}

describe("schema.json on the real Pulumi CLI", () => {
  let dir: string;
  let schemaFile: string;
  let env: NodeJS.ProcessEnv;
  const model = packageModel(readSources(ROOT));
  const pulumi = async (...args: string[]): Promise<string> => (await run(PULUMI, args, { env, maxBuffer: 16 << 20 })).stdout;

  beforeAll(() => {
    if (!fs.existsSync(PULUMI)) throw new Error(`no Pulumi CLI at ${PULUMI}: run \`make toolchain\``);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "mcp-tunnels-schema-"));
    fs.mkdirSync(path.join(dir, "home"));
    env = hermeticPulumiEnv(path.join(dir, "home"));
    schemaFile = path.join(dir, SCHEMA_FILE);
    fs.writeFileSync(schemaFile, generatedSchema(ROOT).get(SCHEMA_FILE)!);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("binds it and, writing it back with `pulumi package get-schema`, keeps every field we wrote", async () => {
    const written = JSON.parse(fs.readFileSync(schemaFile, "utf8"));
    const boundAndWritten = JSON.parse(await pulumi("package", "get-schema", schemaFile));
    expect(withoutEmpty(boundAndWritten)).toEqual(withoutEmpty(written));
  });

  it("lists, per resource, the same inputs and outputs and the same required ones as the zod schemas (`pulumi package info`)", async () => {
    for (const resource of model.resources) {
      const info = parseInfo(await pulumi("package", "info", schemaFile, "--resource", resource.typeName));
      expect({ resource: resource.typeName, ...info }).toEqual({ resource: resource.typeName, inputs: asInfo(resource.inputs), outputs: asInfo(resource.outputs) });
    }
  });

  it("generates a Node.js SDK with Pulumi's code generator whose classes have our property names", { timeout: 300_000 }, async () => {
    const outDir = path.join(dir, "sdk");
    const sdk = await generateNodejsSdk({ pulumi: PULUMI, schemaFile, outDir, home: path.join(dir, "home") });
    for (const resource of model.resources) {
      const file = path.join(sdk.dir, `${resource.typeName.charAt(0).toLowerCase()}${resource.typeName.slice(1)}.ts`);
      const source = fs.readFileSync(file, "utf8");
      const outputs = [...source.matchAll(/^\s+declare public (?:\/\*out\*\/ )?readonly (\w+)!?: pulumi\.Output<(.*)>;$/gm)].map((m) => ({
        name: m[1]!,
        required: !m[2]!.endsWith("| undefined"),
      }));
      const args = source.split(`export interface ${resource.typeName}Args {`)[1]?.split("\n}")[0] ?? "";
      const inputs = [...args.matchAll(/^\s+(\w+)(\??): /gm)].map((m) => ({ name: m[1]!, required: m[2] !== "?" }));
      expect({ via: sdk.via, resource: resource.typeName, inputs: asInfo(inputs), outputs: asInfo(outputs) }).toEqual({
        via: sdk.via,
        resource: resource.typeName,
        inputs: asInfo(resource.inputs),
        outputs: asInfo(resource.outputs),
      });
    }
    const inputTypes = fs.readFileSync(path.join(sdk.dir, "types", "input.ts"), "utf8");
    for (const type of [...model.types.values()].filter((t) => t.kind === "object")) {
      const body = inputTypes.split(`export interface ${type.name}Args {`)[1]?.split("\n}")[0] ?? "";
      const fields = [...body.matchAll(/^\s+(\w+)(\??): /gm)].map((m) => ({ name: m[1]!, required: m[2] !== "?" }));
      expect({ type: type.name, fields: asInfo(fields) }).toEqual({ type: type.name, fields: asInfo(type.fields) });
    }
  });
});
