import { beforeAll, describe, expect, test } from "vitest";
import { generateCertificateAuthority } from "./certificate-authority";
import { PkiError } from "./errors";
import type { GeneratedCertificate } from "./issuance";
import type { KeyAlgorithm } from "./key-algorithm";
import { decodeSingleCertificate } from "./pem";
import { issueServerCertificate } from "./server-certificate";
import { checkServerCertificate } from "./server-certificate-rules";
import {
  BAD_SERVER_CERTIFICATE_REASONS,
  makeServerCertificateScenarios,
  type BadServerCertificateName,
  type ServerCertificateScenarios,
} from "../../test/support/bad-ca-certificates";

const NOW = new Date("2026-07-01T12:00:00Z");

let scenarios: ServerCertificateScenarios;
let otherCa: GeneratedCertificate;
beforeAll(async () => {
  scenarios = await makeServerCertificateScenarios({ now: NOW });
  otherCa = await generateCertificateAuthority({ commonName: "Other CA", keyAlgorithm: "ECDSA_P384", validityDays: 30, now: NOW });
});

const check = (certificate: string | Uint8Array, trustedCaPems: string[], hostname = scenarios.good.hostname) =>
  checkServerCertificate({ certificate, trustedCaPems, hostname, now: NOW });

describe.each<KeyAlgorithm>(["ECDSA_P256", "RSA_2048"])("checkServerCertificate with a %s CA", (caKeyAlgorithm) => {
  let fixtures: ServerCertificateScenarios;
  beforeAll(async () => {
    fixtures = await makeServerCertificateScenarios({ now: NOW, caKeyAlgorithm });
  });

  test("accepts an issued certificate for a route of the domain and names the CA that signed it", async () => {
    const result = await check(fixtures.good.certificate, [fixtures.ca.certificatePem], fixtures.good.hostname);
    expect(result).toEqual({ ok: true, caFingerprint: fixtures.ca.fingerprint });
  });

  test.each(Object.entries(BAD_SERVER_CERTIFICATE_REASONS))("rejects %s as %s", async (name, reason) => {
    const scenario = fixtures.bad[name as BadServerCertificateName];
    const result = await check(scenario.certificate, [fixtures.ca.certificatePem], scenario.hostname);
    expect(result).toMatchObject({ ok: false, reason });
  });
});

describe("checkServerCertificate", () => {
  test("finds the signing CA among several with the same subject, as during a rotation", async () => {
    const rotated = await generateCertificateAuthority({ commonName: "Scenario CA", keyAlgorithm: "ECDSA_P256", validityDays: 30, now: NOW });
    const result = await check(scenarios.good.certificate, [rotated.certificatePem, otherCa.certificatePem, scenarios.ca.certificatePem]);
    expect(result).toEqual({ ok: true, caFingerprint: scenarios.ca.fingerprint });
  });

  test("rejects every certificate when the tunnel has no active CA", async () => {
    expect(await check(scenarios.good.certificate, [])).toMatchObject({ ok: false, reason: "unknown_ca" });
  });

  test("accepts the leaf as DER, as a TLS handshake delivers it", async () => {
    const der = new Uint8Array(decodeSingleCertificate(scenarios.good.certificate));
    expect(await check(der, [scenarios.ca.certificatePem])).toMatchObject({ ok: true });
  });

  test("takes the first certificate of a chain file as the leaf", async () => {
    const chain = scenarios.good.certificate + scenarios.ca.certificatePem;
    expect(await check(chain, [scenarios.ca.certificatePem])).toMatchObject({ ok: true });
  });

  test("matches the hostname without regard to case or a trailing dot", async () => {
    expect(await check(scenarios.good.certificate, [scenarios.ca.certificatePem], `MCP.${scenarios.domain.toUpperCase()}.`)).toMatchObject({ ok: true });
  });

  test("rejects an issued certificate once its CA has expired, since it ends with the CA", async () => {
    const shortCa = await generateCertificateAuthority({ commonName: "Short CA", keyAlgorithm: "ECDSA_P256", validityDays: 1, now: NOW });
    const leaf = await issueServerCertificate({
      caCertificatePem: shortCa.certificatePem,
      caPrivateKeyPem: shortCa.privateKeyPem,
      domain: scenarios.domain,
      keyAlgorithm: "ECDSA_P256",
      validityDays: 1,
      now: NOW,
    });
    const later = new Date(NOW.getTime() + 2 * 24 * 60 * 60 * 1000);
    const result = await checkServerCertificate({ certificate: leaf.certificatePem, trustedCaPems: [shortCa.certificatePem], hostname: scenarios.good.hostname, now: later });
    expect(result).toMatchObject({ ok: false, reason: "expired" });
  });

  test("throws CA_INVALID when the caller's trusted CA list holds something unreadable", async () => {
    await expect(check(scenarios.good.certificate, ["not a certificate"])).rejects.toSatisfy(
      (error) => error instanceof PkiError && error.code === "CA_INVALID",
    );
  });
});
