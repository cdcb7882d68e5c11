import { X509Certificate } from "node:crypto";
import { beforeAll, describe, expect, test } from "vitest";
import { generateCertificateAuthority } from "./certificate-authority";
import { PkiError, type PkiErrorCode } from "./errors";
import type { GeneratedCertificate } from "./issuance";
import type { KeyAlgorithm } from "./key-algorithm";
import { hasOpenssl, openssl } from "./openssl.test-support";
import { parseCertificateDer } from "./parsed-certificate";
import { decodeSingleCertificate } from "./pem";
import { issueServerCertificate, type GeneratedServerCertificate, type ServerCertificateOptions } from "./server-certificate";
import { checkServerCertificate } from "./server-certificate-rules";
import { x509 } from "./x509-library";

const NOW = new Date("2026-07-01T12:00:00Z");
const DAY_MS = 24 * 60 * 60 * 1000;
const DOMAIN = "abcd1234.tunnel.anthropic.com";

const newCa = (keyAlgorithm: KeyAlgorithm, validityDays = 365) =>
  generateCertificateAuthority({ commonName: "Server Test CA", keyAlgorithm, validityDays, now: NOW });

const issue = (ca: GeneratedCertificate, changes: Partial<ServerCertificateOptions> = {}) =>
  issueServerCertificate({
    caCertificatePem: ca.certificatePem,
    caPrivateKeyPem: ca.privateKeyPem,
    domain: DOMAIN,
    keyAlgorithm: "ECDSA_P256",
    validityDays: 90,
    now: NOW,
    ...changes,
  });

const parse = (pem: string) => parseCertificateDer(decodeSingleCertificate(pem));

describe("issueServerCertificate", () => {
  test.each<[KeyAlgorithm, KeyAlgorithm, string]>([
    ["ECDSA_P256", "ECDSA_P256", "SHA-256"],
    ["ECDSA_P384", "RSA_2048", "SHA-384"],
    ["RSA_2048", "ECDSA_P384", "SHA-256"],
    ["RSA_3072", "RSA_3072", "SHA-256"],
  ])("CA %s, server key %s: signed with %s, passes the server rules for mcp.<domain>", async (caAlgorithm, keyAlgorithm, hash) => {
    const ca = await newCa(caAlgorithm);
    const server = await issue(ca, { keyAlgorithm });
    const result = await checkServerCertificate({ certificate: server.certificatePem, trustedCaPems: [ca.certificatePem], hostname: `mcp.${DOMAIN}`, now: NOW });
    expect(result).toEqual({ ok: true, caFingerprint: ca.fingerprint });
    expect(parse(server.certificatePem).certificate.signatureAlgorithm).toMatchObject({ hash: { name: hash } });
    // node:crypto as a second opinion on the signature and the names.
    const node = new X509Certificate(server.certificatePem);
    expect(node.verify(new X509Certificate(ca.certificatePem).publicKey)).toBe(true);
    expect(node.checkHost(`mcp.${DOMAIN}`)).toBe(`*.${DOMAIN}`);
  });

  describe("one P-256 server certificate", () => {
    let ca: GeneratedCertificate;
    let server: GeneratedServerCertificate;
    let parsed: ReturnType<typeof parse>;
    beforeAll(async () => {
      ca = await newCa("ECDSA_P256");
      server = await issue(ca);
      parsed = parse(server.certificatePem);
    });

    test("covers the domain and every route under it", () => {
      expect(server.dnsNames).toEqual([`*.${DOMAIN}`, DOMAIN]);
      expect(parsed.subjectAlternativeName?.names.items.map((name) => [name.type, name.value])).toEqual([
        ["dns", `*.${DOMAIN}`],
        ["dns", DOMAIN],
      ]);
    });

    test("names its CA's key in AuthorityKeyIdentifier and is issued by the CA's subject", () => {
      expect(parsed.authorityKeyIdentifier?.keyId).toBe(parse(ca.certificatePem).subjectKeyIdentifier?.keyId);
      expect(parsed.certificate.issuer).toBe("CN=Server Test CA");
    });

    test("is a critical CA:FALSE for serverAuth with digitalSignature", () => {
      expect(parsed.basicConstraints).toMatchObject({ ca: false, critical: true });
      expect(parsed.extendedKeyUsage?.usages).toEqual([x509.ExtendedKeyUsage.serverAuth]);
      expect(parsed.keyUsage).toMatchObject({ usages: x509.KeyUsageFlags.digitalSignature, critical: true });
      expect(parsed.subjectKeyIdentifier).not.toBeNull();
    });

    test("starts five minutes before now and lasts validityDays", () => {
      expect(server.notBefore).toEqual(new Date(NOW.getTime() - 5 * 60 * 1000));
      expect(server.notAfter).toEqual(new Date(NOW.getTime() + 90 * DAY_MS));
      expect(server.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    });

    test.runIf(hasOpenssl)("is accepted by openssl as a TLS server certificate for mcp.<domain>", () => {
      const result = openssl(
        ["verify", "-attime", String(Math.floor(NOW.getTime() / 1000)), "-purpose", "sslserver", "-verify_hostname", `mcp.${DOMAIN}`, "-CAfile", "{ca.pem}", "{server.pem}"],
        { "ca.pem": ca.certificatePem, "server.pem": server.certificatePem },
      );
      expect(result).toMatchObject({ status: 0 });
    });
  });

  test("adds keyEncipherment to the key usage of an RSA server key", async () => {
    const server = await issue(await newCa("ECDSA_P256"), { keyAlgorithm: "RSA_2048" });
    expect(parse(server.certificatePem).keyUsage?.usages).toBe(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment);
  });

  test("ends when the CA ends if asked to outlive it", async () => {
    const ca = await newCa("ECDSA_P256", 10);
    const server = await issue(ca, { validityDays: 90 });
    expect(server.notAfter).toEqual(ca.notAfter);
  });

  describe("refuses bad input without repeating any key", () => {
    let ca: GeneratedCertificate;
    let otherCa: GeneratedCertificate;
    let server: GeneratedServerCertificate;
    beforeAll(async () => {
      [ca, otherCa] = await Promise.all([newCa("ECDSA_P256"), newCa("RSA_2048")]);
      server = await issue(ca);
    });

    test.each<[string, () => Partial<ServerCertificateOptions>, PkiErrorCode]>([
      ["a domain with upper case", () => ({ domain: "ABCD.tunnel.anthropic.com" }), "INVALID_ARGUMENT"],
      ["a wildcard domain", () => ({ domain: `*.${DOMAIN}` }), "INVALID_ARGUMENT"],
      ["an empty label", () => ({ domain: "abcd..anthropic.com" }), "INVALID_ARGUMENT"],
      ["zero validity days", () => ({ validityDays: 0 }), "INVALID_ARGUMENT"],
      ["another CA's key", () => ({ caPrivateKeyPem: otherCa.privateKeyPem }), "KEY_MISMATCH"],
      ["a server key in place of the CA key", () => ({ caPrivateKeyPem: server.privateKeyPem }), "KEY_MISMATCH"],
      ["a corrupted key", () => ({ caPrivateKeyPem: ca.privateKeyPem.replace(/[A-Z]{4}/, "!!!!") }), "PRIVATE_KEY_INVALID"],
      ["a public key", () => ({ caPrivateKeyPem: new X509Certificate(ca.certificatePem).publicKey.export({ type: "spki", format: "pem" }) as string }), "PRIVATE_KEY_INVALID"],
      ["a server certificate as the CA", () => ({ caCertificatePem: server.certificatePem, caPrivateKeyPem: server.privateKeyPem }), "CA_INVALID"],
      ["two certificates as the CA", () => ({ caCertificatePem: ca.certificatePem + otherCa.certificatePem }), "CA_INVALID"],
      ["a CA that has expired", () => ({ now: new Date(NOW.getTime() + 400 * DAY_MS) }), "CA_EXPIRED"],
    ])("%s", async (_, changes, code) => {
      const attempt = issue(ca, changes());
      await expect(attempt).rejects.toBeInstanceOf(PkiError);
      const error = (await attempt.catch((caught: unknown) => caught)) as PkiError;
      expect(error.code).toBe(code);
      const said = `${error.message} ${error.hint}`;
      for (const key of [ca.privateKeyPem, otherCa.privateKeyPem, server.privateKeyPem]) {
        for (const run of key.match(/[A-Za-z0-9+/=]{16,}/g) ?? []) expect(said).not.toContain(run);
      }
      expect(said).not.toMatch(/PRIVATE KEY/);
    });
  });
});
