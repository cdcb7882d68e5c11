import { z } from "zod";
import {
  ADMIN_LIST_LIMIT,
  DISPLAY_NAME_MAX_CHARS,
  ID_PREFIX,
  MAX_CA_CERTIFICATE_PEM_CHARS,
  MAX_ROTATE_REASON_CHARS,
  TUNNEL_LIST_LIMIT,
} from "../contract/tunnels-api";

// Wire shapes are validated where responses enter the client and handed out camelCased.
// Unknown fields are dropped rather than refused, so an API that grows a field keeps working.

const timestamp = z.iso.datetime({ offset: true });
const idWithPrefix = (prefix: string) => z.string().startsWith(prefix);

export const tunnelSchema = z
  .object({
    type: z.literal("tunnel"),
    id: idWithPrefix(ID_PREFIX.tunnel),
    display_name: z.string().nullable(),
    domain: z.string().min(1),
    created_at: timestamp,
    archived_at: timestamp.nullable(),
  })
  .transform((wire) => ({
    id: wire.id,
    displayName: wire.display_name,
    domain: wire.domain,
    createdAt: wire.created_at,
    archivedAt: wire.archived_at,
  }));
export type Tunnel = z.output<typeof tunnelSchema>;

export const tunnelCertificateSchema = z
  .object({
    type: z.literal("tunnel_certificate"),
    id: idWithPrefix(ID_PREFIX.certificate),
    tunnel_id: idWithPrefix(ID_PREFIX.tunnel),
    fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
    expires_at: timestamp.nullable(),
    created_at: timestamp,
    archived_at: timestamp.nullable(),
  })
  .transform((wire) => ({
    id: wire.id,
    tunnelId: wire.tunnel_id,
    fingerprint: wire.fingerprint,
    expiresAt: wire.expires_at,
    createdAt: wire.created_at,
    archivedAt: wire.archived_at,
  }));
export type TunnelCertificate = z.output<typeof tunnelCertificateSchema>;

/** `tunnelToken` is the connector credential: callers must treat it as a secret. */
export const tunnelTokenSchema = z
  .object({
    type: z.literal("tunnel_token"),
    id: idWithPrefix(ID_PREFIX.tunnelToken),
    tunnel_token: z.string().min(1),
  })
  .transform((wire) => ({ id: wire.id, tunnelToken: wire.tunnel_token }));
export type TunnelToken = z.output<typeof tunnelTokenSchema>;

export const federationRuleSchema = z
  .object({
    id: idWithPrefix(ID_PREFIX.federationRule),
    name: z.string(),
    issuer_id: z.string(),
    match: z.object({
      subject_prefix: z.string().nullish(),
      audience: z.string().nullish(),
      claims: z.record(z.string(), z.string()).nullish(),
    }),
    target: z.object({ type: z.literal("service_account"), service_account_id: idWithPrefix(ID_PREFIX.serviceAccount) }),
    oauth_scope: z.string(),
    token_lifetime_seconds: z.number().int().positive(),
    workspace_ids: z.array(z.string()).nullish(),
    applies_to_all_workspaces: z.boolean(),
    created_at: timestamp.nullish(),
    archived_at: timestamp.nullish(),
  })
  .transform((wire) => ({
    id: wire.id,
    name: wire.name,
    issuerId: wire.issuer_id,
    match: {
      subjectPrefix: wire.match.subject_prefix ?? null,
      audience: wire.match.audience ?? null,
      claims: wire.match.claims ?? {},
    },
    target: { type: wire.target.type, serviceAccountId: wire.target.service_account_id },
    oauthScope: wire.oauth_scope,
    tokenLifetimeSeconds: wire.token_lifetime_seconds,
    workspaceIds: wire.workspace_ids ?? [],
    appliesToAllWorkspaces: wire.applies_to_all_workspaces,
    createdAt: wire.created_at ?? null,
    archivedAt: wire.archived_at ?? null,
  }));
export type FederationRule = z.output<typeof federationRuleSchema>;

export const serviceAccountSchema = z
  .object({
    id: idWithPrefix(ID_PREFIX.serviceAccount),
    name: z.string(),
    description: z.string().nullish(),
    created_at: timestamp.nullish(),
    archived_at: timestamp.nullish(),
  })
  .transform((wire) => ({
    id: wire.id,
    name: wire.name,
    description: wire.description ?? null,
    createdAt: wire.created_at ?? null,
    archivedAt: wire.archived_at ?? null,
  }));
export type ServiceAccount = z.output<typeof serviceAccountSchema>;

export const workspaceRoleSchema = z.string().min(1);

export const workspaceMemberSchema = z
  .object({
    service_account_id: idWithPrefix(ID_PREFIX.serviceAccount),
    workspace_id: z.string().min(1),
    workspace_role: workspaceRoleSchema,
  })
  .transform((wire) => ({
    serviceAccountId: wire.service_account_id,
    workspaceId: wire.workspace_id,
    workspaceRole: wire.workspace_role,
  }));
export type WorkspaceMember = z.output<typeof workspaceMemberSchema>;

// Inputs, checked before anything is sent. Messages name the field and never echo its value.

const objectId = (what: string) => z.string({ error: `${what} must be a string` }).trim().min(1, `${what} is required`);
export const tunnelIdInput = objectId("tunnel id");
export const certificateIdInput = objectId("certificate id");
export const federationRuleIdInput = objectId("federation rule id");
export const serviceAccountIdInput = objectId("service account id");
export const workspaceIdInput = objectId("workspace id");

export const createTunnelInput = z
  .object({
    displayName: z
      .string()
      .min(1, "displayName must not be empty")
      .max(DISPLAY_NAME_MAX_CHARS, `displayName must be at most ${DISPLAY_NAME_MAX_CHARS} characters`)
      .nullish(),
  })
  .strict();
export type CreateTunnelInput = z.input<typeof createTunnelInput>;

const listInput = (max: number) =>
  z
    .object({
      includeArchived: z.boolean().optional(),
      limit: z.number().int().min(1, `limit must be at least 1`).max(max, `limit must be at most ${max}`).optional(),
    })
    .strict();
export const listTunnelsInput = listInput(TUNNEL_LIST_LIMIT.max);
export type ListTunnelsInput = z.input<typeof listTunnelsInput>;
export const listCertificatesInput = listInput(TUNNEL_LIST_LIMIT.max);
export type ListCertificatesInput = z.input<typeof listCertificatesInput>;
export const listAdminInput = z
  .object({ limit: z.number().int().min(1).max(ADMIN_LIST_LIMIT.max, `limit must be at most ${ADMIN_LIST_LIMIT.max}`).optional() })
  .strict();
export type ListAdminInput = z.input<typeof listAdminInput>;

export const rotateTokenInput = z
  .object({
    reason: z.string().max(MAX_ROTATE_REASON_CHARS, `reason must be at most ${MAX_ROTATE_REASON_CHARS} characters`).nullish(),
  })
  .strict();
export type RotateTokenInput = z.input<typeof rotateTokenInput>;

export const createCertificateInput = z
  .object({
    caCertificatePem: z
      .string({ error: "caCertificatePem must be a string" })
      .min(1, "caCertificatePem is required")
      .max(MAX_CA_CERTIFICATE_PEM_CHARS, `caCertificatePem must be at most ${MAX_CA_CERTIFICATE_PEM_CHARS} characters`),
  })
  .strict();
export type CreateCertificateInput = z.input<typeof createCertificateInput>;

/** Roles a service account can be given in a workspace (billing is for humans only). */
export const ASSIGNABLE_WORKSPACE_ROLES = [
  "workspace_user",
  "workspace_developer",
  "workspace_restricted_developer",
  "workspace_admin",
] as const;

export const addWorkspaceMemberInput = z
  .object({
    serviceAccountId: serviceAccountIdInput,
    workspaceRole: z.enum(ASSIGNABLE_WORKSPACE_ROLES, {
      error: `workspaceRole must be one of ${ASSIGNABLE_WORKSPACE_ROLES.join(", ")}`,
    }),
  })
  .strict();
export type AddWorkspaceMemberInput = z.input<typeof addWorkspaceMemberInput>;
