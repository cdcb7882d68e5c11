import { z } from "zod";
import { ADMIN_LIST_LIMIT, DEFAULT_RULE_TOKEN_LIFETIME_SECONDS, ID_PREFIX, SCOPE_MANAGE_TUNNELS, SCOPE_ORG_ADMIN, WORKSPACE_ID_PATTERN } from "../../core/contract/tunnels-api";
import { ADMIN_DESCRIPTION_MAX_CHARS, ADMIN_NAME_MAX_CHARS, FIELD_LIMITS, TOKEN_LIFETIME_SECONDS_RANGE } from "../decided/constants";
import { conflict, forbidden, invalidRequest } from "../http/errors";
import { normalizeWorkspaceId } from "../http/headers";
import { paginate, parseListQuery } from "../http/pagination";
import { principalOf, type Route } from "../http/router";
import { parseWith } from "../http/validation";
import { recordAudit } from "../state/audit";
import type { RuleMatch, RuleRecord, RuleWorkspaceRecord, State } from "../state/store";
import { adminObjectRoutes, findAdminObject, refuseArchivedAdminObject, type AdminObjectKind } from "./admin-object-routes";

/** Rules granting these scopes are created in the console; the API can only read them. */
export const CONSOLE_ONLY_SCOPES: readonly string[] = [SCOPE_MANAGE_TUNNELS, SCOPE_ORG_ADMIN];

const workspaceId = z.string().regex(WORKSPACE_ID_PATTERN);

const matchSchema = z
  .strictObject({
    subject_prefix: z.string().min(1).max(FIELD_LIMITS.textChars).nullable().optional(),
    audience: z.string().min(1).max(FIELD_LIMITS.textChars).nullable().optional(),
    claims: z.record(z.string().min(1).max(FIELD_LIMITS.keyChars), z.string().max(FIELD_LIMITS.textChars)).nullable().optional(),
    condition: z.null().optional(),
  })
  .refine((match) => match.subject_prefix != null || Object.keys(match.claims ?? {}).length > 0, {
    message: "a rule must match on subject_prefix or claims",
  });

const targetSchema = z.strictObject({
  type: z.literal("service_account"),
  service_account_id: z.string().min(1),
  service_account_name: z.string().nullable().optional(),
});

const scopeSchema = z.string().regex(/^[a-z_]+:[a-z_]+( [a-z_]+:[a-z_]+)*$/, "must be space-separated scopes like workspace:manage_tunnels");
const lifetimeSchema = z.number().int().min(TOKEN_LIFETIME_SECONDS_RANGE.min).max(TOKEN_LIFETIME_SECONDS_RANGE.max);
const attributesSchema = z.record(z.string().max(FIELD_LIMITS.keyChars), z.string().max(FIELD_LIMITS.textChars)).nullable().optional();

const createBody = z.strictObject({
  name: z.string().min(1).max(ADMIN_NAME_MAX_CHARS),
  description: z.string().max(ADMIN_DESCRIPTION_MAX_CHARS).nullable().optional(),
  issuer_id: z.string().min(1),
  match: matchSchema,
  target: targetSchema,
  oauth_scope: scopeSchema,
  token_lifetime_seconds: lifetimeSchema.optional(),
  applies_to_all_workspaces: z.boolean().optional(),
  workspace_id: workspaceId.nullable().optional(),
  workspace_ids: z.array(workspaceId).max(FIELD_LIMITS.listItems).optional(),
  attributes: attributesSchema,
});

const updateBody = z.strictObject({
  name: z.string().min(1).max(ADMIN_NAME_MAX_CHARS).nullable().optional(),
  description: z.string().max(ADMIN_DESCRIPTION_MAX_CHARS).nullable().optional(),
  match: matchSchema.nullable().optional(),
  target: targetSchema.nullable().optional(),
  oauth_scope: scopeSchema.nullable().optional(),
  token_lifetime_seconds: lifetimeSchema.nullable().optional(),
  applies_to_all_workspaces: z.boolean().nullable().optional(),
  workspace_id: workspaceId.nullable().optional(),
  attributes: attributesSchema,
});

const addWorkspaceBody = z.strictObject({ workspace_id: workspaceId });

const isConsoleOnly = (scope: string) => scope.split(" ").some((part) => CONSOLE_ONLY_SCOPES.includes(part));

function refuseConsoleOnly(scope: string): void {
  if (isConsoleOnly(scope)) throw forbidden("rules granting workspace:manage_tunnels or org:admin are managed in the console and are read-only through the API");
}

export function presentRule(state: State, rule: RuleRecord) {
  const issuer = state.issuers.find((candidate) => candidate.id === rule.issuer_id);
  const account = state.serviceAccounts.find((candidate) => candidate.id === rule.target.service_account_id);
  return {
    type: "federation_rule" as const,
    id: rule.id,
    name: rule.name,
    description: rule.description,
    issuer_id: rule.issuer_id,
    issuer_name: issuer?.name ?? null,
    match: { ...rule.match, condition: null },
    target: { ...rule.target, service_account_name: account?.name ?? null },
    oauth_scope: rule.oauth_scope,
    token_lifetime_seconds: rule.token_lifetime_seconds,
    applies_to_all_workspaces: rule.applies_to_all_workspaces,
    workspace_id: rule.workspaces.length === 1 ? rule.workspaces[0]!.workspace_id : null,
    workspace_ids: rule.workspaces.map((entry) => entry.workspace_id),
    attributes: rule.attributes,
    created_at: rule.created_at,
    created_by_actor_id: null,
    updated_at: rule.updated_at,
    updated_by_actor_id: null,
    archived_at: rule.archived_at,
    archived_by_actor_id: null,
  };
}

function presentRuleWorkspace(state: State, rule: RuleRecord, entry: RuleWorkspaceRecord) {
  return {
    type: "federation_rule_workspace" as const,
    federation_rule_id: rule.id,
    workspace_id: entry.workspace_id,
    workspace_name: state.workspaces.find((workspace) => workspace.id === entry.workspace_id)?.name ?? null,
    created_at: entry.created_at,
    created_by_actor_id: null,
  };
}

function requireActiveIssuer(state: State, id: string): void {
  if (!state.issuers.some((issuer) => issuer.id === id && issuer.archived_at === null)) throw invalidRequest("issuer_id: does not name an active federation issuer");
}

function requireActiveServiceAccount(state: State, id: string): void {
  if (!state.serviceAccounts.some((account) => account.id === id && account.archived_at === null)) {
    throw invalidRequest("target.service_account_id: does not name an active service account");
  }
}

function requireWorkspace(state: State, id: string, field: string): string {
  const normalized = normalizeWorkspaceId(id);
  if (!state.workspaces.some((workspace) => workspace.id === normalized)) throw invalidRequest(`${field}: no such workspace`);
  return normalized;
}

function normalizeMatch(match: z.output<typeof matchSchema>): RuleMatch {
  return { subject_prefix: match.subject_prefix ?? null, audience: match.audience ?? null, claims: match.claims ?? null };
}

export const federationRules: AdminObjectKind<RuleRecord, typeof createBody, typeof updateBody> = {
  path: "/v1/organizations/federation_rules",
  idParam: "rule_id",
  idPrefix: ID_PREFIX.federationRule,
  list: "federation_rules",
  noun: "federation rule",
  audit: "federation_rule",
  auditIdKey: "federation_rule_id",
  records: (state) => state.rules,
  present: presentRule,
  refuseReadOnly: (rule) => refuseConsoleOnly(rule.oauth_scope),
  listFilter(query) {
    const issuerIds = query.getAll("issuer_id");
    if (issuerIds.length > 1) throw invalidRequest("query parameter issuer_id given more than once");
    const issuerId = issuerIds[0];
    return (rule) => issuerId === undefined || rule.issuer_id === issuerId;
  },
  create: {
    body: createBody,
    refuseBody: (body) => refuseConsoleOnly(body.oauth_scope),
    fields(state, body, { at, nextSeq }) {
      requireActiveIssuer(state, body.issuer_id);
      requireActiveServiceAccount(state, body.target.service_account_id);
      const requested = [...(body.workspace_ids ?? []), ...(body.workspace_id ? [body.workspace_id] : [])];
      const workspaceIds = [...new Set(requested.map((id) => requireWorkspace(state, id, "workspace_ids")))];
      const appliesToAll = body.applies_to_all_workspaces ?? false;
      if (appliesToAll && workspaceIds.length > 0) throw invalidRequest("workspace_ids: must be empty when applies_to_all_workspaces is true");
      return {
        name: body.name,
        description: body.description ?? null,
        issuer_id: body.issuer_id,
        match: normalizeMatch(body.match),
        target: { type: "service_account", service_account_id: body.target.service_account_id },
        oauth_scope: body.oauth_scope,
        token_lifetime_seconds: body.token_lifetime_seconds ?? DEFAULT_RULE_TOKEN_LIFETIME_SECONDS,
        applies_to_all_workspaces: appliesToAll,
        workspaces: workspaceIds.map((workspace_id) => ({ workspace_id, created_at: at, seq: nextSeq() })),
        attributes: body.attributes ?? null,
      };
    },
    auditDetail: (rule) => ({ oauth_scope: rule.oauth_scope }),
  },
  update: {
    body: updateBody,
    refuseBody(body) {
      if (body.oauth_scope != null) refuseConsoleOnly(body.oauth_scope);
    },
    apply(state, record, body, { at, nextSeq }) {
      if (body.target != null) requireActiveServiceAccount(state, body.target.service_account_id);
      const appliesToAll = body.applies_to_all_workspaces ?? record.applies_to_all_workspaces;
      let workspaces = record.workspaces;
      if (body.workspace_id != null) {
        const id = requireWorkspace(state, body.workspace_id, "workspace_id");
        workspaces = [{ workspace_id: id, created_at: at, seq: nextSeq() }];
      }
      if (appliesToAll) workspaces = [];
      if (body.name != null) record.name = body.name;
      if (body.description !== undefined) record.description = body.description;
      if (body.match != null) record.match = normalizeMatch(body.match);
      if (body.target != null) record.target = { type: "service_account", service_account_id: body.target.service_account_id };
      if (body.oauth_scope != null) record.oauth_scope = body.oauth_scope;
      if (body.token_lifetime_seconds != null) record.token_lifetime_seconds = body.token_lifetime_seconds;
      if (body.attributes !== undefined) record.attributes = body.attributes;
      record.applies_to_all_workspaces = appliesToAll;
      record.workspaces = workspaces;
    },
  },
};

const findRule = (state: State, id: string): RuleRecord => findAdminObject(federationRules, state, id);

/** The admin endpoints, then the rule's workspaces. */
export function federationRuleRoutes(): Route[] {
  const base = federationRules.path;
  return [
    ...adminObjectRoutes(federationRules),
    {
      method: "GET",
      pattern: `${base}/:rule_id/workspaces`,
      access: "admin",
      handle(request, { store }) {
        const state = store.state;
        const rule = findRule(state, request.params["rule_id"]!);
        const query = parseListQuery(request.query, "federation_rule_workspaces", ADMIN_LIST_LIMIT, { archivable: false });
        return { body: paginate("federation_rule_workspaces", rule.workspaces, query, (entry) => presentRuleWorkspace(state, rule, entry)) };
      },
    },
    {
      method: "POST",
      pattern: `${base}/:rule_id/workspaces`,
      access: "admin",
      handle(request, { store, clock }) {
        const body = parseWith(addWorkspaceBody, request.body ?? {});
        const actor = principalOf(request).serviceAccountId;
        const { rule, entry } = store.mutate((state) => {
          const record = findRule(state, request.params["rule_id"]!);
          refuseConsoleOnly(record.oauth_scope);
          refuseArchivedAdminObject(federationRules, record);
          if (record.applies_to_all_workspaces) throw conflict("the rule applies to all workspaces; set applies_to_all_workspaces to false first");
          const id = requireWorkspace(state, body.workspace_id, "workspace_id");
          const existing = record.workspaces.find((candidate) => candidate.workspace_id === id);
          if (existing) return { rule: record, entry: existing };
          const added: RuleWorkspaceRecord = { workspace_id: id, created_at: clock.now().toISOString(), seq: store.nextSeq() };
          record.workspaces.push(added);
          record.updated_at = added.created_at;
          recordAudit(state, clock, { action: "federation_rule.workspace_add", actor, detail: { federation_rule_id: record.id, workspace_id: id } });
          return { rule: record, entry: added };
        });
        return { body: presentRuleWorkspace(store.state, rule, entry) };
      },
    },
    {
      method: "DELETE",
      pattern: `${base}/:rule_id/workspaces/:workspace_id`,
      access: "admin",
      handle(request, { store, clock }) {
        const actor = principalOf(request).serviceAccountId;
        const workspace = normalizeWorkspaceId(request.params["workspace_id"]!);
        const rule = store.mutate((state) => {
          const record = findRule(state, request.params["rule_id"]!);
          refuseConsoleOnly(record.oauth_scope);
          refuseArchivedAdminObject(federationRules, record);
          const before = record.workspaces.length;
          record.workspaces = record.workspaces.filter((entry) => entry.workspace_id !== workspace);
          if (record.workspaces.length !== before) {
            record.updated_at = clock.now().toISOString();
            recordAudit(state, clock, { action: "federation_rule.workspace_remove", actor, detail: { federation_rule_id: record.id, workspace_id: workspace } });
          }
          return record;
        });
        return { body: { type: "federation_rule_workspace_deleted", federation_rule_id: rule.id, workspace_id: workspace } };
      },
    },
  ];
}
