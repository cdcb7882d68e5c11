import { beforeAll, describe, expect, it, test } from "vitest";
import { CA_CERTIFICATE_RULES, MAX_CA_CERTIFICATE_PEM_CHARS } from "../contract/tunnels-api";
import { generateCertificateAuthority } from "./certificate-authority";
import { checkCaCertificatePem } from "./ca-certificate-rules";
import { fingerprintOfPem } from "./fingerprint";
import { BAD_CA_CERTIFICATE_RULES, makeBadCaCertificates, type BadCaCertificate, type BadCaCertificateName } from "../../test/support/bad-ca-certificates";
import type { GeneratedCertificate } from "./issuance";

const NOW = new Date("2026-07-01T12:00:00Z");

/** Every base64 run of 16+ characters in the input: none may reappear in a message. */
function base64Runs(text: string): string[] {
  return text.match(/[A-Za-z0-9+/=]{16,}/g) ?? [];
}

let bad: Record<BadCaCertificateName, BadCaCertificate>;
let ca: GeneratedCertificate;
beforeAll(async () => {
  bad = await makeBadCaCertificates(NOW);
  ca = await generateCertificateAuthority({ commonName: "Rules CA", keyAlgorithm: "ECDSA_P256", validityDays: 30, now: NOW });
});

describe("checkCaCertificatePem", () => {
  test.each(Object.entries(BAD_CA_CERTIFICATE_RULES))("rejects %s under rule %s", async (name, rule) => {
    const fixture = bad[name as BadCaCertificateName];
    const result = await checkCaCertificatePem(fixture.pem, NOW);
    expect(result).toMatchObject({ ok: false, rule });
    if (result.ok) return;
    expect(result.message).toContain(`"${CA_CERTIFICATE_RULES[rule]}"`);
    expect(result.message).not.toMatch(/PRIVATE KEY/i);
    for (const run of base64Runs(fixture.pem)) expect(result.message).not.toContain(run);
  });

  test("the bad fixtures break every rule of the contract", () => {
    expect(new Set(Object.values(BAD_CA_CERTIFICATE_RULES))).toEqual(new Set(Object.keys(CA_CERTIFICATE_RULES)));
  });

  test("accepts a generated CA and reports its fingerprint, expiry and subject", async () => {
    expect(await checkCaCertificatePem(ca.certificatePem, NOW)).toEqual({
      ok: true,
      fingerprint: ca.fingerprint,
      notAfter: ca.notAfter,
      subject: "CN=Rules CA",
    });
  });

  test.each([
    ["padded to the limit", MAX_CA_CERTIFICATE_PEM_CHARS, true],
    ["one character over the limit", MAX_CA_CERTIFICATE_PEM_CHARS + 1, false],
  ])("counts characters of the whole text: %s", async (_, length, ok) => {
    const padded = ca.certificatePem.padEnd(length, "\n");
    expect((await checkCaCertificatePem(padded, NOW)).ok).toBe(ok);
  });

  test.each([
    ["at notBefore", () => ca.notBefore, true],
    ["at notAfter", () => ca.notAfter, true],
    ["a second before notBefore", () => new Date(ca.notBefore.getTime() - 1000), false],
    ["a second after notAfter", () => new Date(ca.notAfter.getTime() + 1000), false],
  ])("treats validity bounds as inclusive: %s", async (_, at, ok) => {
    expect((await checkCaCertificatePem(ca.certificatePem, at())).ok).toBe(ok);
  });

  test("reports the first broken rule in the contract's order", async () => {
    // Two certificates, one of them expired: the count is reported, not the expiry.
    const result = await checkCaCertificatePem(bad.expired.pem + ca.certificatePem, NOW);
    expect(result).toMatchObject({ ok: false, rule: "singleCertificate" });
  });

  test("says that a private key pasted in place of the certificate is key material that must never be pasted", async () => {
    const result = await checkCaCertificatePem(bad.privateKeyInPlaceOfCertificate.pem, NOW);
    expect(result).toMatchObject({ ok: false, rule: "noPrivateKey" });
    if (result.ok) return;
    expect(result.message).toContain("the text is private-key material, not a certificate");
    expect(result.message).toContain("must never be pasted here");
    expect(result.message).not.toContain("no -----BEGIN CERTIFICATE----- block");
  });

  test("names the input as the caller asks, e.g. the API field", async () => {
    const result = await checkCaCertificatePem(bad.notCa.pem, NOW, { field: "ca_certificate_pem" });
    expect(result.ok === false && result.message).toMatch(/^ca_certificate_pem fails "BasicConstraints CA:TRUE \(critical\)"/);
  });

  test("says how many certificate blocks it found", async () => {
    const result = await checkCaCertificatePem(bad.twoCertificates.pem, NOW);
    expect(result.ok === false && result.message).toContain("found 2");
  });

  test("treats a non-string input as holding no certificate", async () => {
    const result = await checkCaCertificatePem(42 as unknown as string, NOW);
    expect(result).toMatchObject({ ok: false, rule: "singleCertificate" });
  });

  test("accepts text around the block, as openssl writes it, and fingerprints the DER alone", async () => {
    const annotated = `subject=CN=Rules CA\nissuer=CN=Rules CA\n${ca.certificatePem}`;
    expect(await checkCaCertificatePem(annotated, NOW)).toMatchObject({ ok: true, fingerprint: fingerprintOfPem(ca.certificatePem) });
  });
});

// Counterexamples the property test found, kept so the rules cannot regress on them.
const NON_DER_PATH_LENGTH_CA = `-----BEGIN CERTIFICATE-----
MIIBbjCCAROgAwIBAgIQe2wwEai9inmfqge2DzF4MzAKBggqhkjOPQQDAjAVMRMw
EQYDVQQDEwpGaXh0dXJlIENBMB4XDTI2MTEzMDE1MTg0OVoXDTI2MTIzMTE1MTg0
OVowFTETMBEGA1UEAxMKRml4dHVyZSBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEH
A0IABHsAB25ipU6od5Sw6LOsaywz7lRCwKIqa6KX9umqsKkwbFWsebmP2EIVoPpf
nykgxukXIdJkbU4abkczR3/qTa+jRTBDMBIGA1UdEwEB/wQIMAYBAf8CgQAwHQYD
VR0OBBYEFG8X//uRbdEb3a/bz2ytMM73EDZ4MA4GA1UdDwEB/wQEAwIBBjAKBggq
hkjOPQQDAgNJADBGAiEAwG4Umb+7wqZDwZKxDUyf/GF3FxcDS3J18oV+ZG/5hD0C
IQCY0zJI5Xh//FPQitnoAMHlJTiDxwQjhyhf0qr9eln9ow==
-----END CERTIFICATE-----
`;

describe("CA certificates that only a lenient parser accepts", () => {
  const within = new Date("2026-12-15T00:00:00Z");

  it("refuses BasicConstraints whose pathLen is not DER (OpenSSL drops the extension, so it is not a CA)", async () => {
    expect(await checkCaCertificatePem(NON_DER_PATH_LENGTH_CA, within)).toMatchObject({ ok: false, rule: "basicConstraintsCa" });
  });

  it("refuses a BEGIN CERTIFICATE line with a space before it, which OpenSSL does not see as a block", async () => {
    expect(await checkCaCertificatePem(` ${NON_DER_PATH_LENGTH_CA}`, within)).toMatchObject({ ok: false });
  });
});
