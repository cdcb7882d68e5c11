import { z } from "zod";
import { ADMIN_LIST_LIMIT, EMULATOR_FIXTURE, ID_PREFIX, WORKSPACE_ID_PATTERN } from "../../sdk/api/contract";
import { ADMIN_DESCRIPTION_MAX_CHARS, ADMIN_NAME_MAX_CHARS, WORKSPACE_ROLES, type WorkspaceRole } from "../decided/constants";
import { conflict, invalidRequest, notFound } from "../http/errors";
import { normalizeWorkspaceId } from "../http/headers";
import { paginate, parseListQuery } from "../http/pagination";
import { principalOf, type Route } from "../http/router";
import { parseWith } from "../http/validation";
import { recordAudit } from "../state/audit";
import type { Clock } from "../state/clock";
import { findMembership, membershipsOfAccount, membershipsOfWorkspace, presentMembership, type Membership } from "../state/memberships";
import type { ServiceAccountRecord, State } from "../state/store";
import { adminObjectRoutes, findAdminObject, type AdminObjectKind } from "./admin-object-routes";

const organizationRole = z.enum(["admin", "developer"]);
const workspaceRole = z.enum(WORKSPACE_ROLES);

const createBody = z.strictObject({
  name: z.string().min(1).max(ADMIN_NAME_MAX_CHARS),
  description: z.string().max(ADMIN_DESCRIPTION_MAX_CHARS).nullable().optional(),
  organization_role: organizationRole.optional(),
});
const updateBody = z.strictObject({
  name: z.string().min(1).max(ADMIN_NAME_MAX_CHARS).nullable().optional(),
  description: z.string().max(ADMIN_DESCRIPTION_MAX_CHARS).nullable().optional(),
  organization_role: organizationRole.nullable().optional(),
});
const addWorkspaceBody = z.strictObject({ workspace_id: z.string().regex(WORKSPACE_ID_PATTERN), workspace_role: workspaceRole });
const addServiceAccountBody = z.strictObject({ service_account_id: z.string().min(1), workspace_role: workspaceRole });
const changeRoleBody = z.strictObject({ workspace_role: workspaceRole });

export function presentServiceAccount(account: ServiceAccountRecord) {
  return {
    type: "service_account" as const,
    id: account.id,
    name: account.name,
    description: account.description,
    organization_role: account.organization_role,
    created_at: account.created_at,
    created_by_actor_id: null,
    updated_at: account.updated_at,
    updated_by_actor_id: null,
    archived_at: account.archived_at,
    archived_by_actor_id: null,
  };
}

export const serviceAccounts: AdminObjectKind<ServiceAccountRecord, typeof createBody, typeof updateBody> = {
  path: "/v1/organizations/service_accounts",
  idParam: "service_account_id",
  idPrefix: ID_PREFIX.serviceAccount,
  list: "service_accounts",
  noun: "service account",
  audit: "service_account",
  auditIdKey: "service_account_id",
  records: (state) => state.serviceAccounts,
  present: (_state, account) => presentServiceAccount(account),
  create: {
    body: createBody,
    fields: (_state, body) => ({
      name: body.name,
      description: body.description ?? null,
      organization_role: body.organization_role ?? "developer",
    }),
  },
  update: {
    body: updateBody,
    apply(_state, record, body) {
      if (body.name != null) record.name = body.name;
      if (body.description !== undefined) record.description = body.description;
      if (body.organization_role != null) record.organization_role = body.organization_role;
    },
  },
};

export const findServiceAccount = (state: State, id: string): ServiceAccountRecord => findAdminObject(serviceAccounts, state, id);

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

/** The admin endpoints, then a service account's workspaces and a workspace's service accounts. */
export function serviceAccountRoutes(): Route[] {
  const base = serviceAccounts.path;
  const byWorkspace = "/v1/organizations/workspaces/:workspace_id/service_accounts";
  return [
    ...adminObjectRoutes(serviceAccounts),
    {
      method: "GET",
      pattern: `${base}/:service_account_id/workspaces`,
      access: "admin",
      handle(request, { store }) {
        const account = findServiceAccount(store.state, request.params["service_account_id"]!);
        const query = parseListQuery(request.query, "service_account_workspaces", ADMIN_LIST_LIMIT, { archivable: false });
        return { body: paginate("service_account_workspaces", membershipsOfAccount(store.state, account), query, presentMembership) };
      },
    },
    {
      method: "POST",
      pattern: `${base}/:service_account_id/workspaces`,
      access: "admin",
      handle(request, { store, clock }) {
        const body = parseWith(addWorkspaceBody, request.body ?? {});
        const actor = principalOf(request).serviceAccountId;
        const membership = store.mutate((state) => {
          const account = findServiceAccount(state, request.params["service_account_id"]!);
          const workspaceId = findWorkspaceId(state, body.workspace_id, (message) => invalidRequest(`workspace_id: ${message}`));
          return upsertMembership(state, clock, () => store.nextSeq(), actor, account, workspaceId, body.workspace_role);
        });
        return { body: presentMembership(membership) };
      },
    },
    {
      method: "DELETE",
      pattern: `${base}/:service_account_id/workspaces/:workspace_id`,
      access: "admin",
      handle(request, { store, clock }) {
        const actor = principalOf(request).serviceAccountId;
        const result = store.mutate((state) => {
          const account = findServiceAccount(state, request.params["service_account_id"]!);
          const workspaceId = findWorkspaceId(state, request.params["workspace_id"]!, notFound);
          return removeMembership(state, clock, actor, account.id, workspaceId);
        });
        return { body: result };
      },
    },
    {
      method: "GET",
      pattern: byWorkspace,
      access: "admin",
      handle(request, { store }) {
        const workspaceId = findWorkspaceId(store.state, request.params["workspace_id"]!, notFound);
        const query = parseListQuery(request.query, "workspace_service_accounts", ADMIN_LIST_LIMIT, { archivable: false });
        return { body: paginate("workspace_service_accounts", membershipsOfWorkspace(store.state, workspaceId), query, presentMembership) };
      },
    },
    {
      method: "POST",
      pattern: byWorkspace,
      access: "admin",
      handle(request, { store, clock }) {
        const body = parseWith(addServiceAccountBody, request.body ?? {});
        const actor = principalOf(request).serviceAccountId;
        const membership = store.mutate((state) => {
          const workspaceId = findWorkspaceId(state, request.params["workspace_id"]!, notFound);
          const account = state.serviceAccounts.find((candidate) => candidate.id === body.service_account_id);
          if (!account) throw invalidRequest("service_account_id: no such service account");
          return upsertMembership(state, clock, () => store.nextSeq(), actor, account, workspaceId, body.workspace_role);
        });
        return { body: presentMembership(membership) };
      },
    },
    {
      method: "GET",
      pattern: `${byWorkspace}/:service_account_id`,
      access: "admin",
      handle(request, { store }) {
        const workspaceId = findWorkspaceId(store.state, request.params["workspace_id"]!, notFound);
        const membership = findMembership(store.state, request.params["service_account_id"]!, workspaceId);
        if (!membership) throw notFound("the service account is not a member of this workspace");
        return { body: presentMembership(membership) };
      },
    },
    {
      method: "POST",
      pattern: `${byWorkspace}/:service_account_id`,
      access: "admin",
      handle(request, { store, clock }) {
        const body = parseWith(changeRoleBody, request.body ?? {});
        const actor = principalOf(request).serviceAccountId;
        const membership = store.mutate((state) => {
          const workspaceId = findWorkspaceId(state, request.params["workspace_id"]!, notFound);
          const account = findServiceAccount(state, request.params["service_account_id"]!);
          if (!findMembership(state, account.id, workspaceId)) throw notFound("the service account is not a member of this workspace");
          return upsertMembership(state, clock, () => store.nextSeq(), actor, account, workspaceId, body.workspace_role);
        });
        return { body: presentMembership(membership) };
      },
    },
    {
      method: "DELETE",
      pattern: `${byWorkspace}/:service_account_id`,
      access: "admin",
      handle(request, { store, clock }) {
        const actor = principalOf(request).serviceAccountId;
        const result = store.mutate((state) => {
          const workspaceId = findWorkspaceId(state, request.params["workspace_id"]!, notFound);
          const account = findServiceAccount(state, request.params["service_account_id"]!);
          return removeMembership(state, clock, actor, account.id, workspaceId);
        });
        return { body: result };
      },
    },
  ];
}
