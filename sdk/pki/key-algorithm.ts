export type KeyAlgorithm = "ECDSA_P256" | "ECDSA_P384" | "RSA_2048" | "RSA_3072" | "RSA_4096";

export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ["ECDSA_P256", "ECDSA_P384", "RSA_2048", "RSA_3072", "RSA_4096"];
