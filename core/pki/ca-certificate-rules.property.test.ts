import { X509Certificate } from "node:crypto";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { CA_CERTIFICATE_RULES, MAX_CA_CERTIFICATE_PEM_CHARS } from "../contract/tunnels-api";
import { checkCaCertificatePem, generateCertificateAuthority } from "./index";
import { makeBadCaCertificates } from "../../test/support/bad-ca-certificates";

const NOW = new Date();
let seeds: string[] = [];

beforeAll(async () => {
  const good = await Promise.all(
    (["ECDSA_P256", "RSA_2048"] as const).map((keyAlgorithm) => generateCertificateAuthority({ commonName: "property CA", keyAlgorithm, validityDays: 30, now: NOW })),
  );
  const bad = Object.values(await makeBadCaCertificates(NOW)).map((entry) => entry.pem);
  seeds = [...good.map((ca) => ca.certificatePem), ...bad];
});

/** Texts near real PEMs: edited, truncated, re-armored, concatenated, or noise. */
const pemLike = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.constantFrom(...seeds),
    fc.tuple(fc.constantFrom(...seeds), fc.nat(), fc.string({ maxLength: 8 })).map(([pem, at, junk]) => pem.slice(0, at % pem.length) + junk + pem.slice(at % pem.length)),
    fc.tuple(fc.constantFrom(...seeds), fc.nat()).map(([pem, at]) => pem.slice(0, at % pem.length)),
    fc.tuple(fc.constantFrom(...seeds), fc.nat(), fc.nat(255)).map(([pem, at, byte]) => flipDerByte(pem, at, byte)),
    fc.base64String({ maxLength: 400 }).map((body) => `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`),
    fc.tuple(fc.constantFrom(...seeds), fc.constantFrom(...seeds)).map(([a, b]) => a + b),
  );

function flipDerByte(pem: string, at: number, byte: number): string {
  const body = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  const der = Buffer.from(body, "base64");
  if (der.length === 0) return pem;
  der[at % der.length] = byte;
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}

/** An independent reading of the rules with Node's own X.509 parser (OpenSSL): the breaches it finds. */
function breachesPerNode(pem: string): string[] {
  if (pem.length > MAX_CA_CERTIFICATE_PEM_CHARS) return ["length"];
  if (/PRIVATE KEY/i.test(pem)) return ["private key"];
  if ((pem.match(/-----BEGIN CERTIFICATE-----/g) ?? []).length !== 1) return ["block count"];
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch (error) {
    return [`unparseable: ${(error as Error).message}`];
  }
  const key = certificate.publicKey;
  const breaches: string[] = [];
  if (!certificate.ca) breaches.push("not a CA");
  if (key.asymmetricKeyType === "rsa" ? (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048 : key.asymmetricKeyType !== "ec") breaches.push("weak key");
  if (!(new Date(certificate.validFrom) <= NOW && NOW <= new Date(certificate.validTo))) breaches.push(`validity ${certificate.validFrom} – ${certificate.validTo}`);
  return breaches;
}

describe("CA certificate rules on random input", () => {
  it("never throw, always name a rule when they refuse, and never repeat the input", async () => {
    const rules = new Set(Object.keys(CA_CERTIFICATE_RULES));
    await fc.assert(
      fc.asyncProperty(pemLike(), async (pem) => {
        const verdict = await checkCaCertificatePem(pem, NOW);
        if (verdict.ok) return;
        expect(rules.has(verdict.rule)).toBe(true);
        const body = pem.split("\n").filter((line) => line.length >= 24 && !line.startsWith("-----"));
        expect(body.some((line) => verdict.message.includes(line))).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it("never accept a certificate that an independent parser finds in breach of a rule", async () => {
    await fc.assert(
      fc.asyncProperty(pemLike(), async (pem) => {
        const verdict = await checkCaCertificatePem(pem, NOW);
        if (verdict.ok) expect(breachesPerNode(pem)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
