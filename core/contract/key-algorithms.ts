/**
 * The key algorithms this package issues keys with: each meets the API's key rule (RSA >= 2048 or
 * ECDSA >= P-256, docs/tunnels-api.md). Names only; core/pki knows how to make each.
 */
export type KeyAlgorithm = "ECDSA_P256" | "ECDSA_P384" | "RSA_2048" | "RSA_3072" | "RSA_4096";

export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ["ECDSA_P256", "ECDSA_P384", "RSA_2048", "RSA_3072", "RSA_4096"];
