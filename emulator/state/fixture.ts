import { DEFAULT_AUDIENCE, DEFAULT_ISSUER_MAX_JWT_LIFETIME_SECONDS, DEFAULT_RULE_TOKEN_LIFETIME_SECONDS, SCOPE_MANAGE_TUNNELS, SCOPE_ORG_ADMIN } from "../../core/contract/tunnels-api";
import { EMULATOR_FIXTURE } from "./fixture-ids";
import { OidcIssuer } from "../identity/oidc-issuer";
import type { IssuerRecord, State } from "./store";

const WORKSPACE_NAMES: Record<string, string> = {
  wrkspc_default: "Default Workspace",
  wrkspc_platform: "platform",
  wrkspc_sandbox: "sandbox",
};

/** The API contract's default fixture (docs/tunnels-api.md), with fixed ids so examples can name them. */
export function seedState(now: Date, baseUrl: string, oidc: OidcIssuer): State {
  const at = now.toISOString();
  let seq = 0;
  const next = () => ++seq;
  const state: State = {
    organization: { id: EMULATOR_FIXTURE.organizationId, name: "Emulator Organization" },
    seq: 0,
    workspaces: EMULATOR_FIXTURE.workspaces.map((id) => ({ id, name: WORKSPACE_NAMES[id] ?? id, created_at: at, seq: next() })),
    serviceAccounts: [
      { id: EMULATOR_FIXTURE.tunnelsServiceAccountId, name: "mcp-tunnel-setup", description: "Creates and manages MCP tunnels", organization_role: "developer", created_at: at, updated_at: at, archived_at: null, seq: next() },
      { id: EMULATOR_FIXTURE.adminServiceAccountId, name: "admin", description: "Organization administration", organization_role: "admin", created_at: at, updated_at: at, archived_at: null, seq: next() },
    ],
    memberships: [
      { service_account_id: EMULATOR_FIXTURE.tunnelsServiceAccountId, workspace_id: "wrkspc_platform", workspace_role: "workspace_developer", created_at: at, seq: next() },
    ],
    issuers: [],
    rules: [],
    tunnels: [],
    certificates: [],
    usedDomains: [],
    accessTokens: {},
    usedJtis: {},
    audit: [],
  };
  state.issuers.push({
    id: EMULATOR_FIXTURE.issuerId,
    name: "emulator",
    issuer_url: "",
    jwks: { type: "inline", keys: [] },
    max_jwt_lifetime_seconds: DEFAULT_ISSUER_MAX_JWT_LIFETIME_SECONDS,
    check_jti: true,
    jwks_polling_disabled_at: null,
    console_managed: true,
    created_at: at,
    updated_at: at,
    archived_at: null,
    seq: next(),
  });
  refreshBuiltInIssuer(state, baseUrl, oidc);
  state.rules.push(
    {
      id: EMULATOR_FIXTURE.tunnelsRuleId,
      name: "mcp-tunnels",
      description: "Kubernetes service accounts of the mcp-tunnel namespace manage tunnels",
      issuer_id: EMULATOR_FIXTURE.issuerId,
      match: { subject_prefix: EMULATOR_FIXTURE.tunnelsSubjectPrefix, audience: DEFAULT_AUDIENCE, claims: null },
      target: { type: "service_account", service_account_id: EMULATOR_FIXTURE.tunnelsServiceAccountId },
      oauth_scope: SCOPE_MANAGE_TUNNELS,
      token_lifetime_seconds: DEFAULT_RULE_TOKEN_LIFETIME_SECONDS,
      applies_to_all_workspaces: false,
      workspaces: EMULATOR_FIXTURE.workspaces.map((workspace_id) => ({ workspace_id, created_at: at, seq: next() })),
      attributes: null,
      created_at: at,
      updated_at: at,
      archived_at: null,
      seq: next(),
    },
    {
      id: EMULATOR_FIXTURE.adminRuleId,
      name: "admin",
      description: "Organization administration",
      issuer_id: EMULATOR_FIXTURE.issuerId,
      match: { subject_prefix: EMULATOR_FIXTURE.adminSubject, audience: DEFAULT_AUDIENCE, claims: null },
      target: { type: "service_account", service_account_id: EMULATOR_FIXTURE.adminServiceAccountId },
      oauth_scope: SCOPE_ORG_ADMIN,
      token_lifetime_seconds: DEFAULT_RULE_TOKEN_LIFETIME_SECONDS,
      applies_to_all_workspaces: true,
      workspaces: [],
      attributes: null,
      created_at: at,
      updated_at: at,
      archived_at: null,
      seq: next(),
    },
  );
  state.seq = seq;
  return state;
}

/** The built-in issuer follows the emulator's current address and key (the port changes across restarts). */
export function refreshBuiltInIssuer(state: State, baseUrl: string, oidc: OidcIssuer): void {
  const issuer: IssuerRecord | undefined = state.issuers.find((candidate) => candidate.id === EMULATOR_FIXTURE.issuerId);
  if (!issuer) return;
  issuer.issuer_url = OidcIssuer.issuerUrl(baseUrl);
  issuer.jwks = { type: "inline", keys: oidc.jwks().keys };
}
