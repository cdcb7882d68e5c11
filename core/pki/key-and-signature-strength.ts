import { createPublicKey } from "node:crypto";
import type { x509 } from "./x509-library";

/** Whether a key or signature meets the API's key and signature rules (docs/tunnels-api.md), and what it is, for messages. */
export interface StrengthVerdict {
  acceptable: boolean;
  description: string;
}

const MIN_RSA_BITS = 2048;
const ACCEPTED_CURVES: Record<string, string> = { prime256v1: "P-256", secp384r1: "P-384", secp521r1: "P-521" };
const SIGNATURE_NAMES: Record<string, string> = { "RSASSA-PKCS1-v1_5": "RSA", "RSA-PSS": "RSA-PSS", ECDSA: "ECDSA" };
const KEY_TYPE_NAMES: Record<string, string> = { ed25519: "an Ed25519 key", ed448: "an Ed448 key", dsa: "a DSA key", dh: "a DH key" };
const ACCEPTED_HASHES = new Set(["SHA-256", "SHA-384", "SHA-512"]);

// Signature algorithms the X.509 library does not name; listed so a rejection can say what it saw.
const WEAK_SIGNATURE_NAMES: Record<string, string> = {
  "1.2.840.113549.1.1.2": "MD2 with RSA",
  "1.2.840.113549.1.1.3": "MD4 with RSA",
  "1.2.840.113549.1.1.4": "MD5 with RSA",
  "1.2.840.113549.1.1.14": "SHA-224 with RSA",
  "1.2.840.10045.4.1": "SHA-1 with ECDSA",
  "1.2.840.10045.4.3.1": "SHA-224 with ECDSA",
  "1.2.840.10040.4.3": "SHA-1 with DSA",
  "2.16.840.1.101.3.4.3.1": "SHA-224 with DSA",
  "2.16.840.1.101.3.4.3.2": "SHA-256 with DSA",
};

export function publicKeyStrength(certificate: x509.X509Certificate): StrengthVerdict {
  let key;
  try {
    key = createPublicKey({ key: Buffer.from(certificate.publicKey.rawData), format: "der", type: "spki" });
  } catch {
    return { acceptable: false, description: "a key type this service does not support" };
  }
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case "rsa":
    case "rsa-pss": {
      const bits = details.modulusLength ?? 0;
      return { acceptable: bits >= MIN_RSA_BITS, description: `RSA-${bits}` };
    }
    case "ec": {
      const curve = details.namedCurve ?? "unknown";
      const name = ACCEPTED_CURVES[curve];
      return name ? { acceptable: true, description: `ECDSA ${name}` } : { acceptable: false, description: `EC on curve ${curve}` };
    }
    default:
      return { acceptable: false, description: KEY_TYPE_NAMES[key.asymmetricKeyType ?? ""] ?? "a key type this service does not support" };
  }
}

export function signatureHashStrength(certificate: x509.X509Certificate): StrengthVerdict {
  // The library types this with the DOM `Algorithm`, which this project's lib settings leave out.
  const algorithm = certificate.signatureAlgorithm as unknown as { name: string; hash?: string | { name?: string } };
  const hash = typeof algorithm.hash === "string" ? algorithm.hash : algorithm.hash?.name;
  const signature = SIGNATURE_NAMES[algorithm.name];
  if (signature && typeof hash === "string") {
    return { acceptable: ACCEPTED_HASHES.has(hash), description: `${hash} with ${signature}` };
  }
  const known = WEAK_SIGNATURE_NAMES[algorithm.name];
  if (known) return { acceptable: false, description: known };
  if (algorithm.name === "RSA-PSS") return { acceptable: false, description: "RSA-PSS with its default SHA-1 parameters" };
  if (/^[0-9.]+$/.test(algorithm.name)) return { acceptable: false, description: `an unrecognised algorithm (OID ${algorithm.name})` };
  return { acceptable: false, description: algorithm.name };
}
