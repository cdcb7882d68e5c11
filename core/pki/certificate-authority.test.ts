import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { beforeAll, describe, expect, test } from "vitest";
import { checkCaCertificatePem } from "./ca-certificate-rules";
import { generateCertificateAuthority, type CertificateAuthorityOptions } from "./certificate-authority";
import { PkiError } from "./errors";
import type { GeneratedCertificate } from "./issuance";
import { KEY_ALGORITHMS, type KeyAlgorithm } from "./key-algorithm";
import { hasOpenssl, openssl } from "./openssl.test-support";
import { parseCertificateDer } from "./parsed-certificate";
import { decodeSingleCertificate } from "./pem";
import { x509 } from "./x509-library";

const NOW = new Date("2026-07-01T12:00:00.750Z");
const DAY_MS = 24 * 60 * 60 * 1000;

const EXPECTED: Record<KeyAlgorithm, { key: Record<string, unknown>; signature: string }> = {
  ECDSA_P256: { key: { asymmetricKeyType: "ec", namedCurve: "prime256v1" }, signature: "SHA-256" },
  ECDSA_P384: { key: { asymmetricKeyType: "ec", namedCurve: "secp384r1" }, signature: "SHA-384" },
  RSA_2048: { key: { asymmetricKeyType: "rsa", modulusLength: 2048 }, signature: "SHA-256" },
  RSA_3072: { key: { asymmetricKeyType: "rsa", modulusLength: 3072 }, signature: "SHA-256" },
  RSA_4096: { key: { asymmetricKeyType: "rsa", modulusLength: 4096 }, signature: "SHA-256" },
};

const generate = (changes: Partial<CertificateAuthorityOptions> = {}) =>
  generateCertificateAuthority({ commonName: "Tunnel CA", keyAlgorithm: "ECDSA_P256", validityDays: 365, now: NOW, ...changes });

const parse = (pem: string) => parseCertificateDer(decodeSingleCertificate(pem));

describe("generateCertificateAuthority", () => {
  // The only test that generates RSA-4096 keys.
  test.each(KEY_ALGORITHMS)("%s: the CA passes every CA rule and has the key and hash asked for", { timeout: 120_000 }, async (keyAlgorithm) => {
    const ca = await generate({ keyAlgorithm });
    expect(await checkCaCertificatePem(ca.certificatePem, NOW)).toMatchObject({ ok: true, fingerprint: ca.fingerprint });

    const publicKey = new X509Certificate(ca.certificatePem).publicKey;
    const { key, signature } = EXPECTED[keyAlgorithm];
    expect({ asymmetricKeyType: publicKey.asymmetricKeyType, ...publicKey.asymmetricKeyDetails }).toMatchObject(key);
    expect(parse(ca.certificatePem).certificate.signatureAlgorithm).toMatchObject({ hash: { name: signature } });
    expect(createPublicKey(createPrivateKey(ca.privateKeyPem)).export({ type: "spki", format: "der" })).toEqual(
      publicKey.export({ type: "spki", format: "der" }),
    );
  });

  describe("one P-256 CA", () => {
    let ca: GeneratedCertificate;
    let parsed: ReturnType<typeof parse>;
    beforeAll(async () => {
      ca = await generate();
      parsed = parse(ca.certificatePem);
    });

    test("is a critical CA:TRUE with path length 0 and signs certificates and CRLs only", () => {
      expect(parsed.basicConstraints).toMatchObject({ ca: true, pathLength: 0, critical: true });
      expect(parsed.keyUsage).toMatchObject({ usages: x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, critical: true });
      expect(parsed.subjectKeyIdentifier?.keyId).toMatch(/^[0-9a-f]{40}$/);
    });

    test("starts five minutes before now and lasts validityDays, in whole seconds", () => {
      expect(ca.notBefore).toEqual(new Date("2026-07-01T11:55:00Z"));
      expect(ca.notAfter).toEqual(new Date(Date.parse("2026-07-01T12:00:00Z") + 365 * DAY_MS));
      expect([parsed.certificate.notBefore, parsed.certificate.notAfter]).toEqual([ca.notBefore, ca.notAfter]);
    });

    test("has a positive 16-byte random serial number", async () => {
      const serial = parsed.certificate.serialNumber;
      expect(serial).toMatch(/^[0-7][0-9a-f]{31}$/);
      expect(serial).not.toMatch(/^00/);
      expect(parse((await generate()).certificatePem).certificate.serialNumber).not.toBe(serial);
    });

    test("is self-signed, subject and issuer both the common name", async () => {
      expect(parsed.certificate.subject).toBe("CN=Tunnel CA");
      expect(await parsed.certificate.isSelfSigned()).toBe(true);
    });

    test("returns its private key as unencrypted PKCS#8 PEM", () => {
      expect(ca.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+\n-----END PRIVATE KEY-----\n$/);
    });

    test.runIf(hasOpenssl)("is accepted by openssl as a CA", () => {
      const result = openssl(["verify", "-attime", String(Math.floor(NOW.getTime() / 1000)), "-CAfile", "{ca.pem}", "{ca.pem}"], {
        "ca.pem": ca.certificatePem,
      });
      expect(result).toMatchObject({ status: 0 });
    });
  });

  test.each<[string, Partial<CertificateAuthorityOptions>]>([
    ["an empty common name", { commonName: " " }],
    ["a common name over 64 characters", { commonName: "x".repeat(65) }],
    ["zero validity days", { validityDays: 0 }],
    ["non-finite validity days", { validityDays: Number.NaN }],
    ["an invalid date", { now: new Date("not a date") }],
  ])("rejects %s with INVALID_ARGUMENT", async (_, changes) => {
    await expect(generate(changes)).rejects.toSatisfy((error) => error instanceof PkiError && error.code === "INVALID_ARGUMENT");
  });
});
