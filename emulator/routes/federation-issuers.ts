import { z } from "zod";
import { DEFAULT_ISSUER_MAX_JWT_LIFETIME_SECONDS, ID_PREFIX } from "../../core/contract/tunnels-api";
import { ADMIN_NAME_MAX_CHARS, FIELD_LIMITS, MAX_JWT_LIFETIME_SECONDS_RANGE } from "../decided/constants";
import { conflict, forbidden } from "../http/errors";
import type { Route } from "../http/router";
import type { IssuerRecord, JwksConfig, State } from "../state/store";
import { adminObjectRoutes, type AdminObjectKind } from "./admin-object-routes";

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);
const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "k", "oth"];

/** https, or plain http to a loopback host (local test issuers), with no query or fragment. */
const issuerUrl = z
  .string()
  .max(FIELD_LIMITS.urlChars)
  .refine((value) => {
    try {
      const url = new URL(value);
      const secure = url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname));
      return secure && url.search === "" && url.hash === "" && url.username === "" && url.password === "";
    } catch {
      return false;
    }
  }, "must be an https URL (http only for loopback) without query or fragment");

const publicJwk = z
  .record(z.string(), z.unknown())
  .refine((key) => typeof key["kty"] === "string", "each key needs kty")
  .refine((key) => typeof key["kid"] === "string" && key["kid"].length > 0, "each key needs a kid")
  .refine((key) => PRIVATE_JWK_MEMBERS.every((member) => !(member in key)), "keys must be public keys: private members are refused");

const jwksConfig = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("inline"), keys: z.array(publicJwk).min(1).max(FIELD_LIMITS.inlineJwksKeys) }),
  z.strictObject({ type: z.literal("discovery"), discovery_base: issuerUrl.nullable().optional(), ca_cert_pem: z.string().max(FIELD_LIMITS.pemChars).nullable().optional() }),
  z.strictObject({ type: z.literal("explicit_url"), url: issuerUrl, ca_cert_pem: z.string().max(FIELD_LIMITS.pemChars).nullable().optional() }),
]);

const maxJwtLifetime = z.number().int().min(MAX_JWT_LIFETIME_SECONDS_RANGE.min).max(MAX_JWT_LIFETIME_SECONDS_RANGE.max);

const createBody = z.strictObject({
  name: z.string().min(1).max(ADMIN_NAME_MAX_CHARS),
  issuer_url: issuerUrl,
  jwks: jwksConfig.optional(),
  max_jwt_lifetime_seconds: maxJwtLifetime.nullable().optional(),
  check_jti: z.boolean().nullable().optional(),
});

const updateBody = z.strictObject({
  name: z.string().min(1).max(ADMIN_NAME_MAX_CHARS).nullable().optional(),
  issuer_url: issuerUrl.nullable().optional(),
  jwks: jwksConfig.nullable().optional(),
  max_jwt_lifetime_seconds: maxJwtLifetime.nullable().optional(),
  check_jti: z.boolean().nullable().optional(),
  jwks_polling_disabled: z.boolean().nullable().optional(),
});

export function presentIssuer(issuer: IssuerRecord) {
  return {
    type: "federation_issuer" as const,
    id: issuer.id,
    name: issuer.name,
    issuer_url: issuer.issuer_url,
    jwks: issuer.jwks,
    max_jwt_lifetime_seconds: issuer.max_jwt_lifetime_seconds,
    check_jti: issuer.check_jti,
    jwks_polling_disabled_at: issuer.jwks_polling_disabled_at,
    poll_status: null,
    created_at: issuer.created_at,
    created_by_actor_id: null,
    updated_at: issuer.updated_at,
    updated_by_actor_id: null,
    archived_at: issuer.archived_at,
    archived_by_actor_id: null,
  };
}

function refuseConsoleManaged(issuer: IssuerRecord): void {
  if (issuer.console_managed) throw forbidden("this federation issuer is managed in the console and is read-only through the API");
}

function refuseDuplicateUrl(state: State, url: string, except?: string): void {
  if (state.issuers.some((issuer) => issuer.archived_at === null && issuer.issuer_url === url && issuer.id !== except)) {
    throw conflict("an active federation issuer with this issuer_url already exists");
  }
}

export const federationIssuers: AdminObjectKind<IssuerRecord, typeof createBody, typeof updateBody> = {
  path: "/v1/organizations/federation_issuers",
  idParam: "issuer_id",
  idPrefix: ID_PREFIX.federationIssuer,
  list: "federation_issuers",
  noun: "federation issuer",
  audit: "federation_issuer",
  auditIdKey: "issuer_id",
  records: (state) => state.issuers,
  present: (_state, issuer) => presentIssuer(issuer),
  refuseReadOnly: refuseConsoleManaged,
  create: {
    body: createBody,
    fields(state, body) {
      refuseDuplicateUrl(state, body.issuer_url);
      return {
        name: body.name,
        issuer_url: body.issuer_url,
        jwks: (body.jwks ?? { type: "discovery" }) as JwksConfig,
        max_jwt_lifetime_seconds: body.max_jwt_lifetime_seconds ?? DEFAULT_ISSUER_MAX_JWT_LIFETIME_SECONDS,
        check_jti: body.check_jti ?? true,
        jwks_polling_disabled_at: null,
        console_managed: false,
      };
    },
    auditDetail: (issuer) => ({ issuer_url: issuer.issuer_url }),
  },
  update: {
    body: updateBody,
    apply(state, record, body, { at }) {
      if (body.issuer_url != null) refuseDuplicateUrl(state, body.issuer_url, record.id);
      if (body.name != null) record.name = body.name;
      if (body.issuer_url != null) record.issuer_url = body.issuer_url;
      if (body.jwks != null) record.jwks = body.jwks as JwksConfig;
      if (body.max_jwt_lifetime_seconds != null) record.max_jwt_lifetime_seconds = body.max_jwt_lifetime_seconds;
      if (body.check_jti != null) record.check_jti = body.check_jti;
      if (body.jwks_polling_disabled != null) record.jwks_polling_disabled_at = body.jwks_polling_disabled ? (record.jwks_polling_disabled_at ?? at) : null;
    },
  },
};

export const federationIssuerRoutes = (): Route[] => adminObjectRoutes(federationIssuers);
