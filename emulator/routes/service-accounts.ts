import { z } from "zod";
import { ID_PREFIX } from "../../core/contract/tunnels-api";
import { ADMIN_DESCRIPTION_MAX_CHARS, ADMIN_NAME_MAX_CHARS } from "../decided/constants";
import type { Route } from "../http/router";
import type { ServiceAccountRecord, State } from "../state/store";
import { adminObjectRoutes, findAdminObject, type AdminObjectKind } from "./admin-object-routes";

const organizationRole = z.enum(["admin", "developer"]);

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

export const serviceAccountRoutes = (): Route[] => adminObjectRoutes(serviceAccounts);
