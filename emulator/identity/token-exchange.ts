import { z } from "zod";
import { FEDERATION_RULE_ID_PATTERN, JWT_BEARER_GRANT, JWT_CLOCK_SKEW_SECONDS, MAX_IDENTITY_TOKEN_BYTES, MIN_ACCESS_TOKEN_LIFETIME_SECONDS, ORGANIZATION_ID_PATTERN, TOKEN_EXCHANGE_PATH, WORKSPACE_ID_PATTERN } from "../../core/contract/tunnels-api";
import { EMULATOR_FIXTURE } from "../state/fixture-ids";
import { PRUNE_GRACE_SECONDS } from "../decided/constants";
import type { EmulatorContext } from "../http/emulator-context";
import { ApiError, invalidRequest } from "../http/errors";
import { normalizeWorkspaceId } from "../http/headers";
import type { Route } from "../http/router";
import { parseWith } from "../http/validation";
import { recordAudit } from "../state/audit";
import { epochSeconds } from "../state/clock";
import * as ids from "../state/ids";
import { findMembership } from "../state/memberships";
import type { RuleRecord, State } from "../state/store";
import { hashAccessToken } from "./auth";
import { JwksUnavailableError } from "./jwks-resolver";
import { ExchangeDenied, matchRule, verifyAssertion, type DenyReason } from "./jwt-assertion";

export const AUTHENTICATION_FAILED = "Authentication failed";

const exchangeBody = z.strictObject({
  grant_type: z.string(),
  assertion: z.string().min(1).max(MAX_IDENTITY_TOKEN_BYTES),
  federation_rule_id: z.string().regex(FEDERATION_RULE_ID_PATTERN),
  organization_id: z.string().regex(ORGANIZATION_ID_PATTERN),
  service_account_id: z.string().regex(/^svac_[A-Za-z0-9_]+$/).optional(),
  workspace_id: z.string().regex(WORKSPACE_ID_PATTERN).optional(),
});

type ExchangeRequest = z.output<typeof exchangeBody>;

const deny = (reason: DenyReason): never => {
  throw new ExchangeDenied(reason);
};

/**
 * `workspace_id` may be omitted when the rule applies to all workspaces (default workspace) or to
 * exactly one (that one); with several listed workspaces it is required.
 */
function resolveWorkspace(state: State, rule: RuleRecord, requested: string | undefined): string {
  if (requested !== undefined) {
    const id = normalizeWorkspaceId(requested);
    if (!state.workspaces.some((workspace) => workspace.id === id)) deny("unknown_workspace");
    if (!rule.applies_to_all_workspaces && !rule.workspaces.some((entry) => entry.workspace_id === id)) deny("workspace_not_enabled");
    return id;
  }
  if (rule.applies_to_all_workspaces) return EMULATOR_FIXTURE.defaultWorkspaceId;
  if (rule.workspaces.length === 1) return rule.workspaces[0]!.workspace_id;
  return deny(rule.workspaces.length === 0 ? "workspace_not_enabled" : "workspace_required");
}

function lifetimeSeconds(rule: RuleRecord, exp: number, now: Date): number {
  const remaining = exp - epochSeconds(now);
  return Math.max(MIN_ACCESS_TOKEN_LIFETIME_SECONDS, Math.min(rule.token_lifetime_seconds, 2 * remaining));
}

/** Forgets tokens and jtis long past expiry; the grace keeps them when a test moves the clock back. */
function pruneExpired(state: State, now: Date): void {
  const cutoffSeconds = epochSeconds(now) - PRUNE_GRACE_SECONDS;
  for (const [hash, token] of Object.entries(state.accessTokens)) if (Date.parse(token.expires_at) / 1000 < cutoffSeconds) delete state.accessTokens[hash];
  for (const [key, until] of Object.entries(state.usedJtis)) if (until < cutoffSeconds) delete state.usedJtis[key];
}

async function exchange(body: ExchangeRequest, context: EmulatorContext) {
  const { store, clock, jwks } = context;
  const state = store.state;
  if (body.organization_id !== state.organization.id) deny("unknown_organization");
  const rule = state.rules.find((candidate) => candidate.id === body.federation_rule_id);
  if (!rule) return deny("unknown_rule");
  if (rule.archived_at !== null) deny("rule_archived");
  const issuer = state.issuers.find((candidate) => candidate.id === rule.issuer_id);
  if (!issuer || issuer.archived_at !== null) return deny("issuer_archived");

  let getKey;
  try {
    getKey = await jwks.keysFor(issuer);
  } catch (error) {
    if (error instanceof JwksUnavailableError) return deny("jwks_unavailable");
    throw error;
  }
  const claims = await verifyAssertion(body.assertion, issuer, getKey, clock.now());
  matchRule(rule.match, claims);

  // Everything below reads state again after the awaits and commits without yielding, so two
  // concurrent exchanges of one jti cannot both succeed.
  return store.mutate((current) => {
    const now = clock.now();
    const live = current.rules.find((candidate) => candidate.id === rule.id);
    if (!live || live.archived_at !== null) deny("rule_archived");
    const serviceAccountId = rule.target.service_account_id;
    if (body.service_account_id !== undefined && body.service_account_id !== serviceAccountId) deny("service_account_mismatch");
    const account = current.serviceAccounts.find((candidate) => candidate.id === serviceAccountId);
    if (!account || account.archived_at !== null) deny("service_account_archived");
    const workspaceId = resolveWorkspace(current, rule, body.workspace_id);
    if (!findMembership(current, serviceAccountId, workspaceId)) deny("service_account_not_member");
    const jtiKey = typeof claims.jti === "string" ? `${issuer.id} ${claims.jti}` : undefined;
    if (issuer.check_jti && jtiKey !== undefined && current.usedJtis[jtiKey] !== undefined) deny("replayed_jti");

    pruneExpired(current, now);
    if (issuer.check_jti && jtiKey !== undefined) current.usedJtis[jtiKey] = claims.exp + JWT_CLOCK_SKEW_SECONDS;
    const expiresIn = lifetimeSeconds(rule, claims.exp, now);
    const accessToken = ids.accessTokenValue();
    current.accessTokens[hashAccessToken(accessToken)] = {
      federation_rule_id: rule.id,
      service_account_id: serviceAccountId,
      workspace_id: workspaceId,
      scope: rule.oauth_scope,
      issued_at: now.toISOString(),
      expires_at: new Date(now.getTime() + expiresIn * 1000).toISOString(),
    };
    recordAudit(current, clock, {
      action: "oauth.exchange",
      actor: serviceAccountId,
      detail: {
        federation_rule_id: rule.id,
        issuer_id: issuer.id,
        subject: claims.sub,
        workspace_id: workspaceId,
        scope: rule.oauth_scope,
        expires_in: expiresIn,
        ...(typeof claims.jti === "string" ? { jti: claims.jti } : {}),
      },
    });
    return { workspaceId, response: { access_token: accessToken, token_type: "Bearer", expires_in: expiresIn, scope: rule.oauth_scope } };
  });
}

/** Best-effort subject for the denial record; never verified, never a secret. */
function claimedSubject(assertion: string): string | null {
  const payload = assertion.split(".")[1];
  if (!payload) return null;
  try {
    const sub = (JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { sub?: unknown }).sub;
    return typeof sub === "string" ? sub.slice(0, 256) : null;
  } catch {
    return null;
  }
}

export function tokenExchangeRoutes(): Route[] {
  return [
    {
      method: "POST",
      pattern: TOKEN_EXCHANGE_PATH,
      access: "exchange",
      bodyFormat: "json-or-form",
      // No header is required here: the public WIF guides' cURL sends only content-type and the
      // body, and the service answers it; the official SDK's anthropic-beta list is accepted too.
      async handle(request, context) {
        const body = parseWith(exchangeBody, request.body ?? {});
        if (body.grant_type !== JWT_BEARER_GRANT) throw invalidRequest(`grant_type: must be ${JWT_BEARER_GRANT}`);
        try {
          const { workspaceId, response } = await exchange(body, context);
          return { body: response, headers: { "cache-control": "no-store" }, workspaceId };
        } catch (error) {
          if (!(error instanceof ExchangeDenied)) throw error;
          context.store.mutate((state) =>
            recordAudit(state, context.clock, {
              action: "oauth.denied",
              actor: "anonymous",
              detail: { reason: error.reason, federation_rule_id: body.federation_rule_id, claimed_subject: claimedSubject(body.assertion) },
            }),
          );
          throw new ApiError(401, AUTHENTICATION_FAILED, { "cache-control": "no-store" });
        }
      },
    },
  ];
}
