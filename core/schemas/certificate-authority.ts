import { z } from "zod";
import { field, type ResourceSchema } from "./field";
import { keyAlgorithm, pemOutput, renewAt, renewalWindowRule, rotation, wholeDays } from "./shared-fields";

export const CA_DEFAULTS = { commonName: "MCP tunnel CA", validityDays: 1825, renewBeforeDays: 90 } as const;

const inputs = z.strictObject({
    commonName: field(
      z.string().min(1, "commonName must not be empty").max(64, "commonName must be at most 64 characters (X.509 limit)").default(CA_DEFAULTS.commonName),
      { description: "Subject common name of the CA certificate. A change issues a new CA.", replaceOnChanges: true },
    ),
    keyAlgorithm: keyAlgorithm("CA"),
    validityDays: wholeDays("validityDays", CA_DEFAULTS.validityDays, "How long the CA certificate is valid, in days (default 1825, five years)."),
    renewBeforeDays: wholeDays("renewBeforeDays", CA_DEFAULTS.renewBeforeDays, "How many days before expiry the preview starts planning a new CA (default 90)."),
    rotation: rotation("CA", true),
    renewAt: renewAt("CA"),
});

const outputs = z.object({
  certificatePem: pemOutput("The CA certificate (PEM); register it with a TunnelCertificate."),
  privateKeyPem: pemOutput("The CA private key (PKCS#8 PEM). Secret.", true),
  fingerprint: field(z.string(), { description: "Lowercase hex SHA-256 of the certificate's DER encoding, as the API reports it." }),
  notAfter: field(z.string(), { description: "When the CA certificate expires (RFC 3339)." }),
  renewAt: field(z.string(), { description: "When the preview starts planning a new CA (RFC 3339)." }),
});

export const certificateAuthoritySchema = {
  typeName: "CertificateAuthority" as const,
  inputs,
  outputs,
  rules: [renewalWindowRule("CA")],
} satisfies ResourceSchema;
export type CertificateAuthorityInputs = z.output<typeof inputs>;
export type CertificateAuthorityOutputs = z.output<typeof outputs>;
