import { createHash } from "node:crypto";
import { parseCertificateDer } from "./parsed-certificate";
import { decodeSingleCertificate } from "./pem";

/** Lowercase hex SHA-256 of the DER, the form the API reports as `fingerprint`. */
export function fingerprintOfDer(der: Uint8Array): string {
  return createHash("sha256").update(der).digest("hex");
}

/** Throws PkiError (PEM_INVALID, CERTIFICATE_INVALID) unless `pem` holds exactly one certificate. */
export function fingerprintOfPem(pem: string): string {
  return fingerprintOfDer(parseCertificateDer(decodeSingleCertificate(pem)).der);
}
