import { createHash, X509Certificate } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CA_CERTIFICATE_RULES, CERTIFICATE_ID_PATTERN, CONFLICT_MESSAGE_PREFIX, MAX_ACTIVE_CERTIFICATES_PER_TUNNEL } from "../../core/contract/tunnels-api";
import { generateCertificateAuthority } from "../../core/pki";
import { BAD_CA_CERTIFICATE_RULES, makeBadCaCertificates, type BadCaCertificate, type BadCaCertificateName } from "../support/bad-ca-certificates";
import { Conformance } from "./conformance-client";

let emu: Conformance;
let bad: Record<BadCaCertificateName, BadCaCertificate>;
let tunnelId: string;

const newCa = (commonName = "Tunnel CA") => generateCertificateAuthority({ commonName, keyAlgorithm: "ECDSA_P256", validityDays: 30, now: new Date() });
const register = (pem: string, tunnel = tunnelId) => emu.tunnels("POST", `/v1/tunnels/${tunnel}/certificates`, { body: { ca_certificate_pem: pem } });

beforeAll(async () => {
  emu = await Conformance.start();
  bad = await makeBadCaCertificates(new Date());
});
afterAll(() => emu.close());
beforeEach(async () => {
  await emu.reset();
  tunnelId = (await emu.tunnels("POST", "/v1/tunnels", { body: { display_name: "certs" } })).body.id;
});

describe("C1 register", () => {
  it("returns a certificate whose fingerprint is the SHA-256 of the DER and whose expiry is the CA's notAfter", async () => {
    const ca = await newCa();
    const result = await register(ca.certificatePem);
    expect(result.status).toBe(200);
    const der = new X509Certificate(ca.certificatePem).raw;
    expect(result.body).toEqual({
      type: "tunnel_certificate",
      id: expect.stringMatching(CERTIFICATE_ID_PATTERN),
      tunnel_id: tunnelId,
      fingerprint: createHash("sha256").update(der).digest("hex"),
      expires_at: ca.notAfter.toISOString(),
      created_at: expect.any(String),
      archived_at: null,
    });
  });

  it.each(Object.entries(BAD_CA_CERTIFICATE_RULES))("refuses %s with 400 naming the rule %s", async (name, rule) => {
    const result = await register(bad[name as BadCaCertificateName].pem);
    expect(result.status).toBe(400);
    expect(result.body.error.type).toBe("invalid_request_error");
    expect(result.body.error.message).toContain(CA_CERTIFICATE_RULES[rule]);
    expect(result.body.error.message).toContain(`[rule: ${rule}]`);
  });

  it.each([
    ["a missing ca_certificate_pem", {}],
    ["a numeric ca_certificate_pem", { ca_certificate_pem: 42 }],
    ["an unknown field", { ca_certificate_pem: "x", name: "y" }],
  ])("refuses %s with 400", async (_, body) => {
    const result = await emu.tunnels("POST", `/v1/tunnels/${tunnelId}/certificates`, { body });
    expect(result.status).toBe(400);
  });

  it("refuses the same fingerprint while it is active, and takes it again once archived", async () => {
    const ca = await newCa();
    const first = (await register(ca.certificatePem)).body;
    const duplicate = await register(ca.certificatePem);
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error.message.startsWith(CONFLICT_MESSAGE_PREFIX.duplicateCertificate)).toBe(true);
    await emu.tunnels("POST", `/v1/tunnels/${tunnelId}/certificates/${first.id}/archive`);
    const again = await register(ca.certificatePem);
    expect(again.status).toBe(200);
    expect(again.body.id).not.toBe(first.id);
  });

  it("holds the two-active-certificate limit under parallel uploads", async () => {
    const cas = await Promise.all(Array.from({ length: 6 }, (_, i) => newCa(`CA ${i}`)));
    const results = await Promise.all(cas.map((ca) => register(ca.certificatePem)));
    expect(results.filter((result) => result.status === 200)).toHaveLength(MAX_ACTIVE_CERTIFICATES_PER_TUNNEL);
    const conflicts = results.filter((result) => result.status === 409);
    expect(conflicts).toHaveLength(6 - MAX_ACTIVE_CERTIFICATES_PER_TUNNEL);
    for (const conflict of conflicts) {
      expect(conflict.body.error.type).toBe("conflict_error");
      expect(conflict.body.error.message.startsWith(CONFLICT_MESSAGE_PREFIX.certificateLimit)).toBe(true);
    }
  });

  it("refuses uploads to an archived tunnel with 409", async () => {
    await emu.tunnels("POST", `/v1/tunnels/${tunnelId}/archive`);
    const result = await register((await newCa()).certificatePem);
    expect(result.status).toBe(409);
    expect(result.body.error.message.startsWith(CONFLICT_MESSAGE_PREFIX.tunnelArchived)).toBe(true);
  });

  it("answers 404 for an unknown tunnel", async () => {
    expect((await register((await newCa()).certificatePem, "tnl_111111111111111111111111")).status).toBe(404);
  });
});

describe("C2 list, C3 retrieve, C4 archive", () => {
  it("lists active certificates newest first, pages them, and shows archived ones on request", async () => {
    const first = (await register((await newCa("one")).certificatePem)).body;
    const second = (await register((await newCa("two")).certificatePem)).body;
    const page1 = (await emu.tunnels("GET", `/v1/tunnels/${tunnelId}/certificates?limit=1`)).body;
    expect(page1.data.map((c: { id: string }) => c.id)).toEqual([second.id]);
    const page2 = (await emu.tunnels("GET", `/v1/tunnels/${tunnelId}/certificates?limit=1&page=${page1.next_page}`)).body;
    expect(page2).toEqual({ data: [first], next_page: null });

    const archived = (await emu.tunnels("POST", `/v1/tunnels/${tunnelId}/certificates/${first.id}/archive`)).body;
    expect(archived.archived_at).not.toBeNull();
    expect((await emu.tunnels("POST", `/v1/tunnels/${tunnelId}/certificates/${first.id}/archive`)).body).toEqual(archived);
    expect((await emu.tunnels("GET", `/v1/tunnels/${tunnelId}/certificates`)).body.data).toEqual([second]);
    expect((await emu.tunnels("GET", `/v1/tunnels/${tunnelId}/certificates?include_archived=true`)).body.data).toEqual([second, archived]);
    expect((await emu.tunnels("GET", `/v1/tunnels/${tunnelId}/certificates/${first.id}`)).body).toEqual(archived);
  });

  it("allows archiving the last active certificate", async () => {
    const only = (await register((await newCa()).certificatePem)).body;
    expect((await emu.tunnels("POST", `/v1/tunnels/${tunnelId}/certificates/${only.id}/archive`)).status).toBe(200);
    expect((await emu.tunnels("GET", `/v1/tunnels/${tunnelId}/certificates`)).body.data).toEqual([]);
    expect((await emu.tunnels("GET", `/v1/tunnels/${tunnelId}`)).body.archived_at).toBeNull();
  });

  it("answers 404 for a certificate of another tunnel", async () => {
    const certificate = (await register((await newCa()).certificatePem)).body;
    const other = (await emu.tunnels("POST", "/v1/tunnels", { body: {} })).body;
    expect((await emu.tunnels("GET", `/v1/tunnels/${other.id}/certificates/${certificate.id}`)).status).toBe(404);
    expect((await emu.tunnels("POST", `/v1/tunnels/${other.id}/certificates/${certificate.id}/archive`)).status).toBe(404);
  });
});
