import { z } from "zod";

/**
 * What a field means to Pulumi and to a reader, declared once beside its validation. schema.json,
 * the reference docs, secret handling and diff behaviour are all derived from this.
 */
export interface FieldMeta {
  description: string;
  /** Stored encrypted in state and masked in output. */
  secret?: boolean;
  /** A change replaces the resource instead of updating it. */
  replaceOnChanges?: boolean;
  /** Computed by the provider's check from other inputs and the clock; not set by users. */
  derived?: boolean;
}

export const fieldMetadata = z.registry<FieldMeta>();

export function field<T extends z.ZodType>(schema: T, meta: FieldMeta): T {
  fieldMetadata.add(schema, meta);
  return schema;
}

export type FieldShape = Record<string, z.ZodType>;

declare const DERIVED: unique symbol;
/** A field check computes (marked `derived`); the brand keeps it out of the Args users write. */
export type DerivedField<T extends z.ZodType> = T & { readonly [DERIVED]: true };

export function derivedField<T extends z.ZodType>(schema: T, meta: Omit<FieldMeta, "derived">): DerivedField<T> {
  // The brand exists only in the type: at run time the metadata's `derived` says the same.
  return field(schema, { ...meta, derived: true }) as DerivedField<T>;
}

export function metaOf(schema: z.ZodType, key: string): FieldMeta {
  const meta = fieldMetadata.get(schema);
  if (!meta) throw new Error(`field ${key} has no metadata: declare it with field()`);
  return meta;
}

/** Names of the fields of a shape whose metadata matches a predicate. */
export function fieldsWhere(shape: FieldShape, predicate: (meta: FieldMeta) => boolean): string[] {
  return Object.entries(shape)
    .filter(([key, schema]) => predicate(metaOf(schema, key)))
    .map(([key]) => key);
}

/**
 * A resource's contract: the inputs users set (validated in check), the inputs check derives,
 * and the outputs the provider returns.
 */
export interface ResourceSchema<I extends FieldShape = FieldShape, O extends FieldShape = FieldShape, N extends string = string> {
  /** Type token suffix, e.g. `Tunnel` in `pulumi-nodejs:dynamic/mcp-tunnels:Tunnel`. */
  typeName: N;
  inputs: z.ZodObject<I>;
  outputs: z.ZodObject<O>;
  /** Rules across fields, applied to the known inputs (a field still unknown in preview is absent). */
  rules?: CrossFieldRule[];
}

type SettableKeys<S extends FieldShape> = { [K in keyof S]: S[K] extends { readonly [DERIVED]: true } ? never : K }[keyof S];

/** The inputs a user sets (before defaults), without those check derives. */
export type SettableInputs<R extends ResourceSchema> = Pick<z.input<R["inputs"]>, Extract<SettableKeys<R["inputs"]["shape"]>, keyof z.input<R["inputs"]>>>;

/**
 * What the engine holds for a custom resource after create: its inputs after check (defaults and
 * derived fields included) echoed back, and the outputs the provider adds.
 */
export type ResourceState<R extends ResourceSchema> = Omit<z.output<R["inputs"]>, keyof z.output<R["outputs"]>> & z.output<R["outputs"]>;

export interface RuleFailure {
  property: string;
  reason: string;
}
export type CrossFieldRule = (known: Record<string, unknown>) => RuleFailure[];

export const TYPE_MODULE = "mcp-tunnels";
export const typeToken = (typeName: string): string => `pulumi-nodejs:dynamic/${TYPE_MODULE}:${typeName}`;
/** The package's own token for a type (`mcp-tunnels:index:Tunnel`): schema.json's and the native provider's. */
export const schemaToken = (typeName: string): string => `${TYPE_MODULE}:index:${typeName}`;

/** Shared messages: they name the fix and never echo the value (it may be a secret). */
export const messages = {
  tunnelId: "must be a tunnel id: tnl_ followed by 24 base58 characters, as shown in the console or a Tunnel's tunnelId output",
  days: (what: string, max: number) => `${what} must be a whole number of days between 1 and ${max}`,
} as const;
