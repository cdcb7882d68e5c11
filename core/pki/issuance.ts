import { webcrypto } from "node:crypto";
import { DAY_MS } from "../contract/time";
import { PkiError } from "./errors";
import { fingerprintOfDer } from "./fingerprint";
import { toPem } from "./pem";
import type { x509 } from "./x509-library";

export interface GeneratedCertificate {
  certificatePem: string;
  /** PKCS#8 PEM. A secret: callers must keep it out of logs and plain outputs. */
  privateKeyPem: string;
  /** Lowercase hex SHA-256 of the DER, as the API reports it. */
  fingerprint: string;
  notBefore: Date;
  notAfter: Date;
}

/** Certificates start this far in the past so a verifier whose clock lags still accepts them. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;
const SERIAL_BYTES = 16;

export function validityWindow(now: Date, validityDays: number): { notBefore: Date; notAfter: Date } {
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
    throw new PkiError("INVALID_ARGUMENT", "now is not a valid date", "pass the current time from the injected clock");
  }
  if (!Number.isFinite(validityDays) || validityDays <= 0) {
    throw new PkiError("INVALID_ARGUMENT", "validityDays must be a positive number", "pass the certificate lifetime in days, e.g. 365");
  }
  // X.509 times have whole seconds; truncating here keeps the returned dates equal to the certificate's.
  return {
    notBefore: wholeSeconds(now.getTime() - CLOCK_SKEW_MS),
    notAfter: wholeSeconds(now.getTime() + validityDays * DAY_MS),
  };
}

/** 16 random bytes as hex, top bit clear so the DER integer stays positive at full length. */
export function randomSerialNumber(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(SERIAL_BYTES));
  bytes[0] = (bytes[0] ?? 0) & 0x7f || 0x01;
  return Buffer.from(bytes).toString("hex");
}

export function toGeneratedCertificate(certificate: x509.X509Certificate, privateKeyPem: string): GeneratedCertificate {
  const der = new Uint8Array(certificate.rawData);
  return {
    certificatePem: toPem("CERTIFICATE", der),
    privateKeyPem,
    fingerprint: fingerprintOfDer(der),
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
  };
}

function wholeSeconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}
