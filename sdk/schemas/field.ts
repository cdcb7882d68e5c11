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
export interface ResourceSchema<I extends FieldShape = FieldShape, O extends FieldShape = FieldShape> {
  /** Type token suffix, e.g. `Tunnel` in `pulumi-nodejs:dynamic/mcp-tunnels:Tunnel`. */
  typeName: string;
  inputs: z.ZodObject<I>;
  outputs: z.ZodObject<O>;
  /** Rules across fields, applied to the known inputs (a field still unknown in preview is absent). */
  rules?: CrossFieldRule[];
}

export interface RuleFailure {
  property: string;
  reason: string;
}
export type CrossFieldRule = (known: Record<string, unknown>) => RuleFailure[];

export const TYPE_MODULE = "mcp-tunnels";
export const typeToken = (typeName: string): string => `pulumi-nodejs:dynamic/${TYPE_MODULE}:${typeName}`;

/** Shared messages: they name the fix and never echo the value (it may be a secret). */
export const messages = {
  tunnelId: "must be a tunnel id: tnl_ followed by 24 base58 characters, as shown in the console or a Tunnel's tunnelId output",
  days: (what: string, max: number) => `${what} must be a whole number of days between 1 and ${max}`,
} as const;
