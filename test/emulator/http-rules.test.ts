import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_REQUEST_BODY_BYTES, TUNNELS_BETA } from "../../core/contract/tunnels-api";
import { EMULATOR_FIXTURE } from "../../emulator/index";
import { Conformance, type CallOptions } from "./conformance-client";

let emu: Conformance;
let tunnelId: string;

beforeAll(async () => {
  emu = await Conformance.start();
  tunnelId = (await emu.tunnels("POST", "/v1/tunnels", { body: { display_name: "rules" } })).body.id;
});
afterAll(() => emu.close());

/** node:http, for what fetch cannot send: repeated headers. */
function rawRequest(method: string, path: string, headers: Record<string, string | string[]>): Promise<{ status: number; body: any }> {
  const url = new URL(emu.baseUrl + path);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("header rules", () => {
  it.each<[string, CallOptions, number, string?]>([
    ["no anthropic-version", { omitVersion: true }, 400, "anthropic-version"],
    ["an anthropic-version before 2023-06-01", { headers: { "anthropic-version": "2022-01-01" } }, 400, "anthropic-version"],
    ["a malformed anthropic-version", { headers: { "anthropic-version": "latest" } }, 400, "anthropic-version"],
    ["the official SDK's anthropic-version", { headers: { "anthropic-version": "2026-10-21" } }, 200],
    ["no anthropic-beta", { omitBeta: true }, 400, TUNNELS_BETA],
    ["another beta only", { headers: { "anthropic-beta": "oauth-2025-04-20" } }, 400, TUNNELS_BETA],
    ["the beta inside a list", { headers: { "anthropic-beta": `oauth-2025-04-20, ${TUNNELS_BETA},files-api-2025-04-14` } }, 200],
    ["x-stainless headers", { headers: { "x-stainless-lang": "js", "x-stainless-retry-count": "0", "x-stainless-timeout": "600" } }, 200],
  ])("answers a tunnel call with %s with %i", async (_, options, status, named) => {
    const result = await emu.tunnels("GET", "/v1/tunnels", options);
    expect(result.status).toBe(status);
    if (named) {
      expect(result.body.error.type).toBe("invalid_request_error");
      expect(result.body.error.message).toContain(named);
    }
  });

  it("takes the beta from any of several anthropic-beta headers", async () => {
    const token = await emu.tunnelsToken();
    const result = await rawRequest("GET", "/v1/tunnels", {
      authorization: `Bearer ${token}`,
      "anthropic-version": "2023-06-01",
      "anthropic-beta": ["oauth-2025-04-20", TUNNELS_BETA],
    });
    expect(result.status).toBe(200);
  });

  it.each([
    ["a tunnel list", "/v1/tunnels?beta=true", "tunnels"],
    ["a tunnel retrieve", () => `/v1/tunnels/${tunnelId}?beta=true`, "tunnels"],
    ["an admin list", "/v1/organizations/service_accounts?beta=true", "admin"],
  ] as const)("accepts and ignores ?beta=true on %s", async (_, path, kind) => {
    const target = typeof path === "function" ? path() : path;
    const result = kind === "tunnels" ? await emu.tunnels("GET", target) : await emu.admin("GET", target);
    expect(result.status).toBe(200);
  });

  it("sends request-id, anthropic-organization-id and the token's anthropic-workspace-id on every response", async () => {
    const platform = await emu.call("GET", "/v1/tunnels", { token: await emu.tunnelsToken("wrkspc_platform") });
    expect(platform.headers.get("request-id")).toMatch(/^req_[1-9A-HJ-NP-Za-km-z]{24}$/);
    expect(platform.headers.get("anthropic-organization-id")).toBe(EMULATOR_FIXTURE.organizationId);
    expect(platform.headers.get("anthropic-workspace-id")).toBe("wrkspc_platform");
    const failed = await emu.call("GET", "/v1/nothing-here");
    expect(failed.headers.get("request-id")).toBe(failed.body.request_id);
    expect(failed.headers.get("anthropic-organization-id")).toBe(EMULATOR_FIXTURE.organizationId);
    expect(failed.headers.get("anthropic-workspace-id")).toBe(EMULATOR_FIXTURE.defaultWorkspaceId);
  });
});

describe("authentication and authorization", () => {
  it.each<[string, () => Promise<CallOptions>, number, string]>([
    ["no credentials", async () => ({}), 401, "authentication_error"],
    ["an X-Api-Key only", async () => ({ headers: { "x-api-key": "sk-ant-api03-xxxx" } }), 401, "authentication_error"],
    ["an unknown bearer", async () => ({ token: "sk-ant-oat01-unknown" }), 401, "authentication_error"],
    ["a Basic authorization", async () => ({ headers: { authorization: "Basic dXNlcjpwYXNz" } }), 401, "authentication_error"],
    ["an org:admin bearer (no tunnels scope)", async () => ({ token: await emu.adminToken() }), 403, "permission_error"],
    [
      "a workspace header naming another workspace",
      async () => ({ token: await emu.tunnelsToken(), headers: { "anthropic-workspace-id": "wrkspc_platform" } }),
      403,
      "permission_error",
    ],
  ])("answers a tunnel call with %s with %i", async (_, options, status, type) => {
    const result = await emu.call("GET", "/v1/tunnels", await options());
    expect(result.status).toBe(status);
    expect(result.body).toEqual({ type: "error", error: { type, message: expect.any(String) }, request_id: expect.stringMatching(/^req_/) });
  });

  it("names X-Api-Key in the refusal", async () => {
    const result = await emu.call("GET", "/v1/tunnels", { headers: { "x-api-key": "sk-ant-api03-xxxx" } });
    expect(result.body.error.message).toContain("X-Api-Key");
    expect(result.body.error.message).not.toContain("sk-ant-api03-xxxx");
  });

  it.each([["its own id", EMULATOR_FIXTURE.defaultWorkspaceId], ["the literal default", "default"]])(
    "accepts a workspace header with %s",
    async (_, workspace) => {
      expect((await emu.tunnels("GET", "/v1/tunnels", { headers: { "anthropic-workspace-id": workspace } })).status).toBe(200);
    },
  );

  it("refuses a tunnels bearer on admin endpoints with 403", async () => {
    const result = await emu.call("GET", "/v1/organizations/service_accounts", { token: await emu.tunnelsToken() });
    expect(result.status).toBe(403);
    expect(result.body.error.type).toBe("permission_error");
  });
});

describe("bad requests neither crash the emulator nor change state", () => {
  it.each<[string, CallOptions & { method?: string; path?: string }, number, string]>([
    ["malformed JSON", { rawBody: "{not json", headers: { "content-type": "application/json" } }, 400, "invalid_request_error"],
    ["a JSON array", { rawBody: "[]", headers: { "content-type": "application/json" } }, 400, "invalid_request_error"],
    ["JSON null", { rawBody: "null", headers: { "content-type": "application/json" } }, 400, "invalid_request_error"],
    ["a text/plain body", { rawBody: "{}", headers: { "content-type": "text/plain" } }, 400, "invalid_request_error"],
    ["a form body", { rawBody: "display_name=x", headers: { "content-type": "application/x-www-form-urlencoded" } }, 400, "invalid_request_error"],
    ["a body over 1 MiB", { rawBody: Buffer.alloc(MAX_REQUEST_BODY_BYTES + 1, 0x20), headers: { "content-type": "application/json" } }, 413, "request_too_large"],
    ["an unknown route", { method: "GET", path: "/v1/tunnelz" }, 404, "not_found_error"],
    ["a trailing slash", { method: "GET", path: "/v1/tunnels/" }, 404, "not_found_error"],
    ["a broken percent-encoding", { method: "GET", path: "/v1/tunnels/%E0%A4%A" }, 404, "not_found_error"],
    ["DELETE on a collection", { method: "DELETE" }, 405, "invalid_request_error"],
    ["PUT on a tunnel", { method: "PUT", path: "/v1/tunnels/tnl_111111111111111111111111" }, 405, "invalid_request_error"],
  ])("answers %s with %i %s", async (_, options, status, type) => {
    const result = await emu.tunnels(options.method ?? "POST", options.path ?? "/v1/tunnels", options);
    expect(result.status).toBe(status);
    expect(result.body.error.type).toBe(type);
  });

  it("answers 413 to a chunked body that grows past 1 MiB, and keeps serving", async () => {
    const token = await emu.tunnelsToken();
    const url = new URL(emu.baseUrl + "/v1/tunnels");
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "anthropic-version": "2023-06-01", "anthropic-beta": TUNNELS_BETA, "content-type": "application/json" },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      for (let i = 0; i < 20; i++) req.write(chunk);
      req.end();
    });
    expect(status).toBe(413);
    expect((await emu.tunnels("GET", "/v1/tunnels")).status).toBe(200);
  });

  it("names the allowed methods on a 405", async () => {
    const result = await emu.tunnels("DELETE", "/v1/tunnels");
    expect(result.headers.get("allow")).toBe("POST, GET");
  });

  it.each([
    ["limit=0"],
    ["limit=1001"],
    ["limit=-1"],
    ["limit=abc"],
    ["limit=1e3"],
    ["limit=2.5"],
    ["limit="],
    ["limit=99999999999999999999999"],
    ["limit=5&limit=6"],
    ["include_archived=yes"],
    ["include_archived=1"],
    ["page=not-a-cursor"],
    ["page=" + "A".repeat(5000)],
    ["page=" + Buffer.from("service_accounts:3").toString("base64url")],
  ])("refuses the query %s with 400", async (query) => {
    const result = await emu.tunnels("GET", `/v1/tunnels?${query}`);
    expect(result.status).toBe(400);
    expect(result.body.error.type).toBe("invalid_request_error");
  });

  it.each([["limit=1000"], ["limit=1"], ["include_archived=false"], ["page="], ["unknown_param=whatever"]])("accepts the query %s", async (query) => {
    expect((await emu.tunnels("GET", `/v1/tunnels?${query}`)).status).toBe(200);
  });

  it("still serves the same state after all of the above", async () => {
    const listed = (await emu.tunnels("GET", "/v1/tunnels?include_archived=true")).body.data;
    expect(listed.map((tunnel: { id: string }) => tunnel.id)).toEqual([tunnelId]);
  });
});
