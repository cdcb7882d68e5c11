import { execFile } from "node:child_process";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { createServer, type Server } from "node:http";
import { promisify } from "node:util";
import * as jose from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FEDERATION_BETA, JWT_BEARER_GRANT, OAUTH_BETA, SCOPE_MANAGE_TUNNELS, TOKEN_EXCHANGE_PATH } from "../../core/contract/tunnels-api";
import { EMULATOR_FIXTURE } from "../../emulator/index";
import { Conformance } from "./conformance-client";

const TUNNELS_SUBJECT = "system:serviceaccount:mcp-tunnel:setup";
const CUSTOM_ISSUER_URL = "https://issuer.example.test/oidc";
const CUSTOM_SCOPE = "workspace:developer";

let emu: Conformance;
let issuerUrl: string;
let emulatorKid: string;
let customKey: KeyObject;
let customRuleId: string;

const now = () => Math.floor(Date.now() / 1000);
const sign = (claims: jose.JWTPayload, header: jose.JWTHeaderParameters, key: KeyObject | Uint8Array) =>
  new jose.SignJWT(claims).setProtectedHeader(header).sign(key);

beforeAll(async () => {
  emu = await Conformance.start();
  issuerUrl = `${emu.baseUrl}/_emulator/oidc`;
  emulatorKid = (await emu.control("GET", "/_emulator/oidc/jwks")).keys[0].kid;
  customKey = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
  const publicJwk = { ...(await jose.exportJWK(customKey)), d: undefined, kid: "custom-1", alg: "ES256", use: "sig" };
  delete publicJwk.d;
  const issuer = await emu.ok("POST", "/v1/organizations/federation_issuers", {
    token: await emu.adminToken(),
    omitBeta: true,
    body: { name: "custom", issuer_url: CUSTOM_ISSUER_URL, jwks: { type: "inline", keys: [publicJwk] } },
  });
  const rule = await emu.ok("POST", "/v1/organizations/federation_rules", {
    token: await emu.adminToken(),
    omitBeta: true,
    body: {
      name: "custom",
      issuer_id: issuer.id,
      match: { subject_prefix: "ci:*", audience: "api.anthropic.com", claims: { repository: "acme/infra" } },
      target: { type: "service_account", service_account_id: EMULATOR_FIXTURE.tunnelsServiceAccountId },
      oauth_scope: CUSTOM_SCOPE,
      token_lifetime_seconds: 900,
      workspace_ids: ["wrkspc_platform"],
    },
  });
  customRuleId = rule.id;
});
afterAll(() => emu.close());
afterEach(() => emu.control("POST", "/_emulator/clock", { offset_seconds: 0 }));

const customToken = (claims: jose.JWTPayload = {}, header: Partial<jose.JWTHeaderParameters> = {}) =>
  sign(
    { iss: CUSTOM_ISSUER_URL, sub: "ci:deploy", aud: "api.anthropic.com", iat: now(), exp: now() + 300, jti: crypto.randomUUID(), repository: "acme/infra", ...claims },
    { alg: "ES256", kid: "custom-1", ...header },
    customKey,
  );

describe("a successful exchange", () => {
  it("returns a bearer token for the rule's scope and workspace", async () => {
    const result = await emu.exchange(await emu.identityToken(TUNNELS_SUBJECT, { ttl_seconds: 3600 }));
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ access_token: expect.any(String), token_type: "Bearer", expires_in: 3600, scope: SCOPE_MANAGE_TUNNELS });
    expect(result.headers.get("anthropic-workspace-id")).toBe(EMULATOR_FIXTURE.defaultWorkspaceId);
    expect(result.headers.get("cache-control")).toBe("no-store");
    expect((await emu.call("GET", "/v1/tunnels", { token: result.body.access_token })).status).toBe(200);
  });

  it.each([
    ["is capped at twice the identity token's remaining validity", 600, [1196, 1200]],
    ["is the rule's lifetime when the identity token outlives it", 3600, [3600, 3600]],
    ["is at least 60 seconds", 20, [60, 60]],
  ])("gives a lifetime that %s", async (_, ttl, [low, high]) => {
    const result = await emu.exchange(await emu.identityToken(TUNNELS_SUBJECT, { ttl_seconds: ttl }));
    expect(result.body.expires_in).toBeGreaterThanOrEqual(low!);
    expect(result.body.expires_in).toBeLessThanOrEqual(high!);
  });

  it("accepts a form-encoded body, as OAuth token endpoints do", async () => {
    const form = new URLSearchParams({
      grant_type: JWT_BEARER_GRANT,
      assertion: await emu.identityToken(TUNNELS_SUBJECT),
      federation_rule_id: EMULATOR_FIXTURE.tunnelsRuleId,
      organization_id: EMULATOR_FIXTURE.organizationId,
      workspace_id: "wrkspc_platform",
    });
    const result = await emu.call("POST", `${TOKEN_EXCHANGE_PATH}?beta=true`, {
      omitVersion: true,
      omitBeta: true,
      rawBody: form.toString(),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(result.status).toBe(200);
    expect(result.headers.get("anthropic-workspace-id")).toBe("wrkspc_platform");
  });

  it("binds a rule's only workspace when none is given, through an admin-made issuer with inline keys", async () => {
    const result = await emu.exchange(await customToken(), { federation_rule_id: customRuleId, workspace_id: undefined });
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ scope: CUSTOM_SCOPE, expires_in: 600 });
    expect(result.headers.get("anthropic-workspace-id")).toBe("wrkspc_platform");
    const tunnels = await emu.call("GET", "/v1/tunnels", { token: result.body.access_token });
    expect(tunnels.status).toBe(403);
  });

  it("records the exchange in the audit log without the assertion or the token", async () => {
    const assertion = await emu.identityToken(TUNNELS_SUBJECT);
    const { access_token } = (await emu.exchange(assertion)).body;
    const entry = (await emu.audit()).filter((candidate) => candidate.action === "oauth.exchange").at(-1)!;
    expect(entry.actor).toBe(EMULATOR_FIXTURE.tunnelsServiceAccountId);
    expect(entry.detail).toMatchObject({ federation_rule_id: EMULATOR_FIXTURE.tunnelsRuleId, subject: TUNNELS_SUBJECT, workspace_id: EMULATOR_FIXTURE.defaultWorkspaceId });
    const log = JSON.stringify(await emu.audit());
    expect(log).not.toContain(assertion);
    expect(log).not.toContain(access_token);
  });
});

const execFileAsync = promisify(execFile);

describe("the headers of an exchange", () => {
  it("accepts the public WIF guides' cURL exchange (content-type and the body only), whose token lists tunnels", async () => {
    const body = JSON.stringify({
      grant_type: JWT_BEARER_GRANT,
      assertion: await emu.identityToken(TUNNELS_SUBJECT),
      federation_rule_id: EMULATOR_FIXTURE.tunnelsRuleId,
      organization_id: EMULATOR_FIXTURE.organizationId,
      workspace_id: EMULATOR_FIXTURE.defaultWorkspaceId,
    });
    const { stdout, stderr } = await execFileAsync("/usr/bin/curl", [
      "-sS",
      "-v",
      "-X",
      "POST",
      emu.baseUrl + TOKEN_EXCHANGE_PATH,
      "-H",
      "content-type: application/json",
      "-d",
      body,
      "-w",
      "\n%{http_code}",
    ]);
    const sentHeaders = stderr
      .split("\n")
      .filter((line) => /^> [A-Za-z-]+:/.test(line))
      .map((line) => line.slice(2, line.indexOf(":")).toLowerCase());
    expect(sentHeaders).toContain("content-type");
    expect(sentHeaders.filter((name) => name.startsWith("anthropic-"))).toEqual([]);
    const status = stdout.slice(stdout.lastIndexOf("\n") + 1);
    const answer = JSON.parse(stdout.slice(0, stdout.lastIndexOf("\n")));
    expect({ status, answer }).toEqual({ status: "200", answer: { access_token: expect.any(String), token_type: "Bearer", expires_in: expect.any(Number), scope: SCOPE_MANAGE_TUNNELS } });
    expect((await emu.call("GET", "/v1/tunnels", { token: answer.access_token })).status).toBe(200);
  });

  it.each<[string, Record<string, string>]>([
    ["no anthropic-* header", {}],
    ["the official SDK's betas", { "anthropic-beta": `${OAUTH_BETA},${FEDERATION_BETA}` }],
    ["the official SDK's betas and its anthropic-version", { "anthropic-beta": `${OAUTH_BETA},${FEDERATION_BETA}`, "anthropic-version": "2026-10-21" }],
    ["an unrelated beta only", { "anthropic-beta": "files-api-2025-04-14" }],
  ])("accepts an exchange carrying %s", async (_, headers) => {
    const result = await emu.exchange(await emu.identityToken(TUNNELS_SUBJECT), {}, { headers });
    expect(result.status).toBe(200);
    expect((await emu.call("GET", "/v1/tunnels", { token: result.body.access_token })).status).toBe(200);
  });
});

describe("the workspace and service account an exchange names", () => {
  const rules = { all: "", one: "", several: EMULATOR_FIXTURE.tunnelsRuleId };
  beforeAll(async () => {
    const create = async (name: string, workspaces: Record<string, unknown>) =>
      (
        await emu.ok("POST", "/v1/organizations/federation_rules", {
          token: await emu.adminToken(),
          omitBeta: true,
          body: {
            name,
            issuer_id: EMULATOR_FIXTURE.issuerId,
            match: { subject_prefix: EMULATOR_FIXTURE.tunnelsSubjectPrefix, audience: "api.anthropic.com" },
            target: { type: "service_account", service_account_id: EMULATOR_FIXTURE.tunnelsServiceAccountId },
            oauth_scope: CUSTOM_SCOPE,
            ...workspaces,
          },
        })
      ).id as string;
    rules.all = await create("all workspaces", { applies_to_all_workspaces: true });
    rules.one = await create("one workspace", { workspace_ids: ["wrkspc_platform"] });
  });

  const target = EMULATOR_FIXTURE.tunnelsServiceAccountId;
  it.each<[string, keyof typeof rules, Record<string, unknown>, { bound: string } | { denied: string }]>([
    ["no workspace_id under a rule for all workspaces gets the default one", "all", { workspace_id: undefined }, { bound: "wrkspc_default" }],
    ["the literal default under a rule for all workspaces", "all", { workspace_id: "default" }, { bound: "wrkspc_default" }],
    ["another workspace under a rule for all workspaces", "all", { workspace_id: "wrkspc_platform" }, { bound: "wrkspc_platform" }],
    ["no workspace_id under a rule for one workspace gets that one", "one", { workspace_id: undefined }, { bound: "wrkspc_platform" }],
    ["that workspace under a rule for one workspace", "one", { workspace_id: "wrkspc_platform" }, { bound: "wrkspc_platform" }],
    ["the literal default under a rule for one other workspace", "one", { workspace_id: "default" }, { denied: "workspace_not_enabled" }],
    ["no workspace_id under a rule for several workspaces", "several", { workspace_id: undefined }, { denied: "workspace_required" }],
    ["the literal default under a rule for several workspaces", "several", { workspace_id: "default" }, { bound: "wrkspc_default" }],
    ["one of the workspaces of a rule for several", "several", { workspace_id: "wrkspc_platform" }, { bound: "wrkspc_platform" }],
    ["no service_account_id", "several", { service_account_id: undefined }, { bound: "wrkspc_default" }],
    ["the rule's target as service_account_id", "several", { service_account_id: target }, { bound: "wrkspc_default" }],
    ["the rule's target under a rule for all workspaces", "all", { workspace_id: undefined, service_account_id: target }, { bound: "wrkspc_default" }],
    ["another service account than the rule's target", "several", { service_account_id: EMULATOR_FIXTURE.adminServiceAccountId }, { denied: "service_account_mismatch" }],
  ])("%s", async (_, rule, fields, expected) => {
    const result = await emu.exchange(await emu.identityToken(TUNNELS_SUBJECT), { federation_rule_id: rules[rule], ...fields });
    if ("bound" in expected) {
      expect(result.status).toBe(200);
      expect(result.headers.get("anthropic-workspace-id")).toBe(expected.bound);
    } else {
      expect(result.status).toBe(401);
      expect(result.body.error.message).toBe("Authentication failed");
      expect(await emu.lastDenialReason()).toBe(expected.denied);
    }
  });
});

type Denial = [string, () => Promise<{ assertion: string; fields?: Record<string, unknown> }>, string];

const denials: Denial[] = [
  ["an expired identity token", async () => ({ assertion: await emu.identityToken(TUNNELS_SUBJECT, { iat_offset_seconds: -700, ttl_seconds: 600 }) }), "expired"],
  ["an iat in the future beyond the skew", async () => ({ assertion: await emu.identityToken(TUNNELS_SUBJECT, { iat_offset_seconds: 120 }) }), "iat_in_future"],
  ["a lifetime over the issuer's maximum", async () => ({ assertion: await emu.identityToken(TUNNELS_SUBJECT, { ttl_seconds: 3601 }) }), "lifetime_too_long"],
  ["the wrong audience", async () => ({ assertion: await emu.identityToken(TUNNELS_SUBJECT, { aud: "sts.amazonaws.com" }) }), "audience_mismatch"],
  ["a subject outside the prefix", async () => ({ assertion: await emu.identityToken("system:serviceaccount:other:setup") }), "subject_mismatch"],
  ["no jti while the issuer checks jti", async () => ({ assertion: await emu.identityToken(TUNNELS_SUBJECT, { jti: null }) }), "missing_jti"],
  [
    "a kid not in the issuer's JWKS",
    async () => ({ assertion: await sign({ iss: issuerUrl, sub: TUNNELS_SUBJECT, aud: "api.anthropic.com", iat: now(), exp: now() + 60, jti: "a" }, { alg: "ES256", kid: "stranger" }, customKey) }),
    "unknown_kid",
  ],
  [
    "no kid",
    async () => ({ assertion: await sign({ iss: issuerUrl, sub: TUNNELS_SUBJECT, aud: "api.anthropic.com", iat: now(), exp: now() + 60, jti: "b" }, { alg: "ES256" }, customKey) }),
    "missing_kid",
  ],
  [
    "HS256",
    async () => ({
      assertion: await sign(
        { iss: issuerUrl, sub: TUNNELS_SUBJECT, aud: "api.anthropic.com", iat: now(), exp: now() + 60, jti: "c" },
        { alg: "HS256", kid: emulatorKid },
        new TextEncoder().encode("a shared secret of at least thirty-two bytes"),
      ),
    }),
    "disallowed_alg",
  ],
  [
    "alg none",
    async () => {
      const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
      return { assertion: `${encode({ alg: "none", kid: emulatorKid })}.${encode({ iss: issuerUrl, sub: TUNNELS_SUBJECT, aud: "api.anthropic.com", iat: now(), exp: now() + 60 })}.` };
    },
    "disallowed_alg",
  ],
  [
    "a tampered payload",
    async () => {
      const [header, payload, signature] = (await emu.identityToken("system:serviceaccount:other:x")).split(".");
      const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
      return { assertion: `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: TUNNELS_SUBJECT })).toString("base64url")}.${signature}` };
    },
    "bad_signature",
  ],
  ["a string that is not a JWT", async () => ({ assertion: "not.a.jwt" }), "malformed_jwt"],
  ["another issuer than the rule's", async () => ({ assertion: await customToken({ iss: "https://elsewhere.example.test" }), fields: { federation_rule_id: customRuleId, workspace_id: undefined } }), "issuer_mismatch"],
  ["a claim that does not match", async () => ({ assertion: await customToken({ repository: "acme/other" }), fields: { federation_rule_id: customRuleId, workspace_id: undefined } }), "claims_mismatch"],
  ["an unknown rule", async () => ({ assertion: await emu.identityToken(TUNNELS_SUBJECT), fields: { federation_rule_id: "fdrl_missing" } }), "unknown_rule"],
  ["another organization", async () => ({ assertion: await emu.identityToken(TUNNELS_SUBJECT), fields: { organization_id: "00000000-0000-4000-8000-000000000000" } }), "unknown_organization"],
  ["a workspace the rule is not enabled for", async () => ({ assertion: await customToken(), fields: { federation_rule_id: customRuleId, workspace_id: "wrkspc_sandbox" } }), "workspace_not_enabled"],
  ["a workspace that does not exist", async () => ({ assertion: await emu.identityToken(TUNNELS_SUBJECT), fields: { workspace_id: "wrkspc_nowhere" } }), "unknown_workspace"],
  ["a workspace the service account is not a member of", async () => ({ assertion: await emu.identityToken(TUNNELS_SUBJECT), fields: { workspace_id: "wrkspc_sandbox" } }), "service_account_not_member"],
];

describe("JWT and rule checks", () => {
  it.each(denials)("denies %s with 401 Authentication failed, keeping the reason for the audit log", async (_, build, reason) => {
    const { assertion, fields } = await build();
    const result = await emu.exchange(assertion, fields);
    expect(result.status).toBe(401);
    expect(result.body.error).toEqual({ type: "authentication_error", message: "Authentication failed" });
    expect(await emu.lastDenialReason()).toBe(reason);
  });

  it("accepts an identity token that expired within the 30 s skew, and an iat up to 30 s ahead", async () => {
    expect((await emu.exchange(await emu.identityToken(TUNNELS_SUBJECT, { iat_offset_seconds: -610, ttl_seconds: 600 }))).status).toBe(200);
    expect((await emu.exchange(await emu.identityToken(TUNNELS_SUBJECT, { iat_offset_seconds: 20 }))).status).toBe(200);
  });

  it("exchanges a jti once: the replay is denied", async () => {
    const assertion = await emu.identityToken(TUNNELS_SUBJECT);
    const [first, second] = await Promise.all([emu.exchange(assertion), emu.exchange(assertion)]);
    expect([first.status, second.status].sort()).toEqual([200, 401]);
    expect(await emu.lastDenialReason()).toBe("replayed_jti");
    expect((await emu.exchange(assertion)).status).toBe(401);
  });

  it("lets a failed exchange keep the jti usable (the retry with the right workspace succeeds)", async () => {
    const assertion = await emu.identityToken(TUNNELS_SUBJECT);
    expect((await emu.exchange(assertion, { workspace_id: undefined })).status).toBe(401);
    expect((await emu.exchange(assertion)).status).toBe(200);
  });
});

describe("malformed requests", () => {
  it.each<[string, Record<string, unknown>]>([
    ["a missing assertion", { assertion: undefined }],
    ["an empty assertion", { assertion: "" }],
    ["an assertion over 16 KiB", { assertion: "a".repeat(16 * 1024 + 1) }],
    ["another grant type", { grant_type: "client_credentials" }],
    ["a malformed rule id", { federation_rule_id: "rule-1" }],
    ["a malformed organization id", { organization_id: "acme" }],
    ["a malformed workspace id", { workspace_id: "platform" }],
    ["an unknown field", { scope: "org:admin" }],
    ["a malformed service account id", { service_account_id: "tunnelsetup" }],
  ])("answers %s with 400", async (_, fields) => {
    const result = await emu.exchange(await emu.identityToken(TUNNELS_SUBJECT), fields);
    expect(result.status).toBe(400);
    expect(result.body.error.type).toBe("invalid_request_error");
  });

  it("answers a non-JSON, non-form body with 400", async () => {
    const result = await emu.call("POST", TOKEN_EXCHANGE_PATH, { omitBeta: true, omitVersion: true, rawBody: "assertion", headers: { "content-type": "text/plain" } });
    expect(result.status).toBe(400);
  });

  it("answers GET with 405", async () => {
    expect((await emu.call("GET", TOKEN_EXCHANGE_PATH)).status).toBe(405);
  });
});

describe("the emulator's clock", () => {
  it("expires an identity token when the clock moves past it", async () => {
    const assertion = await emu.identityToken(TUNNELS_SUBJECT, { ttl_seconds: 600 });
    await emu.control("POST", "/_emulator/clock", { offset_seconds: 700 });
    expect((await emu.exchange(assertion)).status).toBe(401);
    expect(await emu.lastDenialReason()).toBe("expired");
  });

  it("expires access tokens and stamps objects with the shifted time", async () => {
    const { access_token, expires_in } = (await emu.exchange(await emu.identityToken(TUNNELS_SUBJECT, { ttl_seconds: 30 }))).body;
    expect(expires_in).toBe(60);
    const shifted = await emu.control("POST", "/_emulator/clock", { offset_seconds: 61 });
    expect(shifted.offset_seconds).toBe(61);
    const refused = await emu.call("GET", "/v1/tunnels", { token: access_token });
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toContain("expired");

    await emu.control("POST", "/_emulator/clock", { offset_seconds: 86_400 });
    const fresh = (await emu.exchange(await emu.identityToken(TUNNELS_SUBJECT))).body.access_token;
    const tunnel = await emu.ok("POST", "/v1/tunnels", { token: fresh, body: {} });
    expect(Date.parse(tunnel.created_at) - Date.now()).toBeGreaterThan(86_000_000);
  });

  it.each([[{ offset_seconds: "1" }], [{ offset_seconds: 1.5 }], [{}], [{ offset_seconds: 1, extra: true }]])("refuses the clock body %j with 400", async (body) => {
    expect((await emu.call("POST", "/_emulator/clock", { body })).status).toBe(400);
  });
});

describe("issuers whose keys live elsewhere, and archived rules and issuers", () => {
  let server: Server;
  let remoteUrl: string;
  let remoteKey: KeyObject;

  beforeAll(async () => {
    remoteKey = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
    const publicJwk = { ...(await jose.exportJWK(remoteKey)), kid: "remote-1", alg: "ES256" };
    delete publicJwk.d;
    server = createServer((req, res) => {
      const body =
        req.url === "/.well-known/openid-configuration" ? { issuer: remoteUrl, jwks_uri: `${remoteUrl}/keys` } : req.url === "/keys" ? { keys: [publicJwk] } : undefined;
      res.writeHead(body ? 200 : 404, { "content-type": "application/json" }).end(JSON.stringify(body ?? {}));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    remoteUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function issuerAndRule(jwks: Record<string, unknown>, issuerFields: Record<string, unknown> = {}) {
    const token = await emu.adminToken();
    const issuer = await emu.ok("POST", "/v1/organizations/federation_issuers", {
      token,
      omitBeta: true,
      body: { name: "remote", issuer_url: remoteUrl, jwks, ...issuerFields },
    });
    const rule = await emu.ok("POST", "/v1/organizations/federation_rules", {
      token,
      omitBeta: true,
      body: {
        name: "remote",
        issuer_id: issuer.id,
        match: { subject_prefix: "job:*" },
        target: { type: "service_account", service_account_id: EMULATOR_FIXTURE.tunnelsServiceAccountId },
        oauth_scope: CUSTOM_SCOPE,
        applies_to_all_workspaces: true,
      },
    });
    return { issuer, rule, archiveIssuer: () => emu.ok("POST", `/v1/organizations/federation_issuers/${issuer.id}/archive`, { token, omitBeta: true }) };
  }

  const remoteToken = (jti: string | undefined = crypto.randomUUID()) =>
    sign({ iss: remoteUrl, sub: "job:1", aud: "api.anthropic.com", iat: now(), exp: now() + 300, ...(jti ? { jti } : {}) }, { alg: "ES256", kid: "remote-1" }, remoteKey);

  it.each([
    ["OIDC discovery", () => ({ type: "discovery" })],
    ["an explicit JWKS URL", () => ({ type: "explicit_url", url: `${remoteUrl}/keys` })],
  ])("verifies against keys fetched through %s", async (_, jwks) => {
    const { rule, archiveIssuer } = await issuerAndRule(jwks());
    try {
      const result = await emu.exchange(await remoteToken(), { federation_rule_id: rule.id, workspace_id: undefined });
      expect(result.status).toBe(200);
      expect(result.body.scope).toBe(CUSTOM_SCOPE);
    } finally {
      await archiveIssuer();
    }
  });

  it("lets an identity token be exchanged twice when the issuer does not check jti", async () => {
    const { rule, archiveIssuer } = await issuerAndRule({ type: "discovery" }, { check_jti: false });
    try {
      const assertion = await remoteToken(undefined);
      expect((await emu.exchange(assertion, { federation_rule_id: rule.id, workspace_id: undefined })).status).toBe(200);
      expect((await emu.exchange(assertion, { federation_rule_id: rule.id, workspace_id: undefined })).status).toBe(200);
    } finally {
      await archiveIssuer();
    }
  });

  it("denies exchanges under an archived rule, then under an archived issuer", async () => {
    const { rule, archiveIssuer } = await issuerAndRule({ type: "discovery" });
    const token = await emu.adminToken();
    await emu.ok("POST", `/v1/organizations/federation_rules/${rule.id}/archive`, { token, omitBeta: true });
    expect((await emu.exchange(await remoteToken(), { federation_rule_id: rule.id, workspace_id: undefined })).status).toBe(401);
    expect(await emu.lastDenialReason()).toBe("rule_archived");
    await archiveIssuer();

    const second = await issuerAndRule({ type: "discovery" });
    await second.archiveIssuer();
    expect((await emu.exchange(await remoteToken(), { federation_rule_id: second.rule.id, workspace_id: undefined })).status).toBe(401);
    expect(await emu.lastDenialReason()).toBe("issuer_archived");
  });

  it("denies when the issuer's keys cannot be fetched", async () => {
    const { rule, archiveIssuer } = await issuerAndRule({ type: "explicit_url", url: `${remoteUrl}/missing` });
    try {
      expect((await emu.exchange(await remoteToken(), { federation_rule_id: rule.id, workspace_id: undefined })).status).toBe(401);
      expect(await emu.lastDenialReason()).toBe("jwks_unavailable");
    } finally {
      await archiveIssuer();
    }
  });
});
