import { z } from "zod";
import { DISPLAY_NAME_MAX_CHARS, TUNNEL_ID_PATTERN } from "../contract/tunnels-api";
import { field, messages, type ResourceSchema } from "./field";

const inputs = z.strictObject({
  displayName: field(
    z
      .string({ error: "displayName is required: a name for the tunnel as shown in the console (1-255 characters)" })
      .min(1, "displayName must not be empty: name the tunnel (1-255 characters)")
      .max(DISPLAY_NAME_MAX_CHARS, `displayName is longer than ${DISPLAY_NAME_MAX_CHARS} characters: shorten it`),
    {
      description: "Name of the tunnel as shown in the console. The API cannot rename a tunnel, so a change replaces it (the old tunnel is archived).",
      replaceOnChanges: true,
    },
  ),
  adoptTunnelId: field(z.string().regex(TUNNEL_ID_PATTERN, `adoptTunnelId ${messages.tunnelId}`).optional(), {
    description:
      "Take over an existing tunnel instead of creating one (the workaround for `pulumi import`, which dynamic resources do not support). Its display name must equal `displayName`. Once adopted, destroying this resource archives the tunnel.",
    replaceOnChanges: true,
  }),
});

const outputs = z.object({
  tunnelId: field(z.string(), { description: "The tunnel id (`tnl_…`)." }),
  domain: field(z.string(), { description: "The tunnel's domain (`xxxxxxxx.tunnel.anthropic.com`); routes are subdomains of it." }),
  displayName: field(z.string(), { description: "Name of the tunnel as shown in the console." }),
  createdAt: field(z.string(), { description: "When the tunnel was created (RFC 3339)." }),
  adoptTunnelId: field(z.string().optional(), { description: "The adopted tunnel id, if this resource adopted one." }),
});

export const tunnelSchema = { typeName: "Tunnel" as const, inputs, outputs } satisfies ResourceSchema;
export type TunnelInputs = z.input<typeof inputs>;
export type TunnelOutputs = z.output<typeof outputs>;
