import { z } from "zod";
import { ADMIN_LIST_LIMIT, WORKSPACE_ID_PATTERN } from "../../core/contract/tunnels-api";
import { EMULATOR_FIXTURE } from "../state/fixture-ids";
import { WORKSPACE_ROLES, type WorkspaceRole } from "../decided/constants";
import { conflict, invalidRequest, notFound } from "../http/errors";
import { normalizeWorkspaceId } from "../http/headers";
import { paginate, parseListQuery } from "../http/pagination";
import { principalOf, type Route, type RouteRequest } from "../http/router";
import { parseWith } from "../http/validation";
import { recordAudit } from "../state/audit";
import type { Clock } from "../state/clock";
import { findMembership, membershipsOfAccount, membershipsOfWorkspace, presentMembership, type Membership } from "../state/memberships";
import type { ServiceAccountRecord, State } from "../state/store";
import { findServiceAccount } from "./service-accounts";

const workspaceRole = z.enum(WORKSPACE_ROLES);

const addWorkspaceBody = z.strictObject({ workspace_id: z.string().regex(WORKSPACE_ID_PATTERN), workspace_role: workspaceRole });
const addServiceAccountBody = z.strictObject({ service_account_id: z.string().min(1), workspace_role: workspaceRole });
const changeRoleBody = z.strictObject({ workspace_role: workspaceRole });

function findWorkspaceId(state: State, id: string, missing: (message: string) => Error): string {
  const normalized = normalizeWorkspaceId(id);
  if (!state.workspaces.some((workspace) => workspace.id === normalized)) throw missing("workspace not found");
  return normalized;
}

/** Adding an existing member replaces its role. Runs inside `Store.mutate`. */
function upsertMembership(state: State, clock: Clock, seq: () => number, actor: string, account: ServiceAccountRecord, workspaceId: string, role: WorkspaceRole): Membership {
  if (account.archived_at !== null) throw conflict("an archived service account cannot join a workspace");
  const existing = state.memberships.find((record) => record.service_account_id === account.id && record.workspace_id === workspaceId);
  if (existing) {
    existing.workspace_role = role;
    recordAudit(state, clock, { action: "membership.update", actor, detail: { service_account_id: account.id, workspace_id: workspaceId, workspace_role: role } });
  } else {
    state.memberships.push({ service_account_id: account.id, workspace_id: workspaceId, workspace_role: role, created_at: clock.now().toISOString(), seq: seq() });
    recordAudit(state, clock, { action: "membership.add", actor, detail: { service_account_id: account.id, workspace_id: workspaceId, workspace_role: role } });
  }
  return findMembership(state, account.id, workspaceId)!;
}

/** DELETE is idempotent; the default workspace's implicit membership cannot be removed. */
function removeMembership(state: State, clock: Clock, actor: string, accountId: string, workspaceId: string) {
  if (workspaceId === EMULATOR_FIXTURE.defaultWorkspaceId) throw conflict("every service account is a member of the default workspace; that membership cannot be removed");
  const before = state.memberships.length;
  state.memberships = state.memberships.filter((record) => !(record.service_account_id === accountId && record.workspace_id === workspaceId));
  if (state.memberships.length !== before) {
    recordAudit(state, clock, { action: "membership.remove", actor, detail: { service_account_id: accountId, workspace_id: workspaceId } });
  }
  return { type: "service_account_workspace_member_deleted" as const, service_account_id: accountId, workspace_id: workspaceId };
}

/** Which membership a route names; each route finds its two halves in its own order. */
interface MemberOf {
  account: ServiceAccountRecord;
  workspaceId: string;
}

type Params = RouteRequest["params"];

function upsertRoute<S extends z.ZodType<{ workspace_role: WorkspaceRole }>>(pattern: string, schema: S, resolve: (state: State, params: Params, body: z.output<S>) => MemberOf): Route {
  return {
    method: "POST",
    pattern,
    access: "admin",
    handle(request, { store, clock }) {
      const body = parseWith(schema, request.body ?? {});
      const actor = principalOf(request).serviceAccountId;
      const membership = store.mutate((state) => {
        const { account, workspaceId } = resolve(state, request.params, body);
        return upsertMembership(state, clock, () => store.nextSeq(), actor, account, workspaceId, body.workspace_role);
      });
      return { body: presentMembership(membership) };
    },
  };
}

function removeRoute(pattern: string, resolve: (state: State, params: Params) => MemberOf): Route {
  return {
    method: "DELETE",
    pattern,
    access: "admin",
    handle(request, { store, clock }) {
      const actor = principalOf(request).serviceAccountId;
      const result = store.mutate((state) => {
        const { account, workspaceId } = resolve(state, request.params);
        return removeMembership(state, clock, actor, account.id, workspaceId);
      });
      return { body: result };
    },
  };
}

/** A service account's workspaces and a workspace's service accounts: two views of one membership. */
export function membershipRoutes(): Route[] {
  const byAccount = "/v1/organizations/service_accounts/:service_account_id";
  const byWorkspace = "/v1/organizations/workspaces/:workspace_id/service_accounts";
  const workspaceInPath = (state: State, params: Params) => findWorkspaceId(state, params["workspace_id"]!, notFound);
  const accountInPath = (state: State, params: Params) => findServiceAccount(state, params["service_account_id"]!);
  return [
    {
      method: "GET",
      pattern: `${byAccount}/workspaces`,
      access: "admin",
      handle(request, { store }) {
        const account = accountInPath(store.state, request.params);
        const query = parseListQuery(request.query, "service_account_workspaces", ADMIN_LIST_LIMIT, { archivable: false });
        return { body: paginate("service_account_workspaces", membershipsOfAccount(store.state, account), query, presentMembership) };
      },
    },
    upsertRoute(`${byAccount}/workspaces`, addWorkspaceBody, (state, params, body) => {
      const account = accountInPath(state, params);
      return { account, workspaceId: findWorkspaceId(state, body.workspace_id, (message) => invalidRequest(`workspace_id: ${message}`)) };
    }),
    removeRoute(`${byAccount}/workspaces/:workspace_id`, (state, params) => {
      const account = accountInPath(state, params);
      return { account, workspaceId: workspaceInPath(state, params) };
    }),
    {
      method: "GET",
      pattern: byWorkspace,
      access: "admin",
      handle(request, { store }) {
        const workspaceId = workspaceInPath(store.state, request.params);
        const query = parseListQuery(request.query, "workspace_service_accounts", ADMIN_LIST_LIMIT, { archivable: false });
        return { body: paginate("workspace_service_accounts", membershipsOfWorkspace(store.state, workspaceId), query, presentMembership) };
      },
    },
    upsertRoute(byWorkspace, addServiceAccountBody, (state, params, body) => {
      const workspaceId = workspaceInPath(state, params);
      const account = state.serviceAccounts.find((candidate) => candidate.id === body.service_account_id);
      if (!account) throw invalidRequest("service_account_id: no such service account");
      return { account, workspaceId };
    }),
    {
      method: "GET",
      pattern: `${byWorkspace}/:service_account_id`,
      access: "admin",
      handle(request, { store }) {
        const workspaceId = workspaceInPath(store.state, request.params);
        const membership = findMembership(store.state, request.params["service_account_id"]!, workspaceId);
        if (!membership) throw notFound("the service account is not a member of this workspace");
        return { body: presentMembership(membership) };
      },
    },
    upsertRoute(`${byWorkspace}/:service_account_id`, changeRoleBody, (state, params) => {
      const workspaceId = workspaceInPath(state, params);
      const account = accountInPath(state, params);
      if (!findMembership(state, account.id, workspaceId)) throw notFound("the service account is not a member of this workspace");
      return { account, workspaceId };
    }),
    removeRoute(`${byWorkspace}/:service_account_id`, (state, params) => {
      const workspaceId = workspaceInPath(state, params);
      return { account: accountInPath(state, params), workspaceId };
    }),
  ];
}
