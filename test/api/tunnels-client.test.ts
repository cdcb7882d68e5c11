import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { mintAccessToken } from "../support/emulator-credentials";
import { TUNNEL_DOMAIN_PATTERN, TUNNEL_ID_PATTERN } from "../../core/contract/tunnels-api";
import { EMULATOR_FIXTURE } from "../../emulator/index";
import { TunnelsClient } from "../../core/api/index";
import { apiFailure, caCertificatePem, countCalls, startHarness, type Harness } from "./support";

let harness: Harness;
let client: TunnelsClient;

beforeAll(async () => {
  harness = await startHarness();
  client = await harness.tunnelsClient();
});
afterAll(() => harness.close());
beforeEach(async () => {
  // The reset revokes the client's access token: every test also proves the client re-mints after a 401.
  await harness.control.reset();
});

describe("tunnels", () => {
  it("creates, retrieves, lists and archives a tunnel, camelCased", async () => {
    const tunnel = await client.tunnels.create({ displayName: "gateway" });
    expect(tunnel).toEqual({
      id: expect.stringMatching(TUNNEL_ID_PATTERN),
      displayName: "gateway",
      domain: expect.stringMatching(TUNNEL_DOMAIN_PATTERN),
      createdAt: expect.any(String),
      archivedAt: null,
    });
    expect(await client.tunnels.retrieve(tunnel.id)).toEqual(tunnel);
    expect((await client.tunnels.list().toArray()).map((t) => t.id)).toEqual([tunnel.id]);

    const archived = await client.tunnels.archive(tunnel.id);
    expect(archived.archivedAt).not.toBeNull();
    expect(await client.tunnels.archive(tunnel.id)).toEqual(archived);
    expect(await client.tunnels.list().toArray()).toEqual([]);
    expect(await client.tunnels.list({ includeArchived: true }).toArray()).toEqual([archived]);
  });

  it("creates a tunnel without a display name", async () => {
    expect((await client.tunnels.create()).displayName).toBeNull();
  });

  it("lists across pages, newest first, fetching pages as iterated", async () => {
    const created = [];
    for (let i = 0; i < 5; i++) created.push(await client.tunnels.create({ displayName: `t${i}` }));
    await harness.control.clearRequests();
    const seen = [];
    for await (const tunnel of client.tunnels.list({ limit: 2 })) seen.push(tunnel.id);
    expect(seen).toEqual(created.map((t) => t.id).reverse());
    expect(countCalls(await harness.control.requests(), "GET", "/v1/tunnels")).toBe(3);
  });

  it("reveals the same token until rotated, then a new one", async () => {
    const tunnel = await client.tunnels.create({ displayName: "tokens" });
    const first = await client.tunnels.revealToken(tunnel.id);
    expect(first.tunnelToken).toEqual(expect.any(String));
    expect(await client.tunnels.revealToken(tunnel.id)).toEqual(first);
    const rotated = await client.tunnels.rotateToken(tunnel.id, { reason: "quarterly rotation" });
    expect(rotated.id).not.toBe(first.id);
    expect(rotated.tunnelToken).not.toBe(first.tunnelToken);
    expect(await client.tunnels.revealToken(tunnel.id)).toEqual(rotated);
    const rotation = (await harness.control.audit()).find((entry) => entry.action === "token.rotate");
    expect(JSON.stringify(rotation?.detail)).toContain("quarterly rotation");
  });
});

describe("certificates", () => {
  it("creates, retrieves, lists and archives a CA certificate", async () => {
    const tunnel = await client.tunnels.create({ displayName: "certs" });
    const pem = await caCertificatePem();
    const certificate = await client.certificates.create(tunnel.id, { caCertificatePem: pem });
    expect(certificate).toEqual({
      id: expect.stringMatching(/^tcrt_/),
      tunnelId: tunnel.id,
      fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
      expiresAt: expect.any(String),
      createdAt: expect.any(String),
      archivedAt: null,
    });
    expect(await client.certificates.retrieve(tunnel.id, certificate.id)).toEqual(certificate);
    expect(await client.certificates.list(tunnel.id).toArray()).toEqual([certificate]);
    const archived = await client.certificates.archive(tunnel.id, certificate.id);
    expect(archived.archivedAt).not.toBeNull();
    expect(await client.certificates.list(tunnel.id).toArray()).toEqual([]);
    expect(await client.certificates.list(tunnel.id, { includeArchived: true, limit: 1 }).toArray()).toEqual([archived]);
  });
});

describe("error codes", () => {
  it("TUNNELS_NOT_FOUND for an unknown tunnel or certificate", async () => {
    const unknown = "tnl_111111111111111111111111";
    expect((await apiFailure(client.tunnels.retrieve(unknown))).code).toBe("TUNNELS_NOT_FOUND");
    const tunnel = await client.tunnels.create();
    expect((await apiFailure(client.certificates.retrieve(tunnel.id, "tcrt_111111111111111111111111"))).code).toBe("TUNNELS_NOT_FOUND");
  });

  it("TUNNELS_LIMIT_REACHED for the 11th tunnel of the organization", async () => {
    for (let i = 0; i < 10; i++) await client.tunnels.create({ displayName: `n${i}` });
    const error = await apiFailure(client.tunnels.create({ displayName: "one too many" }));
    expect(error).toMatchObject({ code: "TUNNELS_LIMIT_REACHED", status: 409 });
    expect(error.requestId).toMatch(/^req_/);
    expect(error.hint).toContain("10");
  });

  it("CERT_SLOTS_FULL, CERT_ALREADY_ACTIVE and INVALID_CERTIFICATE on certificate create", async () => {
    const tunnel = await client.tunnels.create();
    const [a, b, c] = await Promise.all([caCertificatePem("a"), caCertificatePem("b"), caCertificatePem("c")]);
    await client.certificates.create(tunnel.id, { caCertificatePem: a });
    expect((await apiFailure(client.certificates.create(tunnel.id, { caCertificatePem: a }))).code).toBe("CERT_ALREADY_ACTIVE");
    await client.certificates.create(tunnel.id, { caCertificatePem: b });
    expect((await apiFailure(client.certificates.create(tunnel.id, { caCertificatePem: c }))).code).toBe("CERT_SLOTS_FULL");
    const invalid = await apiFailure(client.certificates.create(tunnel.id, { caCertificatePem: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" }));
    expect(invalid).toMatchObject({ code: "INVALID_CERTIFICATE", status: 400 });
  });

  it("CONFLICT when changing an archived tunnel", async () => {
    const tunnel = await client.tunnels.create();
    await client.tunnels.archive(tunnel.id);
    expect((await apiFailure(client.tunnels.rotateToken(tunnel.id))).code).toBe("CONFLICT");
    expect((await apiFailure(client.tunnels.revealToken(tunnel.id))).code).toBe("CONFLICT");
  });

  it("INVALID_REQUEST for bad input, before anything is sent", async () => {
    await harness.control.clearRequests();
    expect((await apiFailure(client.tunnels.create({ displayName: "x".repeat(256) }))).code).toBe("INVALID_REQUEST");
    expect((await apiFailure(client.tunnels.list({ limit: 0 }).toArray())).code).toBe("INVALID_REQUEST");
    expect((await apiFailure(client.tunnels.retrieve(""))).code).toBe("INVALID_REQUEST");
    expect((await apiFailure(client.tunnels.rotateToken("tnl_x", { reason: "r".repeat(1025) }))).code).toBe("INVALID_REQUEST");
    expect(await harness.control.requests()).toEqual([]);
  });
});

describe("credentials", () => {
  it("works with a ready bearer in ANTHROPIC_AUTH_TOKEN", async () => {
    const bearer = await mintAccessToken(harness.emulator.baseUrl);
    const bearerClient = new TunnelsClient({ baseUrl: harness.emulator.baseUrl, env: { ANTHROPIC_AUTH_TOKEN: bearer } });
    try {
      const tunnel = await bearerClient.tunnels.create({ displayName: "bearer" });
      expect((await bearerClient.tunnels.retrieve(tunnel.id)).id).toBe(tunnel.id);
    } finally {
      await bearerClient.close();
    }
  });

  it("ignores an ANTHROPIC_API_KEY in the environment", async () => {
    const withKey = await harness.tunnelsClient({ envOverrides: { ANTHROPIC_API_KEY: "sk-ant-api03-must-never-be-sent" } });
    expect(await withKey.tunnels.list().toArray()).toEqual([]);

    const keyOnly = new TunnelsClient({ baseUrl: harness.emulator.baseUrl, env: { ANTHROPIC_API_KEY: "sk-ant-api03-must-never-be-sent" } });
    await harness.control.clearRequests();
    const error = await apiFailure(keyOnly.tunnels.list().toArray());
    expect(error.code).toBe("CONFIGURATION");
    expect(error.message).toContain("ANTHROPIC_API_KEY is set but ignored");
    expect(await harness.control.requests()).toEqual([]);
    await keyOnly.close();
  });

  it("reads process.env at first call when no env is passed", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, await harness.federationEnv(), { ANTHROPIC_BASE_URL: harness.emulator.baseUrl });
    const fromProcess = new TunnelsClient();
    try {
      expect(await fromProcess.tunnels.list().toArray()).toEqual([]);
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
      await fromProcess.close();
    }
  });

  it("uses the configured workspace: tunnels of another workspace are invisible", async () => {
    const platform = await harness.tunnelsClient({ envOverrides: { ANTHROPIC_WORKSPACE_ID: "wrkspc_platform" } });
    const tunnel = await platform.tunnels.create({ displayName: "platform only" });
    expect((await apiFailure(client.tunnels.retrieve(tunnel.id))).code).toBe("TUNNELS_NOT_FOUND");
    expect((await apiFailure(client.tunnels.retrieve(tunnel.id))).hint).toContain(EMULATOR_FIXTURE.defaultWorkspaceId);
  });
});
