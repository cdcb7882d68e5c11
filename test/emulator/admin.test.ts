import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SCOPE_MANAGE_TUNNELS, SCOPE_ORG_ADMIN } from "../../core/contract/tunnels-api";
import { EMULATOR_FIXTURE } from "../../emulator/index";
import { Conformance, type CallOptions } from "./conformance-client";

let emu: Conformance;
beforeAll(async () => {
  emu = await Conformance.start();
});
afterAll(() => emu.close());
beforeEach(() => emu.reset());

const ISSUERS = "/v1/organizations/federation_issuers";
const RULES = "/v1/organizations/federation_rules";
const ACCOUNTS = "/v1/organizations/service_accounts";
const WORKSPACES = "/v1/organizations/workspaces";
const JWK = { kty: "EC", crv: "P-256", x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0", kid: "k1" };

const adminOk = async (method: string, path: string, body?: unknown) => {
  const result = await emu.admin(method, path, body === undefined ? {} : { body });
  if (result.status !== 200) throw new Error(`${method} ${path} → ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
};

const createIssuer = (overrides: Record<string, unknown> = {}) =>
  adminOk("POST", ISSUERS, { name: "ci", issuer_url: "https://token.actions.example.test", jwks: { type: "inline", keys: [JWK] }, ...overrides });

const ruleBody = (issuerId: string, overrides: Record<string, unknown> = {}) => ({
  name: "deploy",
  issuer_id: issuerId,
  match: { subject_prefix: "repo:acme/*", audience: "api.anthropic.com" },
  target: { type: "service_account", service_account_id: EMULATOR_FIXTURE.tunnelsServiceAccountId },
  oauth_scope: "workspace:developer",
  ...overrides,
});

describe("federation issuers", () => {
  it("shows the built-in issuer as read-only", async () => {
    const builtIn = await adminOk("GET", `${ISSUERS}/${EMULATOR_FIXTURE.issuerId}`);
    expect(builtIn).toMatchObject({ type: "federation_issuer", id: EMULATOR_FIXTURE.issuerId, issuer_url: `${emu.baseUrl}/_emulator/oidc`, check_jti: true, max_jwt_lifetime_seconds: 3600 });
    expect((await emu.admin("POST", `${ISSUERS}/${EMULATOR_FIXTURE.issuerId}`, { body: { name: "x" } })).status).toBe(403);
    expect((await emu.admin("POST", `${ISSUERS}/${EMULATOR_FIXTURE.issuerId}/archive`)).status).toBe(403);
  });

  it("creates, retrieves, updates, lists with cursors and archives idempotently", async () => {
    const issuer = await createIssuer();
    expect(issuer).toMatchObject({ type: "federation_issuer", name: "ci", check_jti: true, max_jwt_lifetime_seconds: 3600, archived_at: null });
    expect(issuer.id).toMatch(/^fdis_/);
    expect(await adminOk("GET", `${ISSUERS}/${issuer.id}`)).toEqual(issuer);
    const updated = await adminOk("POST", `${ISSUERS}/${issuer.id}`, { max_jwt_lifetime_seconds: 600, check_jti: false });
    expect(updated).toMatchObject({ max_jwt_lifetime_seconds: 600, check_jti: false });

    const page1 = await adminOk("GET", `${ISSUERS}?limit=1`);
    expect(page1.data.map((i: { id: string }) => i.id)).toEqual([issuer.id]);
    const page2 = await adminOk("GET", `${ISSUERS}?limit=1&page=${page1.next_page}`);
    expect(page2).toMatchObject({ data: [{ id: EMULATOR_FIXTURE.issuerId }], next_page: null });

    const archived = await adminOk("POST", `${ISSUERS}/${issuer.id}/archive`);
    expect(archived.archived_at).not.toBeNull();
    expect(await adminOk("POST", `${ISSUERS}/${issuer.id}/archive`)).toEqual(archived);
    expect((await adminOk("GET", ISSUERS)).data.map((i: { id: string }) => i.id)).toEqual([EMULATOR_FIXTURE.issuerId]);
    expect((await adminOk("GET", `${ISSUERS}?include_archived=true`)).data).toHaveLength(2);
    expect((await emu.admin("POST", `${ISSUERS}/${issuer.id}`, { body: { name: "y" } })).status).toBe(409);
  });

  it.each<[string, Record<string, unknown>, number]>([
    ["a plain-http issuer URL off loopback", { issuer_url: "http://issuer.example.test" }, 400],
    ["an issuer URL with a query", { issuer_url: "https://issuer.example.test/?a=b" }, 400],
    ["a private key in the inline JWKS", { jwks: { type: "inline", keys: [{ ...JWK, d: "secret" }] } }, 400],
    ["a key without kid", { jwks: { type: "inline", keys: [{ ...JWK, kid: undefined }] } }, 400],
    ["an empty name", { name: "" }, 400],
    ["a too-long max JWT lifetime", { max_jwt_lifetime_seconds: 10 ** 9 }, 400],
    ["an unknown field", { audience: "x" }, 400],
    ["the issuer URL of an active issuer", { issuer_url: "https://token.actions.example.test" }, 409],
  ])("refuses %s", async (_, overrides, status) => {
    await createIssuer();
    const result = await emu.admin("POST", ISSUERS, { body: { name: "ci", issuer_url: "https://other.example.test", jwks: { type: "inline", keys: [JWK] }, ...overrides } });
    expect(result.status).toBe(status);
    expect(JSON.stringify(result.body)).not.toContain("secret");
  });

  it.each([["limit=0"], ["limit=101"], ["page=xyz"]])("refuses the list query %s with 400", async (query) => {
    expect((await emu.admin("GET", `${ISSUERS}?${query}`)).status).toBe(400);
  });
});

describe("federation rules", () => {
  it("shows the console-only fixture rules and refuses every change to them with 403", async () => {
    const tunnels = await adminOk("GET", `${RULES}/${EMULATOR_FIXTURE.tunnelsRuleId}`);
    expect(tunnels).toMatchObject({
      type: "federation_rule",
      oauth_scope: SCOPE_MANAGE_TUNNELS,
      issuer_id: EMULATOR_FIXTURE.issuerId,
      match: { subject_prefix: EMULATOR_FIXTURE.tunnelsSubjectPrefix, audience: "api.anthropic.com", claims: null },
      target: { type: "service_account", service_account_id: EMULATOR_FIXTURE.tunnelsServiceAccountId },
      applies_to_all_workspaces: false,
      workspace_ids: EMULATOR_FIXTURE.workspaces,
      token_lifetime_seconds: 3600,
    });
    const admin = await adminOk("GET", `${RULES}/${EMULATOR_FIXTURE.adminRuleId}`);
    expect(admin).toMatchObject({ oauth_scope: SCOPE_ORG_ADMIN, applies_to_all_workspaces: true, workspace_ids: [] });

    const changes: [string, string, CallOptions][] = [
      ["POST", `${RULES}/${EMULATOR_FIXTURE.tunnelsRuleId}`, { body: { name: "x" } }],
      ["POST", `${RULES}/${EMULATOR_FIXTURE.tunnelsRuleId}/archive`, {}],
      ["POST", `${RULES}/${EMULATOR_FIXTURE.tunnelsRuleId}/workspaces`, { body: { workspace_id: "wrkspc_sandbox" } }],
      ["DELETE", `${RULES}/${EMULATOR_FIXTURE.tunnelsRuleId}/workspaces/wrkspc_platform`, {}],
      ["POST", `${RULES}/${EMULATOR_FIXTURE.adminRuleId}/archive`, {}],
      ["POST", RULES, { body: ruleBody(EMULATOR_FIXTURE.issuerId, { oauth_scope: SCOPE_MANAGE_TUNNELS }) }],
      ["POST", RULES, { body: ruleBody(EMULATOR_FIXTURE.issuerId, { oauth_scope: SCOPE_ORG_ADMIN }) }],
    ];
    for (const [method, path, options] of changes) {
      const result = await emu.admin(method, path, options);
      expect(result.status, `${method} ${path}`).toBe(403);
      expect(result.body.error.type).toBe("permission_error");
    }
    expect((await adminOk("GET", `${RULES}/${EMULATOR_FIXTURE.tunnelsRuleId}/workspaces`)).data.map((w: { workspace_id: string }) => w.workspace_id)).toEqual(
      [...EMULATOR_FIXTURE.workspaces].reverse(),
    );
  });

  it("creates, updates, manages workspaces of, filters and archives an API-managed rule", async () => {
    const issuer = await createIssuer();
    const rule = await adminOk("POST", RULES, ruleBody(issuer.id, { workspace_id: "wrkspc_platform" }));
    expect(rule).toMatchObject({ issuer_id: issuer.id, issuer_name: "ci", workspace_id: "wrkspc_platform", workspace_ids: ["wrkspc_platform"], token_lifetime_seconds: 3600 });
    expect(rule.target.service_account_name).toEqual(expect.any(String));

    const added = await adminOk("POST", `${RULES}/${rule.id}/workspaces`, { workspace_id: "wrkspc_sandbox" });
    expect(added).toMatchObject({ type: "federation_rule_workspace", federation_rule_id: rule.id, workspace_id: "wrkspc_sandbox", workspace_name: "sandbox" });
    expect((await adminOk("GET", `${RULES}/${rule.id}`)).workspace_ids).toEqual(["wrkspc_platform", "wrkspc_sandbox"]);
    const removed = await adminOk("DELETE", `${RULES}/${rule.id}/workspaces/wrkspc_platform`);
    expect(removed).toEqual({ type: "federation_rule_workspace_deleted", federation_rule_id: rule.id, workspace_id: "wrkspc_platform" });
    expect((await emu.admin("DELETE", `${RULES}/${rule.id}/workspaces/wrkspc_platform`)).status).toBe(200);

    const updated = await adminOk("POST", `${RULES}/${rule.id}`, { token_lifetime_seconds: 120, match: { subject_prefix: "repo:acme/infra:*" } });
    expect(updated).toMatchObject({ token_lifetime_seconds: 120, match: { subject_prefix: "repo:acme/infra:*", audience: null } });
    expect((await emu.admin("POST", `${RULES}/${rule.id}`, { body: { oauth_scope: SCOPE_MANAGE_TUNNELS } })).status).toBe(403);

    expect((await adminOk("GET", `${RULES}?issuer_id=${issuer.id}`)).data.map((r: { id: string }) => r.id)).toEqual([rule.id]);
    const archived = await adminOk("POST", `${RULES}/${rule.id}/archive`);
    expect(archived.archived_at).not.toBeNull();
    expect(await adminOk("POST", `${RULES}/${rule.id}/archive`)).toEqual(archived);
    expect((await adminOk("GET", RULES)).data.map((r: { id: string }) => r.id)).not.toContain(rule.id);
  });

  it.each<[string, (issuerId: string) => Record<string, unknown>]>([
    ["an unknown issuer", () => ruleBody("fdis_nope")],
    ["an unknown target service account", (id) => ruleBody(id, { target: { type: "service_account", service_account_id: "svac_nope" } })],
    ["no subject or claims condition", (id) => ruleBody(id, { match: { audience: "api.anthropic.com" } })],
    ["a CEL condition", (id) => ruleBody(id, { match: { subject_prefix: "x", condition: "true" } })],
    ["workspaces together with applies_to_all_workspaces", (id) => ruleBody(id, { applies_to_all_workspaces: true, workspace_ids: ["wrkspc_platform"] })],
    ["an unknown workspace", (id) => ruleBody(id, { workspace_ids: ["wrkspc_nowhere"] })],
    ["a lifetime under a minute", (id) => ruleBody(id, { token_lifetime_seconds: 30 })],
  ])("refuses a rule with %s with 400", async (_, body) => {
    const issuer = await createIssuer();
    expect((await emu.admin("POST", RULES, { body: body(issuer.id) })).status).toBe(400);
  });
});

describe("service accounts and memberships", () => {
  it("creates, updates, lists and archives service accounts", async () => {
    const account = await adminOk("POST", ACCOUNTS, { name: "ci-bot", description: "CI" });
    expect(account).toMatchObject({ type: "service_account", name: "ci-bot", description: "CI", organization_role: "developer", archived_at: null });
    expect(account.id).toMatch(/^svac_/);
    expect(await adminOk("POST", `${ACCOUNTS}/${account.id}`, { organization_role: "admin" })).toMatchObject({ organization_role: "admin" });
    const listed = (await adminOk("GET", ACCOUNTS)).data.map((a: { id: string }) => a.id);
    expect(listed).toEqual([account.id, EMULATOR_FIXTURE.adminServiceAccountId, EMULATOR_FIXTURE.tunnelsServiceAccountId]);
    const archived = await adminOk("POST", `${ACCOUNTS}/${account.id}/archive`);
    expect(await adminOk("POST", `${ACCOUNTS}/${account.id}/archive`)).toEqual(archived);
    expect((await adminOk("GET", ACCOUNTS)).data).toHaveLength(2);
    expect((await emu.admin("GET", `${ACCOUNTS}/svac_nope`)).status).toBe(404);
  });

  it("serves memberships from both sides with the same data, the default workspace implicitly", async () => {
    const fromAccount = (await adminOk("GET", `${ACCOUNTS}/${EMULATOR_FIXTURE.tunnelsServiceAccountId}/workspaces`)).data;
    expect(fromAccount).toEqual([
      { type: "service_account_workspace_member", service_account_id: EMULATOR_FIXTURE.tunnelsServiceAccountId, workspace_id: "wrkspc_platform", workspace_role: "workspace_developer", implicit: false, created_by_actor_id: null },
      { type: "service_account_workspace_member", service_account_id: EMULATOR_FIXTURE.tunnelsServiceAccountId, workspace_id: "wrkspc_default", workspace_role: "workspace_developer", implicit: true, created_by_actor_id: null },
    ]);
    const fromWorkspace = (await adminOk("GET", `${WORKSPACES}/wrkspc_platform/service_accounts`)).data;
    expect(fromWorkspace).toEqual([fromAccount[0]]);
    expect(await adminOk("GET", `${WORKSPACES}/wrkspc_platform/service_accounts/${EMULATOR_FIXTURE.tunnelsServiceAccountId}`)).toEqual(fromAccount[0]);
    expect((await adminOk("GET", `${WORKSPACES}/wrkspc_sandbox/service_accounts`)).data).toEqual([]);
    expect((await emu.admin("GET", `${WORKSPACES}/wrkspc_sandbox/service_accounts/${EMULATOR_FIXTURE.tunnelsServiceAccountId}`)).status).toBe(404);
    expect((await adminOk("GET", `${WORKSPACES}/wrkspc_default/service_accounts`)).data).toHaveLength(2);
  });

  it("adds, replaces the role of, and idempotently removes a membership from either side", async () => {
    const account = EMULATOR_FIXTURE.tunnelsServiceAccountId;
    const added = await adminOk("POST", `${ACCOUNTS}/${account}/workspaces`, { workspace_id: "wrkspc_sandbox", workspace_role: "workspace_user" });
    expect(added).toMatchObject({ workspace_id: "wrkspc_sandbox", workspace_role: "workspace_user", implicit: false });
    const replaced = await adminOk("POST", `${WORKSPACES}/wrkspc_sandbox/service_accounts`, { service_account_id: account, workspace_role: "workspace_admin" });
    expect(replaced.workspace_role).toBe("workspace_admin");
    const changed = await adminOk("POST", `${WORKSPACES}/wrkspc_sandbox/service_accounts/${account}`, { workspace_role: "workspace_developer" });
    expect(changed.workspace_role).toBe("workspace_developer");
    expect((await adminOk("GET", `${ACCOUNTS}/${account}/workspaces`)).data.filter((m: { workspace_id: string }) => m.workspace_id === "wrkspc_sandbox")).toEqual([changed]);

    const removed = await adminOk("DELETE", `${WORKSPACES}/wrkspc_sandbox/service_accounts/${account}`);
    expect(removed).toEqual({ type: "service_account_workspace_member_deleted", service_account_id: account, workspace_id: "wrkspc_sandbox" });
    expect(await adminOk("DELETE", `${ACCOUNTS}/${account}/workspaces/wrkspc_sandbox`)).toEqual(removed);
    expect((await emu.admin("POST", `${WORKSPACES}/wrkspc_sandbox/service_accounts/${account}`, { body: { workspace_role: "workspace_user" } })).status).toBe(404);
  });

  it.each<[string, string, string, CallOptions, number]>([
    ["removing the implicit default membership", "DELETE", `${ACCOUNTS}/${EMULATOR_FIXTURE.tunnelsServiceAccountId}/workspaces/wrkspc_default`, {}, 409],
    ["an unknown role", "POST", `${ACCOUNTS}/${EMULATOR_FIXTURE.tunnelsServiceAccountId}/workspaces`, { body: { workspace_id: "wrkspc_sandbox", workspace_role: "owner" } }, 400],
    ["an unknown workspace in the body", "POST", `${ACCOUNTS}/${EMULATOR_FIXTURE.tunnelsServiceAccountId}/workspaces`, { body: { workspace_id: "wrkspc_nowhere", workspace_role: "workspace_user" } }, 400],
    ["an unknown workspace in the path", "GET", `${WORKSPACES}/wrkspc_nowhere/service_accounts`, {}, 404],
    ["an unknown service account", "GET", `${ACCOUNTS}/svac_nope/workspaces`, {}, 404],
  ])("refuses %s", async (_, method, path, options, status) => {
    expect((await emu.admin(method, path, options)).status).toBe(status);
  });

  it("authorizes tunnel calls on membership: a token whose account leaves the workspace gets 403", async () => {
    const token = await emu.tunnelsToken("wrkspc_platform");
    expect((await emu.call("GET", "/v1/tunnels", { token })).status).toBe(200);
    await adminOk("DELETE", `${ACCOUNTS}/${EMULATOR_FIXTURE.tunnelsServiceAccountId}/workspaces/wrkspc_platform`);
    const refused = await emu.call("GET", "/v1/tunnels", { token });
    expect(refused.status).toBe(403);
    expect(refused.body.error.type).toBe("permission_error");
    await adminOk("POST", `${ACCOUNTS}/${EMULATOR_FIXTURE.tunnelsServiceAccountId}/workspaces`, { workspace_id: "wrkspc_platform", workspace_role: "workspace_developer" });
    expect((await emu.call("GET", "/v1/tunnels", { token })).status).toBe(200);
  });

  it("lets a service account join the sandbox, after which the exchange for it succeeds", async () => {
    const exchange = async () => (await emu.exchange(await emu.identityToken("system:serviceaccount:mcp-tunnel:setup"), { workspace_id: "wrkspc_sandbox" })).status;
    expect(await exchange()).toBe(401);
    await adminOk("POST", `${WORKSPACES}/wrkspc_sandbox/service_accounts`, { service_account_id: EMULATOR_FIXTURE.tunnelsServiceAccountId, workspace_role: "workspace_developer" });
    expect(await exchange()).toBe(200);
  });
});
