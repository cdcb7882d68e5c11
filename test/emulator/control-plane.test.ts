import * as jose from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { RETRY_AFTER_SECONDS } from "../../core/contract/tunnels-api";
import { EMULATOR_FIXTURE } from "../../emulator/index";
import { Conformance } from "./conformance-client";

let emu: Conformance;
beforeAll(async () => {
  emu = await Conformance.start();
});
afterAll(() => emu.close());
beforeEach(async () => {
  await emu.reset();
  await emu.tunnelsToken();
});

const setFaults = (rules: Record<string, unknown>[]) => emu.control("POST", "/_emulator/faults", { rules });
const listTunnels = async () => (await emu.tunnels("GET", "/v1/tunnels")).body.data as { id: string }[];

describe("faults", () => {
  it.each([
    [503, "api_error", false],
    [500, "api_error", false],
    [429, "rate_limit_error", true],
    [529, "overloaded_error", true],
    [409, "conflict_error", false],
  ])("answers %i with the normal error body (%s) and retry-after only where due", async (status, type, retryAfter) => {
    await setFaults([{ path_prefix: "/v1/tunnels", method: "POST", status, rate: 1, count: 1 }]);
    const faulted = await emu.tunnels("POST", "/v1/tunnels", { body: {} });
    expect(faulted.status).toBe(status);
    expect(faulted.body).toEqual({ type: "error", error: { type, message: expect.any(String) }, request_id: faulted.headers.get("request-id") });
    expect(faulted.headers.get("retry-after")).toBe(retryAfter ? String(RETRY_AFTER_SECONDS) : null);
    expect(await listTunnels()).toEqual([]);
    expect((await emu.tunnels("POST", "/v1/tunnels", { body: {} })).status).toBe(200);
  });

  it("drops the connection on reset, before the change", async () => {
    await setFaults([{ path_prefix: "/v1/tunnels", method: "POST", reset: true, rate: 1, count: 1 }]);
    await expect(emu.tunnels("POST", "/v1/tunnels", { body: {} })).rejects.toThrow();
    expect(await listTunnels()).toEqual([]);
  });

  it("applies the change and then fails the response with after_commit", async () => {
    await setFaults([{ path_prefix: "/v1/tunnels", method: "POST", status: 500, after_commit: true, rate: 1, count: 1 }]);
    expect((await emu.tunnels("POST", "/v1/tunnels", { body: { display_name: "ghost" } })).status).toBe(500);
    expect(await listTunnels()).toHaveLength(1);
  });

  it("applies the change and then drops the connection with after_commit and reset", async () => {
    await setFaults([{ path_prefix: "/v1/tunnels", method: "POST", reset: true, after_commit: true, rate: 1, count: 1 }]);
    await expect(emu.tunnels("POST", "/v1/tunnels", { body: {} })).rejects.toThrow();
    expect(await listTunnels()).toHaveLength(1);
  });

  it("delays by latency_ms and then answers normally", async () => {
    await setFaults([{ path_prefix: "/v1/tunnels", method: "GET", latency_ms: 200, rate: 1, count: 1 }]);
    const started = Date.now();
    expect((await emu.tunnels("GET", "/v1/tunnels")).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it("matches method and path prefix, stops after count, never fires at rate 0, and clears", async () => {
    await setFaults([
      { path_prefix: "/v1/tunnels", method: "GET", status: 503, rate: 1, count: 2 },
      { path_prefix: "/v1/organizations", status: 503, rate: 0 },
    ]);
    expect((await emu.tunnels("POST", "/v1/tunnels", { body: {} })).status).toBe(200);
    expect((await emu.tunnels("GET", "/v1/tunnels")).status).toBe(503);
    expect((await emu.tunnels("GET", "/v1/tunnels")).status).toBe(503);
    expect((await emu.tunnels("GET", "/v1/tunnels")).status).toBe(200);
    expect((await emu.admin("GET", "/v1/organizations/service_accounts")).status).toBe(200);

    await setFaults([{ status: 503, rate: 1 }]);
    expect((await emu.tunnels("GET", "/v1/tunnels")).status).toBe(503);
    expect((await emu.control("GET", "/_emulator/audit")).data).toBeDefined();
    await emu.control("DELETE", "/_emulator/faults");
    expect((await emu.tunnels("GET", "/v1/tunnels")).status).toBe(200);
  });

  it.each([
    [{ rules: [{ status: 503 }] }],
    [{ rules: [{ status: 503, rate: 2 }] }],
    [{ rules: [{ status: 200, rate: 1 }] }],
    [{ rules: [{ rate: 1 }] }],
    [{ rules: [{ status: 503, reset: true, rate: 1 }] }],
    [{ rules: [{ status: 503, rate: 1, count: 0 }] }],
    [{ rules: [{ status: 503, rate: 1, path: "/v1" }] }],
    [{}],
  ])("refuses the fault set %j with 400", async (body) => {
    const result = await emu.call("POST", "/_emulator/faults", { body });
    expect(result.status).toBe(400);
  });
});

describe("the request log", () => {
  it("lists API requests oldest first with their status, leaves out the control plane, and clears", async () => {
    await emu.control("DELETE", "/_emulator/requests");
    await emu.tunnels("POST", "/v1/tunnels", { body: {} });
    await emu.tunnels("GET", "/v1/tunnels?limit=5");
    await emu.tunnels("GET", "/v1/missing");
    await emu.control("GET", "/_emulator/audit");
    const { data } = await emu.control("GET", "/_emulator/requests");
    expect(data.map((entry: { method: string; path: string; status: number }) => [entry.method, entry.path, entry.status])).toEqual([
      ["POST", "/v1/tunnels", 200],
      ["GET", "/v1/tunnels", 200],
      ["GET", "/v1/missing", 404],
    ]);
    expect(data[0].at).toEqual(expect.any(String));
    await emu.control("DELETE", "/_emulator/requests");
    expect((await emu.control("GET", "/_emulator/requests")).data).toEqual([]);
  });
});

describe("reset", () => {
  it("empties all state, forgets tokens, clears faults and re-seeds the fixture", async () => {
    const stale = await emu.tunnelsToken();
    await emu.tunnels("POST", "/v1/tunnels", { body: {} });
    await emu.control("POST", "/_emulator/clock", { offset_seconds: 3600 });
    await setFaults([{ path_prefix: "/v1/organizations", status: 503, rate: 1 }]);
    await emu.reset();
    expect((await emu.call("GET", "/v1/tunnels", { token: stale })).status).toBe(401);
    expect(await listTunnels()).toEqual([]);
    expect((await emu.control("GET", "/_emulator/audit")).data.filter((e: { action: string }) => e.action.startsWith("tunnel."))).toEqual([]);
    const accounts = (await emu.admin("GET", "/v1/organizations/service_accounts")).body.data.map((a: { id: string }) => a.id);
    expect(accounts).toEqual([EMULATOR_FIXTURE.adminServiceAccountId, EMULATOR_FIXTURE.tunnelsServiceAccountId]);
    expect((await emu.control("POST", "/_emulator/clock", { offset_seconds: 0 })).offset_seconds).toBe(0);
  });
});

describe("the built-in OIDC issuer", () => {
  it("publishes discovery and a JWKS that verifies the identity tokens it mints", async () => {
    const configuration = await emu.control("GET", "/_emulator/oidc/.well-known/openid-configuration");
    expect(configuration.issuer).toBe(`${emu.baseUrl}/_emulator/oidc`);
    expect(configuration.jwks_uri).toBe(`${emu.baseUrl}/_emulator/oidc/jwks`);
    const jwks = jose.createRemoteJWKSet(new URL(configuration.jwks_uri));
    const { id_token } = await emu.control("POST", "/_emulator/oidc/token", { sub: "alice", aud: "api.anthropic.com", ttl_seconds: 120, jti: "fixed-jti", iat_offset_seconds: -10 });
    const { payload, protectedHeader } = await jose.jwtVerify(id_token, jwks, { issuer: configuration.issuer, audience: "api.anthropic.com" });
    expect(protectedHeader.alg).toBe("ES256");
    expect(payload).toMatchObject({ sub: "alice", jti: "fixed-jti" });
    expect(payload.exp! - payload.iat!).toBe(120);
    expect(Math.abs(payload.iat! - (Math.floor(Date.now() / 1000) - 10))).toBeLessThanOrEqual(2);
  });

  it("gives each identity token a random jti and a 600 s lifetime by default", async () => {
    const decode = async () => jose.decodeJwt((await emu.control("POST", "/_emulator/oidc/token", { sub: "bob", aud: "api.anthropic.com" })).id_token);
    const [first, second] = [await decode(), await decode()];
    expect(first.jti).not.toBe(second.jti);
    expect(first.exp! - first.iat!).toBe(600);
  });

  it.each([[{ aud: "x" }], [{ sub: "" , aud: "x" }], [{ sub: "a", ttl_seconds: 0 }], [{ sub: "a", claims: { iss: "x" } }], [{ sub: "a", unknown: 1 }]])(
    "refuses the identity-token request %j with 400",
    async (body) => {
      expect((await emu.call("POST", "/_emulator/oidc/token", { body })).status).toBe(400);
    },
  );
});

describe("the control plane itself", () => {
  it("answers unknown paths with 404 and wrong methods with 405", async () => {
    expect((await emu.call("GET", "/_emulator/nothing")).status).toBe(404);
    expect((await emu.call("GET", "/_emulator/reset")).status).toBe(405);
  });
});
