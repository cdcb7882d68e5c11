import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { SCOPE_MANAGE_TUNNELS, SCOPE_ORG_ADMIN } from "../../core/contract/tunnels-api";
import { forbidden, unauthenticated } from "../http/errors";
import { header, normalizeWorkspaceId } from "../http/headers";
import type { Clock } from "../state/clock";
import { findMembership } from "../state/memberships";
import type { AccessTokenRecord, State } from "../state/store";

export interface Principal {
  token: AccessTokenRecord;
  serviceAccountId: string;
  workspaceId: string;
}

export const hashAccessToken = (token: string) => createHash("sha256").update(token, "utf8").digest("hex");

const scopesOf = (token: AccessTokenRecord) => token.scope.split(" ").filter(Boolean);

/** Finds the bearer's token; an API key never authenticates. */
export function authenticate(headers: IncomingHttpHeaders, state: State, clock: Clock): Principal {
  const authorization = header(headers, "authorization");
  if (authorization === undefined) {
    if (header(headers, "x-api-key") !== undefined) {
      throw unauthenticated("X-Api-Key is not accepted here: send Authorization: Bearer with a token from the federation token exchange");
    }
    throw unauthenticated("missing Authorization: Bearer token");
  }
  const match = /^Bearer ([\x21-\x7e]+)$/i.exec(authorization.trim());
  if (!match) throw unauthenticated("Authorization must be 'Bearer <token>'");
  const token = state.accessTokens[hashAccessToken(match[1]!)];
  if (!token) throw unauthenticated("invalid bearer token");
  if (Date.parse(token.expires_at) <= clock.now().getTime()) throw unauthenticated("bearer token has expired");
  return { token, serviceAccountId: token.service_account_id, workspaceId: token.workspace_id };
}

function requireActiveAccount(state: State, principal: Principal): void {
  const account = state.serviceAccounts.find((candidate) => candidate.id === principal.serviceAccountId);
  if (!account || account.archived_at !== null) throw forbidden("the token's service account is archived");
}

/** Tunnel endpoints: the scope, a live membership in the token's workspace, and a matching workspace header. */
export function authorizeTunnels(principal: Principal, headers: IncomingHttpHeaders, state: State): void {
  if (!scopesOf(principal.token).includes(SCOPE_MANAGE_TUNNELS)) throw forbidden(`token lacks scope ${SCOPE_MANAGE_TUNNELS}`);
  requireActiveAccount(state, principal);
  if (!findMembership(state, principal.serviceAccountId, principal.workspaceId)) {
    throw forbidden("the token's service account is not a member of the token's workspace");
  }
  const requested = header(headers, "anthropic-workspace-id");
  if (requested !== undefined && normalizeWorkspaceId(requested.trim()) !== principal.workspaceId) {
    throw forbidden("anthropic-workspace-id does not match the workspace the token is bound to");
  }
}

export function authorizeAdmin(principal: Principal, state: State): void {
  if (!scopesOf(principal.token).includes(SCOPE_ORG_ADMIN)) throw forbidden(`token lacks scope ${SCOPE_ORG_ADMIN}`);
  requireActiveAccount(state, principal);
}
