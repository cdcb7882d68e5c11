import { webcrypto } from "node:crypto";
import type { KeyAlgorithm } from "../contract/key-algorithms";

export { KEY_ALGORITHMS, type KeyAlgorithm } from "../contract/key-algorithms";

type CryptoKeyPair = webcrypto.CryptoKeyPair;
type CryptoKey = webcrypto.CryptoKey;

/** What a certificate signed by a key of this kind names as its signature algorithm. */
export interface SigningAlgorithm {
  name: "ECDSA" | "RSASSA-PKCS1-v1_5";
  hash: "SHA-1" | "SHA-256" | "SHA-384" | "SHA-512";
}

const RSA_PUBLIC_EXPONENT = new Uint8Array([1, 0, 1]);

// P-384 keys sign with SHA-384 so the hash is as strong as the curve.
const HASH_BY_CURVE: Record<string, SigningAlgorithm["hash"]> = { "P-256": "SHA-256", "P-384": "SHA-384", "P-521": "SHA-512" };

const GENERATION: Record<KeyAlgorithm, webcrypto.EcKeyGenParams | webcrypto.RsaHashedKeyGenParams> = {
  ECDSA_P256: { name: "ECDSA", namedCurve: "P-256" },
  ECDSA_P384: { name: "ECDSA", namedCurve: "P-384" },
  RSA_2048: { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: RSA_PUBLIC_EXPONENT, hash: "SHA-256" },
  RSA_3072: { name: "RSASSA-PKCS1-v1_5", modulusLength: 3072, publicExponent: RSA_PUBLIC_EXPONENT, hash: "SHA-256" },
  RSA_4096: { name: "RSASSA-PKCS1-v1_5", modulusLength: 4096, publicExponent: RSA_PUBLIC_EXPONENT, hash: "SHA-256" },
};

export function isRsa(algorithm: KeyAlgorithm): boolean {
  return algorithm.startsWith("RSA_");
}

export async function generateKeyPair(algorithm: KeyAlgorithm): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(GENERATION[algorithm], true, ["sign", "verify"]);
}

export function signingAlgorithmOf(key: CryptoKey): SigningAlgorithm {
  const algorithm = key.algorithm as Partial<webcrypto.EcKeyAlgorithm & webcrypto.RsaHashedKeyAlgorithm>;
  if (algorithm.name === "ECDSA") return { name: "ECDSA", hash: HASH_BY_CURVE[algorithm.namedCurve ?? ""] ?? "SHA-256" };
  return { name: "RSASSA-PKCS1-v1_5", hash: (algorithm.hash?.name as SigningAlgorithm["hash"] | undefined) ?? "SHA-256" };
}
