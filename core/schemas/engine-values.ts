/**
 * Values the Pulumi engine itself puts among a resource's properties, next to the schema's fields.
 * Here, below everything that meets them (the provider kit, the plan summary, the test harness and
 * the benchmarks), so each is written once.
 */

/**
 * The engine's placeholder for a value not known until apply: what a provider's check and diff
 * receive, and what `pulumi preview --json` prints, in its place (`unknownValue` in
 * `@pulumi/pulumi/runtime`).
 */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/**
 * The property under which a dynamic resource's inputs and outputs carry its serialized provider
 * code. Not a field: a change of it is new provider code, never a change the user asked for.
 */
export const SERIALIZED_PROVIDER_KEY = "__provider";
