import { fieldsWhere, type FieldShape } from "../core/schemas/field";

/** The engine's PropertyDiff kinds (pulumirpc.PropertyDiff.Kind), by name. */
export type PropertyDiffKind = "ADD" | "ADD_REPLACE" | "DELETE" | "DELETE_REPLACE" | "UPDATE" | "UPDATE_REPLACE";

export interface PropertyDiff {
  kind: PropertyDiffKind;
  /** Always true here: the comparison is between recorded and new inputs. */
  inputDiff: true;
}

const absent = (value: unknown): boolean => value === undefined || value === null;
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * What `pulumi preview` prints per property (`~ rotation: "1" => "2"`): every input field of the
 * kind whose new value differs from the recorded one, replacing when the field's metadata says
 * `replaceOnChanges` or the provider's own diff named it a replace reason (a renewal, say).
 */
export function propertyDiffs(shape: FieldShape, olds: Record<string, unknown>, news: Record<string, unknown>, replaces: readonly string[]): Record<string, PropertyDiff> {
  const replacing = new Set([...fieldsWhere(shape, (meta) => meta.replaceOnChanges === true), ...replaces]);
  const keys = new Set([...Object.keys(shape).filter((key) => !same(olds[key], news[key])), ...replaces]);
  const diffs: Record<string, PropertyDiff> = {};
  for (const key of keys) {
    const change = absent(olds[key]) ? "ADD" : absent(news[key]) ? "DELETE" : "UPDATE";
    diffs[key] = { kind: replacing.has(key) ? `${change}_REPLACE` : change, inputDiff: true };
  }
  return diffs;
}
