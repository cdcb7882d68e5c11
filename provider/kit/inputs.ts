import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { SERIALIZED_PROVIDER_KEY, UNKNOWN } from "../../core/schemas/engine-values";
import { fieldsWhere, type FieldShape, type ResourceSchema } from "../../core/schemas/field";
import { ResourceOperationError } from "./errors";


export type Props = Record<string, unknown>;

export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

export interface CheckedInputs<T> {
  /** Validated inputs with defaults applied; unknown fields passed through untouched. */
  inputs: Props;
  /** The known, validated values (unknown fields absent). */
  known: Partial<T>;
  unknownKeys: Set<string>;
  failures: pulumi.dynamic.CheckFailure[];
}

/**
 * Validates user inputs against the resource's zod schema. Fields still unknown in preview are
 * skipped, every failure names its property, and no message repeats the value.
 */
export function checkInputs<S extends FieldShape>(resource: ResourceSchema<S>, news: Props): CheckedInputs<z.output<z.ZodObject<S>>> {
  const schema = resource.inputs;
  const given: Props = {};
  const unknownKeys = new Set<string>();
  for (const [key, value] of Object.entries(news)) {
    if (key === SERIALIZED_PROVIDER_KEY || value === undefined || value === null) continue;
    if (containsUnknown(value)) unknownKeys.add(key);
    else given[key] = value;
  }
  const mask = Object.fromEntries([...unknownKeys].filter((key) => key in schema.shape).map((key) => [key, true as const]));
  const result = schema.partial(mask as never).safeParse(given, { reportInput: false });
  if (!result.success) {
    const failures = result.error.issues.map((issue) => failureFrom(issue));
    return { inputs: stripUndefined({ ...given, ...unknownOnly(news, unknownKeys) }), known: {}, unknownKeys, failures };
  }
  const known = result.data as Partial<z.output<z.ZodObject<S>>>;
  const failures = (resource.rules ?? []).flatMap((rule) => rule(known as Record<string, unknown>));
  return { inputs: stripUndefined({ ...known, ...unknownOnly(news, unknownKeys) }), known, unknownKeys, failures };
}

/** A kind's input values as its schema types them, with the derived fields `derived` names present. */
export type EngineInputs<S extends FieldShape, K extends keyof z.output<z.ZodObject<S>> = never> = z.output<z.ZodObject<S>> & {
  [P in K]-?: NonNullable<z.output<z.ZodObject<S>>[P]>;
};

/**
 * The inputs the engine passes to create or update, typed from the kind's schema. They are what
 * check returned, so parsing them again changes nothing but the type: fields outside the schema
 * (`__provider`, a hidden input such as the Tunnel's `resourceUrn`) are left out of the typed
 * value, which the provider reads, not of the props it records. `derived` names the fields check
 * computes that the operation needs. Anything else is a bug, reported as INPUTS_NOT_CHECKED.
 */
export function engineInputs<S extends FieldShape, const K extends keyof z.output<z.ZodObject<S>> = never>(
  resource: ResourceSchema<S>,
  operation: "create" | "update",
  props: Props,
  derived: readonly K[] = [],
): EngineInputs<S, K> {
  // Not strict: the engine's own keys and hidden inputs are there beside the schema's fields.
  const result = z.object(resource.inputs.shape).safeParse(props, { reportInput: false });
  const problems = result.success
    ? derived.filter((key) => result.data[key] === undefined || result.data[key] === null).map((key) => `${String(key)} was not derived`)
    : result.error.issues.map((issue) => failureFrom(issue).reason);
  if (result.success && hasEvery(result.data, derived)) return result.data;
  throw new ResourceOperationError({
    resource: resource.typeName,
    operation,
    code: "INPUTS_NOT_CHECKED",
    message: `${resource.typeName} ${operation} failed: its inputs are not what check returns (${problems.join("; ")})`,
    hint: "run pulumi preview to see what check says, and report this if the preview passes",
  });
}

function hasEvery<T, K extends keyof T>(value: T, keys: readonly K[]): value is T & { [P in K]-?: NonNullable<T[P]> } {
  return keys.every((key) => value[key] !== undefined && value[key] !== null);
}

function failureFrom(issue: z.core.$ZodIssue): pulumi.dynamic.CheckFailure {
  if (issue.code === "unrecognized_keys") {
    return { property: issue.keys[0] ?? "", reason: `unknown input ${issue.keys.join(", ")}: remove it (check the spelling against the reference docs)` };
  }
  const property = issue.path.map(String).join(".");
  const named = issue.message.startsWith(`${property} `) ? issue.message : `${property}: ${issue.message}`;
  return { property, reason: named };
}

function unknownOnly(news: Props, keys: Set<string>): Props {
  return Object.fromEntries([...keys].map((key) => [key, news[key]]));
}

function stripUndefined(props: Props): Props {
  return Object.fromEntries(Object.entries(props).filter(([, value]) => value !== undefined));
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * Compares recorded outputs with new inputs on input fields only (the serialized provider is not
 * an input a user changes: a package upgrade must not plan an update). Replace reasons are the
 * fields whose metadata says a change replaces.
 */
export function diffInputs(shape: FieldShape, olds: Props, news: Props): pulumi.dynamic.DiffResult {
  const changed = Object.keys(shape).filter((key) => !same(olds[key], news[key]));
  const replaceable = new Set(fieldsWhere(shape, (meta) => meta.replaceOnChanges === true));
  const replaces = changed.filter((key) => replaceable.has(key));
  return { changes: changed.length > 0, replaces, deleteBeforeReplace: false };
}

export function changedFields(shape: FieldShape, olds: Props, news: Props): string[] {
  return Object.keys(shape).filter((key) => !same(olds[key], news[key]));
}

/**
 * Whether a change other than `except` would replace the resource: a new resource, or a
 * replace-on-change field that differs (or is still unknown) compared with the recorded inputs.
 */
export function replacingChange(shape: FieldShape, olds: Props, news: Props, except: string[]): boolean {
  if (Object.keys(olds).filter((key) => key !== SERIALIZED_PROVIDER_KEY).length === 0) return true;
  const replaceable = fieldsWhere(shape, (meta) => meta.replaceOnChanges === true).filter((key) => !except.includes(key));
  return replaceable.some((key) => !same(olds[key], news[key]));
}

/** The input fields of recorded outputs: what `read` hands back so a refresh plans nothing. */
export function inputsFrom(shape: FieldShape, props: Props): Props {
  return Object.fromEntries(Object.keys(shape).filter((key) => props[key] !== undefined).map((key) => [key, props[key]]));
}
