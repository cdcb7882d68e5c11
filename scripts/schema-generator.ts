import { z } from "zod";
import { fieldMetadata, schemaToken, TYPE_MODULE, type FieldMeta, type FieldShape, type ResourceSchema } from "../core/schemas/field";

/**
 * schema.json from the zod schemas and their field metadata. Pure: the caller reads the prose
 * and package.json, so tests regenerate in memory and compare with what is committed.
 */


export interface PackageInfo {
  version: string;
  description: string;
  license: string;
  /** The npm package the classes ship in. */
  npmPackage: string;
}

export interface ResourceSource {
  schema: ResourceSchema;
  isComponent: boolean;
  /** The sibling `sdk/resources/<kebab-name>.md`: what the resource is and what its lifecycle does on the API. */
  prose: string;
}

export interface GeneratorSources {
  info: PackageInfo;
  resources: ResourceSource[];
  /** Shared type names by field path (see SHARED_TYPE_NAMES in core/schemas/index.ts). */
  typeNames: Readonly<Record<string, string>>;
}

// The model both generators read: zod resolved once into what Pulumi and a reader need.

export type TypeModel =
  | { kind: "string" | "integer" | "number" | "boolean" | "any" }
  | { kind: "enum"; name: string; values: string[] }
  | { kind: "array"; items: TypeModel }
  | { kind: "map"; values: TypeModel }
  | { kind: "union"; options: TypeModel[] }
  | { kind: "object"; name: string; description: string; fields: FieldModel[] };

export interface FieldModel {
  name: string;
  description: string;
  type: TypeModel;
  /** Inputs: must be set (not optional, no default). Outputs: always present. */
  required: boolean;
  default?: unknown;
  secret: boolean;
  replaceOnChanges: boolean;
  /** Computed by the provider's check; never set by users. */
  derived: boolean;
}

export interface ResourceModel {
  typeName: string;
  token: string;
  isComponent: boolean;
  prose: string;
  /** What users set. */
  inputs: FieldModel[];
  /** What check computes from the inputs and the clock. */
  derived: FieldModel[];
  /** Everything the resource exposes: outputs, inputs echoed back and derived inputs. */
  outputs: FieldModel[];
}

export interface PackageModel {
  info: PackageInfo;
  resources: ResourceModel[];
  /** Shared types by name, in the order first met. */
  types: Map<string, Extract<TypeModel, { kind: "enum" | "object" }>>;
}

const pascal = (name: string): string => name.charAt(0).toUpperCase() + name.slice(1);

class SharedTypes {
  readonly byName = new Map<string, { type: Extract<TypeModel, { kind: "enum" | "object" }>; path: string }>();
  constructor(private readonly names: Readonly<Record<string, string>>) {}

  nameFor(path: string): string {
    return this.names[path] ?? pascal(path.split(".").pop()!);
  }

  /** Registers a named type; two paths may share a name only for identical types. */
  add<T extends Extract<TypeModel, { kind: "enum" | "object" }>>(type: T, path: string): T {
    const seen = this.byName.get(type.name);
    if (!seen) {
      this.byName.set(type.name, { type, path });
      return type;
    }
    if (JSON.stringify(seen.type) !== JSON.stringify(type)) {
      throw new Error(
        `shared type ${type.name} is declared differently at ${seen.path} and at ${path}: give one of them another name in SHARED_TYPE_NAMES (core/schemas/index.ts)`,
      );
    }
    return seen.type as T;
  }
}

interface Unwrapped {
  schema: z.ZodType;
  optional: boolean;
  default?: unknown;
}

function unwrap(schema: z.ZodType): Unwrapped {
  let optional = false;
  let defaultValue: unknown;
  let current: z.ZodType = schema;
  for (;;) {
    if (current instanceof z.ZodOptional || current instanceof z.ZodNullable) {
      optional = true;
      current = current.unwrap() as z.ZodType;
    } else if (current instanceof z.ZodDefault) {
      defaultValue = current.def.defaultValue;
      current = current.unwrap() as z.ZodType;
    } else {
      return { schema: current, optional, ...(defaultValue === undefined ? {} : { default: defaultValue }) };
    }
  }
}

function typeOf(schema: z.ZodType, path: string, types: SharedTypes): TypeModel {
  const { schema: inner } = unwrap(schema);
  if (inner instanceof z.ZodString) return { kind: "string" };
  if (inner instanceof z.ZodNumber) return { kind: inner.format?.includes("int") ? "integer" : "number" };
  if (inner instanceof z.ZodBoolean) return { kind: "boolean" };
  if (inner instanceof z.ZodUnknown || inner instanceof z.ZodAny) return { kind: "any" };
  if (inner instanceof z.ZodEnum) {
    return types.add({ kind: "enum", name: types.nameFor(path), values: inner.options.map(String) }, path);
  }
  if (inner instanceof z.ZodArray) return { kind: "array", items: typeOf(inner.element as z.ZodType, path, types) };
  if (inner instanceof z.ZodRecord) return { kind: "map", values: typeOf(inner.valueType as z.ZodType, path, types) };
  if (inner instanceof z.ZodUnion) return { kind: "union", options: (inner.options as z.ZodType[]).map((option) => typeOf(option, path, types)) };
  if (inner instanceof z.ZodObject) {
    const fields = fieldsOf(inner.shape as FieldShape, path, types, { nested: true });
    const meta = fieldMetadata.get(inner);
    return types.add({ kind: "object", name: types.nameFor(path), description: meta?.description ?? "", fields }, path);
  }
  throw new Error(`${path}: zod type ${inner.def.type} has no Pulumi schema type; map it in scripts/schema-generator.ts`);
}

function fieldsOf(shape: FieldShape, owner: string, types: SharedTypes, { nested }: { nested: boolean }): FieldModel[] {
  return Object.entries(shape).map(([name, schema]) => {
    const path = `${owner}.${name}`;
    // Nested properties may lean on their parent's description; top-level fields may not.
    const meta: FieldMeta | undefined = fieldMetadata.get(schema);
    if (!meta && !nested) throw new Error(`${path} has no metadata: declare it with field()`);
    const { optional, default: defaultValue } = unwrap(schema);
    return {
      name,
      description: meta?.description ?? "",
      type: typeOf(schema, path, types),
      required: !optional && defaultValue === undefined,
      ...(defaultValue === undefined ? {} : { default: defaultValue }),
      secret: meta?.secret === true,
      replaceOnChanges: meta?.replaceOnChanges === true,
      derived: meta?.derived === true,
    };
  });
}

function resourceModel(source: ResourceSource, types: SharedTypes): ResourceModel {
  const { typeName } = source.schema;
  const inputFields = fieldsOf(source.schema.inputs.shape, typeName, types, { nested: false });
  const outputFields = fieldsOf(source.schema.outputs.shape, typeName, types, { nested: false });
  const inputs = inputFields.filter((f) => !f.derived);
  const derived = inputFields.filter((f) => f.derived);

  // A dynamic provider's outputs are its inputs after check plus what it adds; a component's
  // are only what it registers.
  const echoed = source.isComponent ? [] : inputFields;
  const outputNames = new Set(outputFields.map((f) => f.name));
  const byName = new Map(echoed.map((f) => [f.name, f]));
  const outputs: FieldModel[] = [
    ...outputFields.map((out) => {
      const input = byName.get(out.name);
      return input ? { ...out, secret: out.secret || input.secret, replaceOnChanges: input.replaceOnChanges, derived: input.derived } : out;
    }),
    ...echoed
      .filter((input) => !outputNames.has(input.name))
      .map((input) => {
        // After check, a defaulted input is always present; a derived one only when computed.
        const { default: _default, ...rest } = input;
        return { ...rest, required: !input.derived && (input.required || input.default !== undefined) };
      }),
  ];
  return { typeName, token: schemaToken(typeName), isComponent: source.isComponent, prose: source.prose.trim(), inputs, derived, outputs };
}

export function packageModel(sources: GeneratorSources): PackageModel {
  const types = new SharedTypes(sources.typeNames);
  const resources = sources.resources.map((source) => resourceModel(source, types));
  return { info: sources.info, resources, types: new Map([...types.byName].map(([name, { type }]) => [name, type])) };
}

// Pulumi package schema (https://www.pulumi.com/docs/iac/extending-pulumi/schema/).

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Spec = { [key: string]: Json };

const typeRef = (name: string): string => `#/types/${schemaToken(name)}`;

function typeSpec(type: TypeModel): Spec {
  switch (type.kind) {
    case "string":
    case "integer":
    case "number":
    case "boolean":
      return { type: type.kind };
    case "any":
      return { $ref: "pulumi.json#/Any" };
    case "enum":
    case "object":
      return { $ref: typeRef(type.name) };
    case "array":
      return { type: "array", items: typeSpec(type.items) };
    case "map":
      return { type: "object", additionalProperties: typeSpec(type.values) };
    case "union":
      return { oneOf: type.options.map(typeSpec) };
  }
}

/** Pulumi allows a constant default only for booleans, numbers and strings. */
const isConstant = (value: unknown): value is string | number | boolean => ["string", "number", "boolean"].includes(typeof value);

function propertySpec(field: FieldModel): Spec {
  return {
    ...typeSpec(field.type),
    ...(field.description ? { description: field.description } : {}),
    ...(isConstant(field.default) ? { default: field.default } : {}),
    ...(field.secret ? { secret: true } : {}),
    ...(field.replaceOnChanges ? { replaceOnChanges: true } : {}),
  };
}

const propertiesSpec = (fields: FieldModel[]): Spec => Object.fromEntries(fields.map((f) => [f.name, propertySpec(f)]));
const requiredNames = (fields: FieldModel[]): string[] => fields.filter((f) => f.required).map((f) => f.name);

function resourceSpec(resource: ResourceModel): Spec {
  return {
    description: resource.prose,
    ...(resource.isComponent ? { isComponent: true } : {}),
    inputProperties: propertiesSpec(resource.inputs),
    requiredInputs: requiredNames(resource.inputs),
    properties: propertiesSpec(resource.outputs),
    required: requiredNames(resource.outputs),
  };
}

/** SDK constant names: `workspace_developer` → `WorkspaceDeveloper`; constant-case values name themselves. */
const enumValueName = (value: string): string | undefined =>
  /^[A-Z0-9_]+$/.test(value) ? undefined : value.split(/[^A-Za-z0-9]+/).filter(Boolean).map(pascal).join("");

function sharedTypeSpec(type: Extract<TypeModel, { kind: "enum" | "object" }>): Spec {
  if (type.kind === "enum") {
    return { type: "string", enum: type.values.map((value) => ({ value, ...(enumValueName(value) ? { name: enumValueName(value)! } : {}) })) };
  }
  return {
    type: "object",
    ...(type.description ? { description: type.description } : {}),
    properties: propertiesSpec(type.fields),
    required: requiredNames(type.fields),
  };
}

export function packageSpec(model: PackageModel): Spec {
  return {
    name: TYPE_MODULE,
    displayName: "MCP Tunnels",
    version: model.info.version,
    description: model.info.description,
    license: model.info.license,
    keywords: ["pulumi", "anthropic", "mcp", "tunnels"],
    language: { nodejs: { packageName: model.info.npmPackage } },
    resources: Object.fromEntries(model.resources.map((r) => [r.token, resourceSpec(r)])),
    types: Object.fromEntries([...model.types.values()].map((t) => [schemaToken(t.name), sharedTypeSpec(t)])),
  };
}

/** Keys sorted at every level (arrays keep their order), two-space indent, final newline: diffs stay readable. */
export function canonicalJson(value: unknown): string {
  const sorted = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sorted)
      : v && typeof v === "object"
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])]))
        : v;
  return `${JSON.stringify(sorted(value), null, 2)}\n`;
}

export function generateSchemaJson(sources: GeneratorSources): string {
  return canonicalJson(packageSpec(packageModel(sources)));
}
