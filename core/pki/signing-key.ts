import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { PkiError } from "./errors";
import type { SigningAlgorithm } from "./key-algorithm";
import { toPem } from "./pem";
import { webcrypto } from "./x509-library";

type CryptoKey = webcrypto.CryptoKey;

const unreadable = (): PkiError =>
  new PkiError(
    "PRIVATE_KEY_INVALID",
    "the CA private key cannot be read",
    "pass the unencrypted PEM of the CA's RSA or ECDSA private key (PKCS#8, PKCS#1 or SEC1)",
  );

/**
 * A WebCrypto signing key from a private key PEM. node:crypto reads the PEM, so PKCS#1 and SEC1
 * keys from older tooling work as well as PKCS#8. `hash` overrides the RSA hash, which WebCrypto
 * binds to the key at import.
 */
export async function importSigningKey(privateKeyPem: string, hash: SigningAlgorithm["hash"] = "SHA-256"): Promise<CryptoKey> {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: privateKeyPem, format: "pem" });
  } catch {
    throw unreadable();
  }
  const pkcs8 = key.export({ type: "pkcs8", format: "der" });
  switch (key.asymmetricKeyType) {
    case "ec": {
      const namedCurve = { prime256v1: "P-256", secp384r1: "P-384", secp521r1: "P-521" }[key.asymmetricKeyDetails?.namedCurve ?? ""];
      if (!namedCurve) throw unreadable();
      return webcrypto.subtle.importKey("pkcs8", pkcs8, { name: "ECDSA", namedCurve }, false, ["sign"]);
    }
    case "rsa":
      return webcrypto.subtle.importKey("pkcs8", pkcs8, { name: "RSASSA-PKCS1-v1_5", hash }, false, ["sign"]);
    default:
      throw unreadable();
  }
}

/** Whether the private key PEM is the key of the certificate whose SPKI is given. */
export function privateKeyMatches(privateKeyPem: string, subjectPublicKeyInfo: ArrayBuffer): boolean {
  try {
    const derived = createPublicKey(createPrivateKey({ key: privateKeyPem, format: "pem" })).export({ type: "spki", format: "der" });
    return derived.equals(Buffer.from(subjectPublicKeyInfo));
  } catch {
    return false;
  }
}

export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  return toPem("PRIVATE KEY", new Uint8Array(await webcrypto.subtle.exportKey("pkcs8", key)));
}
