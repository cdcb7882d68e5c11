import { z } from "zod";
import { KEY_ALGORITHMS, type KeyAlgorithm } from "../contract/key-algorithms";
import { derivedField, field, type CrossFieldRule } from "./field";

export const MAX_VALIDITY_DAYS = 3650;

export const keyAlgorithm = (what: string) =>
  field(
    z
      .enum(KEY_ALGORITHMS as [KeyAlgorithm, ...KeyAlgorithm[]], {
        error: `keyAlgorithm must be one of ${KEY_ALGORITHMS.join(", ")}`,
      })
      .default("ECDSA_P256"),
    { description: `Key type of the ${what}: one of ${KEY_ALGORITHMS.join(", ")}. A change issues a new ${what}.`, replaceOnChanges: true },
  );

export const wholeDays = (name: string, defaultDays: number, description: string) =>
  field(
    z
      .number({ error: `${name} must be a number of days` })
      .int(`${name} must be a whole number of days`)
      .min(1, `${name} must be at least 1 day`)
      .max(MAX_VALIDITY_DAYS, `${name} must be at most ${MAX_VALIDITY_DAYS} days (10 years)`)
      .default(defaultDays),
    { description, replaceOnChanges: true },
  );

export const rotation = (what: string, replaces: boolean) =>
  field(z.union([z.string(), z.number()], { error: "rotation must be a string or a number" }).optional(), {
    description: `Any value; changing it ${replaces ? "issues a new" : "rotates the"} ${what} on the next \`pulumi up\` (e.g. a date or a counter), and the preview shows it.`,
    replaceOnChanges: replaces,
  });

export const renewAt = (what: string) =>
  derivedField(z.string().datetime({ offset: true, error: "renewAt is computed by the provider; do not set it" }).optional(), {
    description: `When the ${what} is due for renewal: validity minus renewBeforeDays. Computed at preview from the clock; once it has passed, the preview plans a replacement with renewAt as the reason.`,
    replaceOnChanges: true,
  });

export const pemOutput = (description: string, secret = false) => field(z.string(), { description, ...(secret ? { secret } : {}) });

export const renewalWindowRule =
  (what: string): CrossFieldRule =>
  (known) =>
    typeof known.renewBeforeDays === "number" && typeof known.validityDays === "number" && known.renewBeforeDays >= known.validityDays
      ? [{ property: "renewBeforeDays", reason: `renewBeforeDays must be smaller than validityDays, or the ${what} would be due for renewal as soon as it is issued` }]
      : [];
