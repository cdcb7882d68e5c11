import { addDays, DAY_MS, type Clock } from "./clock";
import { replacingChange, type CheckedInputs, type Props } from "./inputs";
import type { FieldShape } from "../../core/schemas/field";

export interface RenewalPolicy {
  validityDays: number;
  renewBeforeDays: number;
}

/**
 * The `renewAt` input that check records: kept while it lies ahead and nothing else re-issues the
 * certificate; moved once it has passed, which the preview shows as a replacement because of
 * `renewAt`. Deciding here, from the injected clock, is what makes renewal a planned change.
 */
export function deriveRenewAt(options: { olds: Props; reissuing: boolean; policy: RenewalPolicy; clock: Clock }): string {
  const { olds, reissuing, policy, clock } = options;
  const now = clock.now();
  const recorded = typeof olds.renewAt === "string" ? Date.parse(olds.renewAt) : Number.NaN;
  if (!reissuing && Number.isFinite(recorded) && now.getTime() < recorded) return new Date(recorded).toISOString();
  return addDays(now, policy.validityDays - policy.renewBeforeDays).toISOString();
}

/** The issue time a `renewAt` was computed from, so notAfter is exactly renewAt + renewBeforeDays. */
export function issuedAtFor(renewAt: string, policy: RenewalPolicy): Date {
  return new Date(Date.parse(renewAt) - (policy.validityDays - policy.renewBeforeDays) * DAY_MS);
}

/**
 * Adds the derived `renewAt` to checked inputs once the renewal policy is known; a field still
 * unknown in preview counts as re-issuing (a new CA makes a new server certificate).
 */
export function withRenewAt(checked: CheckedInputs<RenewalPolicy>, olds: Props, shape: FieldShape, clock: Clock): Props {
  const { validityDays, renewBeforeDays } = checked.known;
  if (checked.failures.length > 0 || typeof validityDays !== "number" || typeof renewBeforeDays !== "number") return checked.inputs;
  const reissuing = replacingChange(shape, olds, checked.inputs, ["renewAt"]);
  const renewAt = deriveRenewAt({ olds, reissuing, policy: { validityDays, renewBeforeDays }, clock });
  return { ...checked.inputs, renewAt };
}
