import { z } from "zod";
import { TUNNEL_ID_PATTERN } from "../contract/tunnels-api";
import { field, messages, type ResourceSchema } from "./field";

const inputs = z.strictObject({
  tunnelId: field(z.string({ error: `tunnelId is required: ${messages.tunnelId}` }).regex(TUNNEL_ID_PATTERN, `tunnelId ${messages.tunnelId}`), {
    description: "The tunnel to register the CA on (a Tunnel's `tunnelId`).",
    replaceOnChanges: true,
  }),
  caCertificatePem: field(z.string({ error: "caCertificatePem is required: pass a CertificateAuthority's certificatePem" }), {
    description:
      "The CA certificate (PEM, no key) that Anthropic trusts for inner TLS to your proxy. Checked against the API's certificate rules at preview. A change registers the new CA first (two active during the overlap) and archives the old registration last.",
    replaceOnChanges: true,
  }),
  archiveDelaySeconds: field(
    z.number({ error: "archiveDelaySeconds must be a number of seconds" }).int("archiveDelaySeconds must be whole seconds").min(0, "archiveDelaySeconds must be 0 or more").max(600, "archiveDelaySeconds must be at most 600").optional(),
    {
      description:
        "Seconds (default 10) to keep this registration active after it is replaced, while another CA is active on the tunnel, before archiving it: the overlap in which proxies pick up a certificate from the new CA (a hot reload polls the file; a Kubernetes Secret volume takes up to a minute or more to refresh). Archiving while a proxy still serves a certificate from this CA fails its handshakes.",
    },
  ),
});

const outputs = z.object({
  certificateId: field(z.string(), { description: "The registration id (`tcrt_…`)." }),
  fingerprint: field(z.string(), { description: "Lowercase hex SHA-256 of the CA certificate's DER encoding." }),
  expiresAt: field(z.string().nullable(), { description: "When the registered CA certificate expires (RFC 3339)." }),
  createdAt: field(z.string(), { description: "When the CA was registered (RFC 3339)." }),
});

export const tunnelCertificateSchema = { typeName: "TunnelCertificate" as const, inputs, outputs } satisfies ResourceSchema;
export type TunnelCertificateInputs = z.output<typeof inputs>;
export type TunnelCertificateOutputs = z.output<typeof outputs>;
