import type { JWTPayload, JWTVerifyGetKey } from "jose";
import { JWT_CLOCK_SKEW_SECONDS } from "../../core/contract/tunnels-api";
import { ASYMMETRIC_JWT_ALGORITHMS } from "../decided/constants";
import { epochSeconds } from "../state/clock";
import type { IssuerRecord, RuleMatch } from "../state/store";

/** Why an exchange was denied. The caller only ever sees "Authentication failed"; the audit log keeps this. */
export type DenyReason =
  | "unknown_organization"
  | "unknown_rule"
  | "rule_archived"
  | "issuer_archived"
  | "malformed_jwt"
  | "disallowed_alg"
  | "missing_kid"
  | "unknown_kid"
  | "jwks_unavailable"
  | "bad_signature"
  | "issuer_mismatch"
  | "missing_sub"
  | "missing_iat"
  | "missing_exp"
  | "expired"
  | "not_yet_valid"
  | "iat_in_future"
  | "lifetime_too_long"
  | "missing_jti"
  | "replayed_jti"
  | "subject_mismatch"
  | "audience_mismatch"
  | "claims_mismatch"
  | "service_account_mismatch"
  | "service_account_archived"
  | "unknown_workspace"
  | "workspace_required"
  | "workspace_not_enabled"
  | "service_account_not_member";

export class ExchangeDenied extends Error {
  override readonly name = "ExchangeDenied";
  constructor(readonly reason: DenyReason) {
    super(reason);
  }
}

const deny = (reason: DenyReason): never => {
  throw new ExchangeDenied(reason);
};

export interface VerifiedAssertion extends JWTPayload {
  sub: string;
  iat: number;
  exp: number;
}

const CLAIM_REASONS: Record<string, DenyReason> = { iss: "issuer_mismatch", sub: "missing_sub", iat: "missing_iat", exp: "missing_exp", nbf: "not_yet_valid" };

function reasonForJoseError(error: unknown): DenyReason {
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case "ERR_JWT_EXPIRED":
      return "expired";
    case "ERR_JWT_CLAIM_VALIDATION_FAILED": {
      const { claim, reason } = error as { claim: string; reason: string };
      if (reason === "invalid") return "malformed_jwt";
      return CLAIM_REASONS[claim] ?? "malformed_jwt";
    }
    case "ERR_JOSE_ALG_NOT_ALLOWED":
    case "ERR_JOSE_NOT_SUPPORTED":
      return "disallowed_alg";
    case "ERR_JWKS_NO_MATCHING_KEY":
    case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
      return "unknown_kid";
    case "ERR_JWKS_TIMEOUT":
    case "ERR_JWKS_INVALID":
    // jose's generic error is what a remote JWKS answering non-200 or non-JSON raises.
    case "ERR_JOSE_GENERIC":
      return "jwks_unavailable";
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return "bad_signature";
    case "ERR_JWS_INVALID":
    case "ERR_JWT_INVALID":
      return "malformed_jwt";
    default:
      // A remote JWKS that cannot be fetched surfaces as a plain fetch error.
      return error instanceof TypeError || (error as Error | null)?.name === "AbortError" ? "jwks_unavailable" : "bad_signature";
  }
}

/** The JWT rules of the API contract (docs/tunnels-api.md), with jose doing the signature and registered-claim checks. */
export async function verifyAssertion(assertion: string, issuer: IssuerRecord, getKey: JWTVerifyGetKey, now: Date): Promise<VerifiedAssertion> {
  const jose = await import("jose");
  let header: ReturnType<typeof jose.decodeProtectedHeader>;
  try {
    header = jose.decodeProtectedHeader(assertion);
  } catch {
    return deny("malformed_jwt");
  }
  if (typeof header.alg !== "string" || !ASYMMETRIC_JWT_ALGORITHMS.includes(header.alg)) deny("disallowed_alg");
  if (typeof header.kid !== "string" || header.kid.length === 0) deny("missing_kid");

  let payload: JWTPayload;
  try {
    ({ payload } = await jose.jwtVerify(assertion, getKey, {
      algorithms: ASYMMETRIC_JWT_ALGORITHMS,
      issuer: issuer.issuer_url,
      requiredClaims: ["sub", "iat", "exp"],
      currentDate: now,
      clockTolerance: JWT_CLOCK_SKEW_SECONDS,
    }));
  } catch (error) {
    return deny(reasonForJoseError(error));
  }
  const { sub, iat, exp } = payload;
  if (typeof sub !== "string" || sub.length === 0) return deny("missing_sub");
  if (typeof iat !== "number") return deny("missing_iat");
  if (typeof exp !== "number") return deny("missing_exp");
  if (iat > epochSeconds(now) + JWT_CLOCK_SKEW_SECONDS) deny("iat_in_future");
  if (exp - iat > issuer.max_jwt_lifetime_seconds) deny("lifetime_too_long");
  if (issuer.check_jti && (typeof payload.jti !== "string" || payload.jti.length === 0)) deny("missing_jti");
  return { ...payload, sub, iat, exp };
}

/** `subject_prefix` is exact, or a prefix when it ends in `*`. Unset conditions do not constrain. */
export function matchRule(match: RuleMatch, claims: VerifiedAssertion): void {
  const prefix = match.subject_prefix;
  if (prefix !== null) {
    const matches = prefix.endsWith("*") ? claims.sub.startsWith(prefix.slice(0, -1)) : claims.sub === prefix;
    if (!matches) deny("subject_mismatch");
  }
  if (match.audience !== null) {
    const audiences = Array.isArray(claims.aud) ? claims.aud : claims.aud === undefined ? [] : [claims.aud];
    if (!audiences.includes(match.audience)) deny("audience_mismatch");
  }
  for (const [name, expected] of Object.entries(match.claims ?? {})) {
    const actual = claims[name];
    const matches = Array.isArray(actual) ? actual.includes(expected) : actual === expected;
    if (!matches) deny("claims_mismatch");
  }
}
