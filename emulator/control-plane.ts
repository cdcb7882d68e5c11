import { z } from "zod";
import { DEFAULT_AUDIENCE } from "../sdk/api/contract";
import { epochSeconds } from "./clock";
import { DEFAULT_ID_TOKEN_TTL_SECONDS, FIELD_LIMITS, MAX_ID_TOKEN_TTL_SECONDS } from "./constants";
import { faultsBodySchema } from "./faults";
import * as ids from "./ids";
import { probeBody, probeTunnel } from "./probe";
import type { Route } from "./router";
import { checkTunnelToken } from "./tunnels";
import { parseWith, requireNoFields } from "./validation";

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

/** `/_emulator/*`: no auth, loopback only, never faulted, never in the request log. */
export function controlPlaneRoutes(): Route[] {
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
  ];
}
