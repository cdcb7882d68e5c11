import { createServer as createTcpServer, type Server } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateCertificateAuthority, issueServerCertificate } from "../../core/pki";
import type { GeneratedCertificate } from "../../core/pki";
import { Conformance } from "./conformance-client";

const DAY_MS = 24 * 3600 * 1000;

let emu: Conformance;
let tunnel: { id: string; domain: string };
let caA: GeneratedCertificate;
let caB: GeneratedCertificate;
let caAId: string;

const issue = (ca: GeneratedCertificate, domain: string, now = new Date(), validityDays = 30) =>
  issueServerCertificate({ caCertificatePem: ca.certificatePem, caPrivateKeyPem: ca.privateKeyPem, domain, keyAlgorithm: "ECDSA_P256", validityDays, now });

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));
}

/** A real TLS server on port 0 presenting `certificate` while the probe runs. */
async function probeAgainst(certificate: { certificatePem: string; privateKeyPem: string }, route = "mcp", tunnelId = tunnel.id) {
  const server = createTlsServer({ cert: certificate.certificatePem, key: certificate.privateKeyPem });
  server.on("tlsClientError", () => {});
  const port = await listen(server);
  try {
    return await emu.control("POST", "/_emulator/probe", { tunnel_id: tunnelId, host: "127.0.0.1", port, route });
  } finally {
    server.close();
  }
}

const register = async (ca: GeneratedCertificate) =>
  (await emu.tunnels("POST", `/v1/tunnels/${tunnel.id}/certificates`, { body: { ca_certificate_pem: ca.certificatePem } })).body.id as string;

beforeAll(async () => {
  emu = await Conformance.start();
  tunnel = (await emu.tunnels("POST", "/v1/tunnels", { body: { display_name: "probe" } })).body;
  // Ten days old, so a server certificate issued back then can already have expired.
  caA = await generateCertificateAuthority({ commonName: "CA A", keyAlgorithm: "ECDSA_P256", validityDays: 60, now: new Date(Date.now() - 10 * DAY_MS) });
  caB = await generateCertificateAuthority({ commonName: "CA B", keyAlgorithm: "ECDSA_P256", validityDays: 60, now: new Date() });
  caAId = await register(caA);
});
afterAll(() => emu.close());

describe("the TLS probe", () => {
  it("succeeds for a certificate from the active CA covering <route>.<domain>", async () => {
    expect(await probeAgainst(await issue(caA, tunnel.domain))).toEqual({ ok: true, ca_fingerprint: caA.fingerprint });
  });

  it.each([
    ["a CA the tunnel does not know", async () => issue(caB, tunnel.domain), "unknown_ca"],
    ["another tunnel's domain", async () => issue(caA, "zzzzzzzz.tunnel.anthropic.com"), "name_mismatch"],
    ["an expired certificate", async () => issue(caA, tunnel.domain, new Date(Date.now() - 9 * DAY_MS), 1), "expired"],
  ])("fails for %s", async (_, certificate, reason) => {
    const result = await probeAgainst(await certificate());
    expect(result).toMatchObject({ ok: false, reason });
    expect(result.message).toEqual(expect.any(String));
  });

  it("reports a handshake error when nothing speaks TLS", async () => {
    const plain = createTcpServer((socket) => socket.end("HTTP/1.1 400 Bad Request\r\n\r\n"));
    const port = await listen(plain);
    try {
      const result = await emu.control("POST", "/_emulator/probe", { tunnel_id: tunnel.id, host: "127.0.0.1", port, route: "mcp" });
      expect(result).toMatchObject({ ok: false, reason: "handshake_error" });
    } finally {
      plain.close();
    }
  });

  it("trusts both CAs during an overlap, and names an archived CA once it is archived", async () => {
    await register(caB);
    const fromA = await issue(caA, tunnel.domain);
    const fromB = await issue(caB, tunnel.domain);
    expect(await probeAgainst(fromA, "api")).toEqual({ ok: true, ca_fingerprint: caA.fingerprint });
    expect(await probeAgainst(fromB, "api")).toEqual({ ok: true, ca_fingerprint: caB.fingerprint });

    await emu.tunnels("POST", `/v1/tunnels/${tunnel.id}/certificates/${caAId}/archive`);
    expect(await probeAgainst(fromA)).toMatchObject({ ok: false, reason: "archived_ca" });
    expect(await probeAgainst(fromB)).toEqual({ ok: true, ca_fingerprint: caB.fingerprint });
  });

  it("refuses every connection to an archived tunnel", async () => {
    const other = (await emu.tunnels("POST", "/v1/tunnels", { body: {} })).body;
    await emu.tunnels("POST", `/v1/tunnels/${other.id}/certificates`, { body: { ca_certificate_pem: caB.certificatePem } });
    const certificate = await issue(caB, other.domain);
    expect(await probeAgainst(certificate, "mcp", other.id)).toEqual({ ok: true, ca_fingerprint: caB.fingerprint });
    await emu.tunnels("POST", `/v1/tunnels/${other.id}/archive`);
    expect(await probeAgainst(certificate, "mcp", other.id)).toMatchObject({ ok: false, reason: "tunnel_archived" });
  });

  it.each([
    ["an unknown tunnel", { tunnel_id: "tnl_111111111111111111111111", host: "127.0.0.1", port: 1, route: "mcp" }, 404],
    ["a route that is not a DNS label", { tunnel_id: "x", host: "127.0.0.1", port: 443, route: "a.b" }, 400],
    ["a port out of range", { tunnel_id: "x", host: "127.0.0.1", port: 70000, route: "mcp" }, 400],
  ])("answers a probe of %s with %i", async (_, body, status) => {
    expect((await emu.call("POST", "/_emulator/probe", { body })).status).toBe(status);
  });
});
