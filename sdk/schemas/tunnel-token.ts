import { z } from "zod";
import { MAX_ROTATE_REASON_CHARS, TUNNEL_ID_PATTERN } from "../api/contract";
import { field, messages, type ResourceSchema } from "./field";
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
  rotateAt: field(z.string().datetime({ offset: true }).optional(), {
    description:
      "When the next automatic rotation is due (with rotateEveryDays). Computed at preview from the clock; once it has passed, the preview plans an update with rotateAt as the changed input, and `pulumi up` rotates.",
    derived: true,
  }),
});

const outputs = z.object({
  token: field(z.string(), { description: "The connector credential (tunnel token). Secret.", secret: true }),
  tokenId: field(z.string(), { description: "The token's id (`ttkn_…`); it changes on every rotation, so it is safe to use as a version." }),
  rotatedAt: field(z.string(), { description: "When this resource last rotated the token, or first revealed it (RFC 3339)." }),
  nextRotationAt: field(z.string().optional(), { description: "When the next automatic rotation is due, with rotateEveryDays (RFC 3339)." }),
});

export const tunnelTokenSchema = { typeName: "TunnelToken", inputs, outputs } satisfies ResourceSchema;
export type TunnelTokenInputs = z.output<typeof inputs>;
export type TunnelTokenOutputs = z.output<typeof outputs>;
