import { createHash } from "node:crypto";

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/;

/**
 * Lowercase hex SHA-256 of the DER in the first CERTIFICATE block: the `fingerprint` the API
 * reports, so a certificate can be found again after an ambiguous create. Undefined when the
 * text holds no decodable block (the API will refuse such a PEM anyway).
 */
export function certificateFingerprint(pem: string): string | undefined {
  const body = CERTIFICATE_BLOCK.exec(pem)?.[1];
  if (body === undefined) return undefined;
  const der = Buffer.from(body.replace(/\s+/g, ""), "base64");
  if (der.length === 0) return undefined;
  return createHash("sha256").update(der).digest("hex");
}
