import { z } from "zod";
import { MAX_ROTATE_REASON_CHARS, TUNNEL_ID_PATTERN } from "../contract/tunnels-api";
import { DAY_MS } from "../contract/time";
import { derivedField, field, messages, type ResourceSchema } from "./field";
import { MAX_VALIDITY_DAYS, rotation } from "./shared-fields";

const inputs = z.strictObject({
  tunnelId: field(z.string({ error: `tunnelId is required: ${messages.tunnelId}` }).regex(TUNNEL_ID_PATTERN, `tunnelId ${messages.tunnelId}`), {
    description: "The tunnel whose connector token this is (a Tunnel's `tunnelId`).",
    replaceOnChanges: true,
  }),
  rotation: rotation("token", false),
  rotateEveryDays: field(
    z
      .number({ error: "rotateEveryDays must be a number of days" })
      .int("rotateEveryDays must be a whole number of days")
      .min(1, "rotateEveryDays must be at least 1 day")
      .max(MAX_VALIDITY_DAYS, `rotateEveryDays must be at most ${MAX_VALIDITY_DAYS} days`)
      .optional(),
    { description: "Rotate the token automatically this many days after the last rotation; the preview shows the rotation (as a change of rotateAt) once it is due." },
  ),
  reason: field(z.string().max(MAX_ROTATE_REASON_CHARS, `reason must be at most ${MAX_ROTATE_REASON_CHARS} characters`).optional(), {
    description: "Why the token is rotated; recorded in the tunnel's audit log with each rotation.",
  }),
  rotateAt: derivedField(z.string().datetime({ offset: true }).optional(), {
    description:
      "When the next automatic rotation is due (with rotateEveryDays). Computed at preview from the clock; once it has passed, the preview plans an update with rotateAt as the changed input, and `pulumi up` rotates.",
  }),
});

const outputs = z.object({
  token: field(z.string(), { description: "The connector credential (tunnel token). Secret.", secret: true }),
  tokenId: field(z.string(), { description: "The token's id (`ttkn_…`); it changes on every rotation, so it is safe to use as a version." }),
  rotatedAt: field(z.string(), { description: "When this resource last rotated the token, or first revealed it (RFC 3339)." }),
  nextRotationAt: field(z.string().optional(), { description: "When the next automatic rotation is due, with rotateEveryDays (RFC 3339)." }),
});

export const tunnelTokenSchema = { typeName: "TunnelToken" as const, inputs, outputs } satisfies ResourceSchema;
export type TunnelTokenInputs = z.output<typeof inputs>;
export type TunnelTokenOutputs = z.output<typeof outputs>;


/**
 * When the token's current rotation period began: `rotateAt` minus the period it was computed
 * with. NaN when there is no schedule.
 */
export function rotationPeriodStart(inputs: Record<string, unknown>): number {
  const at = typeof inputs.rotateAt === "string" ? Date.parse(inputs.rotateAt) : Number.NaN;
  const every = typeof inputs.rotateEveryDays === "number" ? inputs.rotateEveryDays : Number.NaN;
  return at - every * DAY_MS;
}

/**
 * When the scheduled rotation that this change carries out came due (the old period's start plus
 * the current period), or undefined when the change is not a scheduled rotation: a new period
 * that starts before that moment was started by something else (a manual `rotation`, a new
 * period length). The provider rotates on it and the plan summary gives it as the reason, so both
 * answer from this one rule.
 */
export function scheduledRotationDueAt(olds: Record<string, unknown>, news: Record<string, unknown>): Date | undefined {
  const every = typeof news.rotateEveryDays === "number" ? news.rotateEveryDays : Number.NaN;
  const due = rotationDueAt(olds, every);
  return Number.isFinite(due) && rotationPeriodStart(news) >= due ? new Date(due) : undefined;
}

/** When the period that began at `olds`' period start, `everyDays` long, ends (ms; NaN without a schedule). */
export function rotationDueAt(olds: Record<string, unknown>, everyDays: number): number {
  return rotationPeriodStart(olds) + everyDays * DAY_MS;
}
