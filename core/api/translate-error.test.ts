import { inspect } from "node:util";
import { APIConnectionError, APIConnectionTimeoutError, APIError } from "@anthropic-ai/sdk";
import { WorkloadIdentityError } from "@anthropic-ai/sdk/lib/credentials/types";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { CONFLICT_MESSAGE_PREFIX } from "../contract/tunnels-api";
import type { ResolvedCredentials } from "./credentials";
import { TunnelsApiError } from "./errors";
import { SecretRedactor } from "./redact";
import { translateError, type ErrorContext } from "./translate-error";

const SECRET = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJzZWNyZXQifQ.c2VjcmV0LXNpZw";
const BEARER = "opaque-bearer-secret-42";

const federation: ResolvedCredentials = {
  kind: "federation",
  ruleId: "fdrl_tunnels",
  ruleVariable: "ANTHROPIC_FEDERATION_RULE_ID",
  organizationId: "6f1c7a52-0000-4000-8000-00000000e001",
  workspaceId: "wrkspc_sandbox",
  serviceAccountId: "svac_tunnelsetup",
  identityToken: { kind: "value", value: SECRET, variable: "ANTHROPIC_IDENTITY_TOKEN" },
};

function context(operation: string, credentials: ResolvedCredentials = federation): ErrorContext {
  const redactor = new SecretRedactor();
  redactor.remember(SECRET);
  redactor.remember(BEARER);
  return { operation, baseUrl: "http://127.0.0.1:1", timeoutMs: 1000, credentials, redactor };
}

function apiError(status: number, message: string, headers: Record<string, string> = {}) {
  const body = { type: "error", error: { type: "x", message }, request_id: "req_123" };
  return APIError.generate(status, body, undefined, new Headers({ "request-id": "req_123", ...headers }));
}

function translate(error: unknown, operation = "tunnels.retrieve", credentials?: ResolvedCredentials): TunnelsApiError {
  const translated = translateError(error, context(operation, credentials));
  expect(translated).toBeInstanceOf(TunnelsApiError);
  return translated as TunnelsApiError;
}

describe("translateError", () => {
  it.each([
    [400, "tunnels.create", "display_name too long", "INVALID_REQUEST"],
    [400, "certificates.create", "certificate must satisfy: parses as X.509", "INVALID_CERTIFICATE"],
    [401, "tunnels.list", "invalid bearer", "AUTHENTICATION_FAILED"],
    [403, "tunnels.list", "not a member", "PERMISSION_DENIED"],
    [404, "tunnels.retrieve", "tunnel not found", "TUNNELS_NOT_FOUND"],
    [408, "tunnels.retrieve", "timeout", "TIMEOUT"],
    [409, "tunnels.create", `${CONFLICT_MESSAGE_PREFIX.tunnelLimit}: 10 per organization`, "TUNNELS_LIMIT_REACHED"],
    [409, "certificates.create", `${CONFLICT_MESSAGE_PREFIX.certificateLimit}: at most 2`, "CERT_SLOTS_FULL"],
    [409, "certificates.create", `${CONFLICT_MESSAGE_PREFIX.duplicateCertificate} on this tunnel`, "CERT_ALREADY_ACTIVE"],
    [409, "tunnels.rotateToken", CONFLICT_MESSAGE_PREFIX.tunnelArchived, "CONFLICT"],
    [413, "tunnels.create", "too large", "INVALID_REQUEST"],
    [429, "tunnels.list", "slow down", "RATE_LIMITED"],
    [500, "tunnels.list", "boom", "SERVER_ERROR"],
    [503, "tunnels.list", "unavailable", "SERVER_ERROR"],
    [529, "tunnels.list", "overloaded", "OVERLOADED"],
  ])("maps %i on %s (%s) to %s with status and request id", (status, operation, message, code) => {
    const error = translate(apiError(status, message), operation);
    expect(error).toMatchObject({ code, status, requestId: "req_123", operation });
    expect(error.hint.length).toBeGreaterThan(10);
    expect(error.message).toContain(error.hint);
  });

  it("keeps the server's retry-after", () => {
    expect(translate(apiError(429, "slow", { "retry-after": "1" })).retryAfterSeconds).toBe(1);
  });

  it("asks whether the service account is a member of the workspace on 403", () => {
    expect(translate(apiError(403, "forbidden"), "tunnels.list").hint).toContain(
      "Is service account svac_tunnelsetup a member of workspace wrkspc_sandbox?",
    );
  });

  it("names rule, organization and workspace, and the console's authentication history, when the exchange is denied", () => {
    const denied = new WorkloadIdentityError("Token exchange failed with status 401: Authentication failed", 401, null, "req_9");
    const error = translate(denied, "tunnels.list");
    expect(error).toMatchObject({ code: "AUTHENTICATION_FAILED", status: 401, requestId: "req_9" });
    expect(error.hint).toContain("federation rule fdrl_tunnels");
    expect(error.hint).toContain("organization 6f1c7a52-0000-4000-8000-00000000e001");
    expect(error.hint).toContain("workspace wrkspc_sandbox");
    expect(error.hint).toContain("authentication history");
  });

  describe("says what the identity token's own dates point to when the exchange is denied", () => {
    const NOW = Date.parse("2026-12-01T12:00:00.000Z");
    const denied = () => new WorkloadIdentityError("Token exchange failed with status 401: Authentication failed", 401, null, "req_9");
    const hintWith = (identityToken: ErrorContext["identityToken"]) =>
      (translateError(denied(), { ...context("tunnels.list"), identityToken, now: NOW }) as TunnelsApiError).hint;

    it("an expired token: expired, mint a new one", () => {
      expect(hintWith({ expiresAt: new Date(NOW - 60_000) })).toMatch(/^The identity token expired at 2026-12-01T11:59:00\.000Z: mint a new one/);
    });

    it("a token still valid: most likely exchanged already, and how to keep one exchange for preview and up", () => {
      const hint = hintWith({ expiresAt: new Date(NOW + 600_000) });
      expect(hint).toMatch(/^The identity token is still valid \(until 2026-12-01T12:10:00\.000Z\), so it was most likely exchanged already/);
      expect(hint).toContain("MCP_TUNNELS_CACHE_DIR");
    });

    it("a token without dates: the common causes", () => {
      expect(hintWith(undefined)).toMatch(/^Common causes: .*already exchanged/);
    });
  });

  it.each([
    [new APIConnectionTimeoutError(), "TIMEOUT"],
    [new APIConnectionError({ message: "socket hang up" }), "CONNECTION"],
    [new WorkloadIdentityError("Failed to reach token endpoint http://x/v1/oauth/token: TypeError: fetch failed"), "CONNECTION"],
    [new WorkloadIdentityError("Failed to reach token endpoint http://x: TimeoutError: The operation was aborted due to timeout"), "TIMEOUT"],
    [new WorkloadIdentityError("Token exchange failed with status 503", 503), "SERVER_ERROR"],
    [new WorkloadIdentityError("Credentials file at /c is group/world-readable (mode 0o644)"), "CONFIGURATION"],
  ])("maps %s to %s", (raw, code) => {
    expect(translate(raw).code).toBe(code);
  });

  it("says whether the API call or the token exchange before it failed", () => {
    expect(translate(apiError(503, "x")).source).toBe("api");
    expect(translate(new APIConnectionError({ message: "reset" })).source).toBe("api");
    expect(translate(new WorkloadIdentityError("Token exchange failed with status 503", 503)).source).toBe("token-exchange");
    expect(translate(new WorkloadIdentityError("Failed to reach token endpoint http://x: fetch failed")).source).toBe("token-exchange");
  });

  it("reports an unreadable response without quoting it", () => {
    const parsed = z.object({ tunnel_token: z.number() }).safeParse({ tunnel_token: BEARER });
    const error = translate(parsed.error);
    expect(error.code).toBe("SERVER_ERROR");
    expect(error.message).toContain("tunnel_token");
    expect(error.message).not.toContain(BEARER);
  });

  it("leaves a TunnelsApiError alone apart from naming the operation", () => {
    const original = new TunnelsApiError({ code: "CONFIGURATION", summary: "s", hint: "h" });
    expect(translate(original, "tunnels.create")).toMatchObject({ code: "CONFIGURATION", operation: "tunnels.create" });
  });

  it("never lets a token or bearer through, whatever the server or the SDK put in a message", () => {
    const leaks: unknown[] = [
      apiError(400, `bad assertion ${SECRET}`),
      apiError(401, `Bearer ${BEARER} rejected`),
      apiError(409, `${CONFLICT_MESSAGE_PREFIX.tunnelArchived} ${BEARER}`),
      new WorkloadIdentityError(`Credentials file problem ${SECRET}`),
      new WorkloadIdentityError(`Token exchange failed with status 401: ${SECRET}`, 401),
    ];
    for (const leak of leaks) {
      const error = translate(leak);
      const everything = `${error.message}\n${error.stack}\n${inspect(error, { depth: 5 })}\n${JSON.stringify(error)}`;
      expect(everything).not.toContain(SECRET);
      expect(everything).not.toContain(BEARER);
    }
  });
});
