import { z } from "zod";
import { DEFAULT_AUDIENCE } from "../../core/contract/tunnels-api";
import type { Edge } from "../data-path/edge";
import { presentConnection } from "../data-path/edge-connections";
import { callMcp, mcpCallBody } from "../data-path/mcp-call";
import { probeBody, probeTunnel } from "../data-path/probe";
import { DEFAULT_ID_TOKEN_TTL_SECONDS, FIELD_LIMITS, MAX_ID_TOKEN_TTL_SECONDS } from "../decided/constants";
import { ApiError, invalidRequest } from "../http/errors";
import { faultsBodySchema } from "../http/faults";
import type { Route } from "../http/router";
import { parseWith, requireNoFields } from "../http/validation";
import { epochSeconds } from "../state/clock";
import * as ids from "../state/ids";
import { checkTunnelToken } from "./tunnels";

const TEN_YEARS_SECONDS = 10 * 365 * 24 * 3600;
const RESERVED_CLAIMS = ["iss", "sub", "aud", "iat", "exp", "jti"];

const idTokenBody = z.strictObject({
  sub: z.string().min(1).max(FIELD_LIMITS.textChars),
  aud: z.union([z.string().min(1).max(FIELD_LIMITS.textChars), z.array(z.string().min(1).max(FIELD_LIMITS.textChars)).min(1).max(FIELD_LIMITS.audiences)]).default(DEFAULT_AUDIENCE),
  ttl_seconds: z.number().int().min(1).max(MAX_ID_TOKEN_TTL_SECONDS).default(DEFAULT_ID_TOKEN_TTL_SECONDS),
  jti: z.string().min(1).max(FIELD_LIMITS.keyChars).nullable().optional(),
  iat_offset_seconds: z.number().int().min(-TEN_YEARS_SECONDS).max(TEN_YEARS_SECONDS).default(0),
  claims: z
    .record(z.string(), z.unknown())
    .refine((claims) => RESERVED_CLAIMS.every((claim) => !(claim in claims)), "claims may not set iss, sub, aud, iat, exp or jti")
    .optional(),
});

const clockBody = z.strictObject({ offset_seconds: z.number().int().min(-TEN_YEARS_SECONDS).max(TEN_YEARS_SECONDS) });
const connectBody = z.strictObject({ tunnel_token: z.string().min(1).max(FIELD_LIMITS.textChars) });

const OK = { ok: true };

const TUNNEL_ID_QUERY = /^[A-Za-z0-9_]{1,64}$/;

function edgeQuery(query: URLSearchParams, allowed: readonly string[]): { tunnelId: string | undefined; connIndex: number | undefined } {
  for (const name of new Set(query.keys())) {
    if (!allowed.includes(name)) throw invalidRequest(`${name}: unknown query parameter`);
    if (query.getAll(name).length > 1) throw invalidRequest(`${name}: given more than once`);
  }
  const tunnelId = query.get("tunnel_id") ?? undefined;
  if (tunnelId !== undefined && !TUNNEL_ID_QUERY.test(tunnelId)) throw invalidRequest("tunnel_id: must be a tunnel id");
  const index = query.get("conn_index") ?? undefined;
  if (index !== undefined && !/^\d{1,2}$/.test(index)) throw invalidRequest("conn_index: must be a connection index");
  return { tunnelId, connIndex: index === undefined ? undefined : Number(index) };
}

/** `/_emulator/*`: no auth, loopback only, never faulted, never in the request log. */
export function controlPlaneRoutes(edge: Edge): Route[] {
  return [
    {
      method: "POST",
      pattern: "/_emulator/reset",
      access: "control",
      handle(request, context) {
        requireNoFields(request.body);
        context.reset();
        return { body: OK };
      },
    },
    {
      method: "GET",
      pattern: "/_emulator/oidc/.well-known/openid-configuration",
      access: "control",
      handle(_request, { oidc, baseUrl }) {
        return { body: oidc.openidConfiguration(baseUrl) };
      },
    },
    {
      method: "GET",
      pattern: "/_emulator/oidc/jwks",
      access: "control",
      handle(_request, { oidc }) {
        return { body: oidc.jwks() };
      },
    },
    {
      method: "POST",
      pattern: "/_emulator/oidc/token",
      access: "control",
      async handle(request, { oidc, baseUrl, clock }) {
        const body = parseWith(idTokenBody, request.body ?? {});
        const iat = epochSeconds(clock.now()) + body.iat_offset_seconds;
        const idToken = await oidc.mint(baseUrl, {
          sub: body.sub,
          aud: body.aud,
          iat,
          exp: iat + body.ttl_seconds,
          jti: body.jti === undefined ? ids.jwtId() : body.jti,
          extra: body.claims ?? {},
        });
        return { body: { id_token: idToken } };
      },
    },
    {
      method: "GET",
      pattern: "/_emulator/audit",
      access: "control",
      handle(_request, { store }) {
        return { body: { data: store.state.audit } };
      },
    },
    {
      method: "GET",
      pattern: "/_emulator/requests",
      access: "control",
      handle(_request, { requestLog }) {
        return { body: { data: requestLog.list() } };
      },
    },
    {
      method: "DELETE",
      pattern: "/_emulator/requests",
      access: "control",
      handle(_request, { requestLog }) {
        requestLog.clear();
        return { body: OK };
      },
    },
    {
      method: "POST",
      pattern: "/_emulator/clock",
      access: "control",
      handle(request, { clock }) {
        clock.offsetSeconds = parseWith(clockBody, request.body ?? {}).offset_seconds;
        return { body: { offset_seconds: clock.offsetSeconds, now: clock.now().toISOString() } };
      },
    },
    {
      method: "POST",
      pattern: "/_emulator/faults",
      access: "control",
      handle(request, { faults }) {
        faults.set(parseWith(faultsBodySchema, request.body ?? {}).rules);
        return { body: { rules: faults.list() } };
      },
    },
    {
      method: "DELETE",
      pattern: "/_emulator/faults",
      access: "control",
      handle(_request, { faults }) {
        faults.clear();
        return { body: OK };
      },
    },
    {
      method: "POST",
      pattern: "/_emulator/probe",
      access: "control",
      async handle(request, { store, clock }) {
        return { body: await probeTunnel(store.state, clock, parseWith(probeBody, request.body ?? {})) };
      },
    },
    {
      method: "POST",
      pattern: "/_emulator/connect",
      access: "control",
      handle(request, { store }) {
        return { body: checkTunnelToken(store.state, parseWith(connectBody, request.body ?? {}).tunnel_token) };
      },
    },
    {
      method: "GET",
      pattern: "/_emulator/edge/connect",
      access: "control",
      handle() {
        throw new ApiError(426, "the edge registers connectors over a WebSocket upgrade", { upgrade: "websocket" });
      },
    },
    {
      method: "GET",
      pattern: "/_emulator/edge/connections",
      access: "control",
      handle(request) {
        const { tunnelId } = edgeQuery(request.query, ["tunnel_id"]);
        return { body: { data: edge.connections.list(tunnelId).map(presentConnection) } };
      },
    },
    {
      method: "DELETE",
      pattern: "/_emulator/edge/connections",
      access: "control",
      handle(request) {
        const { tunnelId, connIndex } = edgeQuery(request.query, ["tunnel_id", "conn_index"]);
        if (tunnelId === undefined) throw invalidRequest("tunnel_id: required");
        return { body: { dropped: edge.connections.drop(tunnelId, connIndex) } };
      },
    },
    {
      method: "POST",
      pattern: "/_emulator/mcp",
      access: "control",
      async handle(request, { store, clock }) {
        return { body: await callMcp(edge, store, clock, parseWith(mcpCallBody, request.body ?? {})) };
      },
    },
  ];
}
