import { z } from "zod";
import { TUNNEL_DOMAIN_PATTERN } from "../contract/tunnels-api";
import { field, type ResourceSchema } from "./field";
import { keyAlgorithm, pemOutput, renewAt, renewalWindowRule, rotation, wholeDays } from "./shared-fields";

export const SERVER_CERTIFICATE_DEFAULTS = { validityDays: 90, renewBeforeDays: 30 } as const;

const inputs = z.strictObject({
  caCertificatePem: field(z.string({ error: "caCertificatePem is required: pass a CertificateAuthority's certificatePem" }), {
    description: "The issuing CA's certificate (PEM), usually a CertificateAuthority's `certificatePem`. A new CA issues a new server certificate.",
    replaceOnChanges: true,
  }),
  caPrivateKeyPem: field(z.string({ error: "caPrivateKeyPem is required: pass the same CertificateAuthority's privateKeyPem" }), {
    description: "The issuing CA's private key (PKCS#8 PEM), usually a CertificateAuthority's `privateKeyPem`. Secret.",
    secret: true,
    replaceOnChanges: true,
  }),
  domain: field(
    z
      .string({ error: "domain is required: pass the Tunnel's domain output" })
      .regex(TUNNEL_DOMAIN_PATTERN, "domain must be a tunnel domain (8 characters [a-z0-9] + .tunnel.anthropic.com): pass the Tunnel's domain output"),
    { description: "The tunnel's domain; the certificate covers `*.<domain>` and `<domain>`. A change issues a new certificate.", replaceOnChanges: true },
  ),
  keyAlgorithm: keyAlgorithm("server certificate"),
  validityDays: wholeDays("validityDays", SERVER_CERTIFICATE_DEFAULTS.validityDays, "How long the server certificate is valid, in days (default 90); never beyond the CA's expiry."),
  renewBeforeDays: wholeDays("renewBeforeDays", SERVER_CERTIFICATE_DEFAULTS.renewBeforeDays, "How many days before expiry the preview starts planning a new server certificate (default 30)."),
  rotation: rotation("server certificate", true),
  renewAt: renewAt("server certificate"),
});

const outputs = z.object({
  certificatePem: pemOutput("The server certificate (PEM) for the tunnel proxy's TLS listener (`tls.crt`)."),
  privateKeyPem: pemOutput("The server certificate's private key (PKCS#8 PEM, `tls.key`). Secret.", true),
  dnsNames: field(z.array(z.string()), { description: "DNS names the certificate covers: `*.<domain>` and `<domain>`." }),
  notAfter: field(z.string(), { description: "When the server certificate expires (RFC 3339)." }),
  renewAt: field(z.string(), { description: "When the preview starts planning a new server certificate (RFC 3339)." }),
  fingerprint: field(z.string(), { description: "Lowercase hex SHA-256 of the certificate's DER encoding." }),
});

export const serverCertificateSchema = {
  typeName: "ServerCertificate" as const,
  inputs,
  outputs,
  rules: [renewalWindowRule("server certificate")],
} satisfies ResourceSchema;
export type ServerCertificateInputs = z.output<typeof inputs>;
export type ServerCertificateOutputs = z.output<typeof outputs>;
