import { generateCertificateAuthority, issueServerCertificate, KEY_ALGORITHMS, type KeyAlgorithm } from "pulumi-mcp-tunnels/pki";
import { summarize, timed, type Summary } from "./stats";

export interface CryptoMeasurement {
  keyAlgorithm: KeyAlgorithm;
  repetitions: number;
  certificateAuthority: Summary;
  serverCertificate: Summary;
}

/** RSA key generation is slow and erratic (prime search); fewer repetitions for the larger keys. */
const REPETITIONS: Record<KeyAlgorithm, number> = { ECDSA_P256: 15, ECDSA_P384: 15, RSA_2048: 7, RSA_3072: 5, RSA_4096: 5 };

/** The compiled package, as the provider process runs it: a CA, then a server certificate signed by it. */
export async function measureLocalCrypto(scale = 1): Promise<CryptoMeasurement[]> {
  const now = new Date();
  const results: CryptoMeasurement[] = [];
  for (const keyAlgorithm of KEY_ALGORITHMS) {
    const repetitions = Math.max(1, Math.round(REPETITIONS[keyAlgorithm] * scale));
    const ca: number[] = [];
    const server: number[] = [];
    // One untimed round first: it loads and JITs the x509 and ASN.1 code.
    for (let rep = -1; rep < repetitions; rep++) {
      const authority = await timed(() => generateCertificateAuthority({ commonName: "bench CA", keyAlgorithm, validityDays: 365, now }));
      const certificate = await timed(() =>
        issueServerCertificate({
          caCertificatePem: authority.value.certificatePem,
          caPrivateKeyPem: authority.value.privateKeyPem,
          domain: "abcd1234.tunnel.example.com",
          keyAlgorithm,
          validityDays: 90,
          now,
        }),
      );
      if (rep < 0) continue;
      ca.push(authority.ms);
      server.push(certificate.ms);
    }
    results.push({ keyAlgorithm, repetitions, certificateAuthority: summarize(ca), serverCertificate: summarize(server) });
  }
  return results;
}
