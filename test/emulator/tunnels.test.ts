import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CERTIFICATE_ID_PATTERN, CONFLICT_MESSAGE_PREFIX, MAX_ACTIVE_TUNNELS_PER_ORGANIZATION, TUNNEL_DOMAIN_PATTERN, TUNNEL_ID_PATTERN, TUNNEL_TOKEN_ID_PATTERN } from "../../core/contract/tunnels-api";
import { EMULATOR_FIXTURE } from "../../emulator/index";
import { generateCertificateAuthority } from "../../core/pki";
import { Conformance } from "./conformance-client";

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const PLATFORM = "wrkspc_platform";

let emu: Conformance;
beforeAll(async () => {
  emu = await Conformance.start();
});
afterAll(() => emu.close());
beforeEach(() => emu.reset());

const createTunnel = async (body: unknown = {}, workspaceId?: string) =>
  emu.ok("POST", "/v1/tunnels", { token: await emu.tunnelsToken(workspaceId), body });

async function registerCa(tunnelId: string, commonName = "Tunnel CA") {
  const ca = await generateCertificateAuthority({ commonName, keyAlgorithm: "ECDSA_P256", validityDays: 30, now: new Date() });
  return emu.ok("POST", `/v1/tunnels/${tunnelId}/certificates`, { token: await emu.tunnelsToken(), body: { ca_certificate_pem: ca.certificatePem } });
}

describe("T1 create", () => {
  it("returns a tunnel with the documented shape and a fresh domain", async () => {
    const tunnel = await createTunnel({ display_name: "prod" });
    expect(Object.keys(tunnel).sort()).toEqual(["archived_at", "created_at", "display_name", "domain", "id", "type"]);
    expect(tunnel).toMatchObject({ type: "tunnel", display_name: "prod", archived_at: null });
    expect(tunnel.id).toMatch(TUNNEL_ID_PATTERN);
    expect(tunnel.domain).toMatch(TUNNEL_DOMAIN_PATTERN);
    expect(tunnel.created_at).toMatch(RFC3339_UTC);
  });

  it.each([
    ["no body", undefined, null],
    ["an empty object", {}, null],
    ["a null display_name", { display_name: null }, null],
    ["a 255-character display_name", { display_name: "n".repeat(255) }, "n".repeat(255)],
  ])("accepts %s", async (_, body, displayName) => {
    const result = await emu.tunnels("POST", "/v1/tunnels", body === undefined ? {} : { body });
    expect(result.status).toBe(200);
    expect(result.body.display_name).toBe(displayName);
  });

  it.each([
    ["an empty display_name", { display_name: "" }, "display_name"],
    ["a 256-character display_name", { display_name: "n".repeat(256) }, "display_name"],
    ["a numeric display_name", { display_name: 7 }, "display_name"],
    ["an unknown field", { name: "x" }, "name"],
  ])("refuses %s with 400 naming the field", async (_, body, field) => {
    const result = await emu.tunnels("POST", "/v1/tunnels", { body });
    expect(result.status).toBe(400);
    expect(result.body.error.type).toBe("invalid_request_error");
    expect(result.body.error.message).toContain(field);
  });

  it("is not idempotent: the same body twice makes two tunnels with different domains", async () => {
    const first = await createTunnel({ display_name: "same" });
    const second = await createTunnel({ display_name: "same" });
    expect(second.id).not.toBe(first.id);
    expect(second.domain).not.toBe(first.domain);
  });
});

describe("the organization-wide tunnel limit", () => {
  it("yields exactly 10 tunnels and 40 conflicts from 50 parallel creates on an empty organization", async () => {
    const token = await emu.tunnelsToken();
    const results = await Promise.all(Array.from({ length: 50 }, () => emu.call("POST", "/v1/tunnels", { token, body: {} })));
    const created = results.filter((result) => result.status === 200);
    const conflicts = results.filter((result) => result.status === 409);
    expect(created).toHaveLength(MAX_ACTIVE_TUNNELS_PER_ORGANIZATION);
    expect(conflicts).toHaveLength(50 - MAX_ACTIVE_TUNNELS_PER_ORGANIZATION);
    expect(new Set(created.map((result) => result.body.id)).size).toBe(MAX_ACTIVE_TUNNELS_PER_ORGANIZATION);
    for (const conflict of conflicts) {
      expect(conflict.body.error.type).toBe("conflict_error");
      expect(conflict.body.error.message.startsWith(CONFLICT_MESSAGE_PREFIX.tunnelLimit)).toBe(true);
      expect(conflict.body.error.message).toContain(String(MAX_ACTIVE_TUNNELS_PER_ORGANIZATION));
    }
    const listed = await emu.ok("GET", "/v1/tunnels?limit=100", { token });
    expect(listed.data).toHaveLength(MAX_ACTIVE_TUNNELS_PER_ORGANIZATION);
  });

  it("counts every workspace, and frees a slot when a tunnel is archived", async () => {
    for (let i = 0; i < 5; i++) await createTunnel({}, EMULATOR_FIXTURE.defaultWorkspaceId);
    const platformTunnels = [];
    for (let i = 0; i < 5; i++) platformTunnels.push(await createTunnel({}, PLATFORM));
    const refused = await emu.call("POST", "/v1/tunnels", { token: await emu.tunnelsToken(PLATFORM), body: {} });
    expect(refused.status).toBe(409);
    await emu.ok("POST", `/v1/tunnels/${platformTunnels[0].id}/archive`, { token: await emu.tunnelsToken(PLATFORM) });
    expect((await emu.tunnels("POST", "/v1/tunnels", { body: {} })).status).toBe(200);
  });
});

describe("T2 list and T3 retrieve", () => {
  it("lists newest first and walks every page through next_page cursors", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createTunnel({ display_name: `t${i}` })).id);
    const seen: string[] = [];
    let page: string | null = null;
    const sizes: number[] = [];
    do {
      const query: string = page ? `?limit=2&page=${encodeURIComponent(page)}` : "?limit=2";
      const result: { data: { id: string }[]; next_page: string | null } = (await emu.tunnels("GET", `/v1/tunnels${query}`)).body;
      sizes.push(result.data.length);
      seen.push(...result.data.map((tunnel) => tunnel.id));
      page = result.next_page;
    } while (page);
    expect(sizes).toEqual([2, 2, 1]);
    expect(seen).toEqual([...ids].reverse());
  });

  it("gives next_page null when the page holds the rest exactly", async () => {
    for (let i = 0; i < 2; i++) await createTunnel();
    expect((await emu.tunnels("GET", "/v1/tunnels?limit=2")).body.next_page).toBeNull();
  });

  it("hides archived tunnels unless include_archived=true, and still retrieves them", async () => {
    const kept = await createTunnel();
    const archived = await createTunnel();
    await emu.tunnels("POST", `/v1/tunnels/${archived.id}/archive`);
    const active = (await emu.tunnels("GET", "/v1/tunnels")).body.data.map((tunnel: { id: string }) => tunnel.id);
    expect(active).toEqual([kept.id]);
    const all = (await emu.tunnels("GET", "/v1/tunnels?include_archived=true")).body.data.map((tunnel: { id: string }) => tunnel.id);
    expect(all).toEqual([archived.id, kept.id]);
    const retrieved = await emu.tunnels("GET", `/v1/tunnels/${archived.id}`);
    expect(retrieved.status).toBe(200);
    expect(retrieved.body.archived_at).toMatch(RFC3339_UTC);
  });

  it.each([["an unknown id", "tnl_111111111111111111111111"], ["a malformed id", "not-a-tunnel"]])("answers 404 for %s", async (_, id) => {
    const result = await emu.tunnels("GET", `/v1/tunnels/${id}`);
    expect(result.status).toBe(404);
    expect(result.body.error.type).toBe("not_found_error");
  });
});

describe("workspace isolation", () => {
  const foreignOperations: [string, string, (tunnelId: string, certificateId: string) => string, unknown?][] = [
    ["retrieve", "GET", (t) => `/v1/tunnels/${t}`],
    ["archive", "POST", (t) => `/v1/tunnels/${t}/archive`],
    ["reveal", "POST", (t) => `/v1/tunnels/${t}/reveal_token`],
    ["rotate", "POST", (t) => `/v1/tunnels/${t}/rotate_token`, { reason: "x" }],
    ["list certificates", "GET", (t) => `/v1/tunnels/${t}/certificates`],
    ["register a certificate", "POST", (t) => `/v1/tunnels/${t}/certificates`, { ca_certificate_pem: "x" }],
    ["retrieve a certificate", "GET", (t, c) => `/v1/tunnels/${t}/certificates/${c}`],
    ["archive a certificate", "POST", (t, c) => `/v1/tunnels/${t}/certificates/${c}/archive`],
  ];

  it("keeps another workspace's tunnels invisible (404) and untouched", async () => {
    const foreign = await createTunnel({ display_name: "platform" }, PLATFORM);
    const platformToken = await emu.tunnelsToken(PLATFORM);
    const ca = await generateCertificateAuthority({ commonName: "Platform CA", keyAlgorithm: "ECDSA_P256", validityDays: 30, now: new Date() });
    const certificate = await emu.ok("POST", `/v1/tunnels/${foreign.id}/certificates`, { token: platformToken, body: { ca_certificate_pem: ca.certificatePem } });
    expect(certificate.id).toMatch(CERTIFICATE_ID_PATTERN);

    for (const [name, method, path, body] of foreignOperations) {
      const result = await emu.tunnels(method, path(foreign.id, certificate.id), body === undefined ? {} : { body });
      expect(result.status, name).toBe(404);
    }
    expect((await emu.tunnels("GET", "/v1/tunnels?include_archived=true")).body.data).toEqual([]);
    const unchanged = await emu.ok("GET", `/v1/tunnels/${foreign.id}`, { token: platformToken });
    expect(unchanged.archived_at).toBeNull();
    expect((await emu.ok("GET", `/v1/tunnels/${foreign.id}/certificates`, { token: platformToken })).data).toHaveLength(1);
  });
});

describe("T4 archive", () => {
  it("archives every active certificate with the same timestamp, is idempotent, and invalidates the token", async () => {
    const tunnel = await createTunnel();
    const first = await registerCa(tunnel.id, "CA one");
    const second = await registerCa(tunnel.id, "CA two");
    const { tunnel_token } = (await emu.tunnels("POST", `/v1/tunnels/${tunnel.id}/reveal_token`)).body;

    const archived = (await emu.tunnels("POST", `/v1/tunnels/${tunnel.id}/archive`)).body;
    expect(archived.archived_at).toMatch(RFC3339_UTC);
    const again = await emu.tunnels("POST", `/v1/tunnels/${tunnel.id}/archive`);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(archived);

    const certificates = (await emu.tunnels("GET", `/v1/tunnels/${tunnel.id}/certificates?include_archived=true`)).body.data;
    expect(certificates.map((c: { id: string }) => c.id).sort()).toEqual([first.id, second.id].sort());
    for (const certificate of certificates) expect(certificate.archived_at).toBe(archived.archived_at);

    expect(await emu.control("POST", "/_emulator/connect", { tunnel_token })).toEqual({ ok: false, reason: "tunnel_archived" });
    for (const action of ["reveal_token", "rotate_token"]) {
      const refused = await emu.tunnels("POST", `/v1/tunnels/${tunnel.id}/${action}`);
      expect(refused.status, action).toBe(409);
      expect(refused.body.error.message.startsWith(CONFLICT_MESSAGE_PREFIX.tunnelArchived)).toBe(true);
    }
  });

  it("refuses a body with fields", async () => {
    const tunnel = await createTunnel();
    expect((await emu.tunnels("POST", `/v1/tunnels/${tunnel.id}/archive`, { body: { force: true } })).status).toBe(400);
  });
});

describe("T5 reveal and T6 rotate", () => {
  it("reveals the same token until rotated; rotation changes id and value and refuses the old value", async () => {
    const tunnel = await createTunnel();
    const first = (await emu.tunnels("POST", `/v1/tunnels/${tunnel.id}/reveal_token`)).body;
    expect(Object.keys(first).sort()).toEqual(["id", "tunnel_token", "type"]);
    expect(first.type).toBe("tunnel_token");
    expect(first.id).toMatch(TUNNEL_TOKEN_ID_PATTERN);
    expect((await emu.tunnels("POST", `/v1/tunnels/${tunnel.id}/reveal_token`)).body).toEqual(first);

    const rotated = (await emu.tunnels("POST", `/v1/tunnels/${tunnel.id}/rotate_token`, { body: { reason: "suspected leak" } })).body;
    expect(rotated.id).toMatch(TUNNEL_TOKEN_ID_PATTERN);
    expect(rotated.id).not.toBe(first.id);
    expect(rotated.tunnel_token).not.toBe(first.tunnel_token);
    expect((await emu.tunnels("POST", `/v1/tunnels/${tunnel.id}/reveal_token`)).body).toEqual(rotated);

    expect(await emu.control("POST", "/_emulator/connect", { tunnel_token: first.tunnel_token })).toEqual({ ok: false, reason: "rotated" });
    expect(await emu.control("POST", "/_emulator/connect", { tunnel_token: rotated.tunnel_token })).toEqual({ ok: true, tunnel_id: tunnel.id, token_id: rotated.id });
  });

  it.each([
    ["no body", undefined, 200],
    ["a 1024-character reason", { reason: "r".repeat(1024) }, 200],
    ["a 1025-character reason", { reason: "r".repeat(1025) }, 400],
    ["an unknown field", { why: "x" }, 400],
  ])("rotates with %s → %i", async (_, body, status) => {
    const tunnel = await createTunnel();
    expect((await emu.tunnels("POST", `/v1/tunnels/${tunnel.id}/rotate_token`, body === undefined ? {} : { body })).status).toBe(status);
  });
});

describe("the audit log", () => {
  it("records creates, reveals, rotations with reason, certificate changes and archives, without secrets", async () => {
    const tunnel = await createTunnel();
    const revealed = (await emu.tunnels("POST", `/v1/tunnels/${tunnel.id}/reveal_token`)).body;
    await emu.tunnels("POST", `/v1/tunnels/${tunnel.id}/rotate_token`, { body: { reason: "quarterly rotation" } });
    const certificate = await registerCa(tunnel.id);
    await emu.tunnels("POST", `/v1/tunnels/${tunnel.id}/certificates/${certificate.id}/archive`);
    await emu.tunnels("POST", `/v1/tunnels/${tunnel.id}/archive`);

    const entries = (await emu.audit()).filter((entry) => entry.tunnel_id === tunnel.id);
    expect(entries.map((entry) => entry.action)).toEqual([
      "tunnel.create",
      "token.reveal",
      "token.rotate",
      "certificate.create",
      "certificate.archive",
      "tunnel.archive",
    ]);
    for (const entry of entries) {
      expect(entry.actor).toBe(EMULATOR_FIXTURE.tunnelsServiceAccountId);
      expect(entry.at).toMatch(RFC3339_UTC);
    }
    expect(entries[1]!.detail).toEqual({ token_id: revealed.id });
    expect(entries[2]!.detail).toMatchObject({ previous_token_id: revealed.id, reason: "quarterly rotation" });
    expect(entries[3]!.detail).toMatchObject({ certificate_id: certificate.id, fingerprint: certificate.fingerprint });
    expect(JSON.stringify(await emu.audit())).not.toContain(revealed.tunnel_token);
  });
});
