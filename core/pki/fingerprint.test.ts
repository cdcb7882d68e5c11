import { createHash, X509Certificate } from "node:crypto";
import { beforeAll, describe, expect, test } from "vitest";
import { generateCertificateAuthority } from "./certificate-authority";
import { PkiError } from "./errors";
import { fingerprintOfPem } from "./fingerprint";
import type { GeneratedCertificate } from "./issuance";
import { hasOpenssl, openssl } from "./openssl.test-support";

const NOW = new Date("2026-07-01T12:00:00Z");

let ca: GeneratedCertificate;
beforeAll(async () => {
  ca = await generateCertificateAuthority({ commonName: "Fingerprint CA", keyAlgorithm: "ECDSA_P256", validityDays: 30, now: NOW });
});

describe("fingerprintOfPem", () => {
  test.runIf(hasOpenssl)("equals openssl's SHA-256 fingerprint, lowercased without colons", () => {
    const { output } = openssl(["x509", "-noout", "-fingerprint", "-sha256", "-in", "{ca.pem}"], { "ca.pem": ca.certificatePem });
    const expected = output.trim().split("=")[1]?.replace(/:/g, "").toLowerCase();
    expect(fingerprintOfPem(ca.certificatePem)).toBe(expected);
  });

  test("equals the SHA-256 of the DER as node:crypto computes it", () => {
    const der = new X509Certificate(ca.certificatePem).raw;
    expect(fingerprintOfPem(ca.certificatePem)).toBe(createHash("sha256").update(der).digest("hex"));
    expect(ca.fingerprint).toBe(fingerprintOfPem(ca.certificatePem));
  });

  test("ignores CRLF line endings and text around the block", () => {
    const windows = `Bag Attributes\r\n${ca.certificatePem.replace(/\n/g, "\r\n")}`;
    expect(fingerprintOfPem(windows)).toBe(ca.fingerprint);
  });

  test.each([
    ["no certificate", () => "", "PEM_INVALID"],
    ["two certificates", () => ca.certificatePem + ca.certificatePem, "PEM_INVALID"],
    ["a BEGIN line without END", () => ca.certificatePem.replace("-----END CERTIFICATE-----", ""), "PEM_INVALID"],
    ["broken base64", () => "-----BEGIN CERTIFICATE-----\n@@@@\n-----END CERTIFICATE-----", "PEM_INVALID"],
    ["base64 that is not a certificate", () => "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", "CERTIFICATE_INVALID"],
  ])("throws a PkiError for %s", (_, pem, code) => {
    expect(() => fingerprintOfPem(pem())).toThrow(expect.objectContaining({ name: "PkiError", code }));
    expect(() => fingerprintOfPem(pem())).toThrow(PkiError);
  });
});
