import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from "@anthropic-ai/sdk";
import { ZodError } from "zod";
import type { IdentityTokenValidity } from "./identity-token-validity";
import {
  CONFLICT_MESSAGE_PREFIX,
  MAX_ACTIVE_CERTIFICATES_PER_TUNNEL,
  MAX_ACTIVE_TUNNELS_PER_ORGANIZATION,
} from "../contract/tunnels-api";
import type { ResolvedCredentials } from "./credentials";
import { TunnelsApiError, type TunnelsErrorCode, type TunnelsErrorSource } from "./errors";
import { parseRetryAfterSeconds } from "./retry-after";
import type { SecretRedactor } from "./redact";

/** What an error needs to know to say something useful, and nothing secret. */
export interface ErrorContext {
  /** e.g. `tunnels.create`, `certificates.archive`, `admin.serviceAccounts.retrieve`. */
  operation: string;
  baseUrl: string;
  timeoutMs: number;
  credentials: ResolvedCredentials | undefined;
  redactor: SecretRedactor;
  /** The identity token's own dates, when one was read: they tell an expired token from a spent one. */
  identityToken?: IdentityTokenValidity | undefined;
  /** Now, in ms since the epoch (the session's clock). */
  now?: number | undefined;
}

/** Turns whatever the SDK (or its credential chain) threw into a TunnelsApiError. */
export function translateError(error: unknown, context: ErrorContext): unknown {
  if (error instanceof TunnelsApiError) {
    return error.operation ? error : new TunnelsApiError({ ...error, operation: context.operation });
  }
  if (error instanceof APIUserAbortError) {
    return build(context, "api", "TIMEOUT", "the request was aborted", "Retry the operation; it was cancelled before an answer arrived.");
  }
  if (error instanceof APIConnectionTimeoutError) return timeout(context, "api");
  if (error instanceof APIConnectionError) return connection(context, "api");
  if (error instanceof APIError && typeof error.status === "number") return fromStatus(error, context);
  if (error instanceof ZodError) return unexpectedResponse(error, context);
  if (isNamed(error, "WorkloadIdentityError")) return fromTokenExchange(error, context);
  if (isNamed(error, "AnthropicError")) {
    // The SDK's credential chain raises plain AnthropicErrors for unreadable identity-token files.
    return build(context, "token-exchange", "CONFIGURATION", safe(error.message, context), identityTokenHint(context));
  }
  return error;
}

function fromStatus(error: APIError, context: ErrorContext): TunnelsApiError {
  const status = error.status as number;
  const serverMessage = safe(error.apiMessage ?? "", context);
  const code = codeForStatus(status, serverMessage, context.operation);
  return new TunnelsApiError({
    code,
    summary: serverMessage || `the API answered ${status}`,
    hint: hintFor(code, context),
    operation: context.operation,
    status,
    requestId: error.requestID ?? undefined,
    retryAfterSeconds: parseRetryAfterSeconds(error.headers),
    source: "api",
  });
}

export function codeForStatus(status: number, message: string, operation: string): TunnelsErrorCode {
  const isCertificateCreate = operation === "certificates.create";
  switch (status) {
    case 400:
    case 413:
    case 422:
      return isCertificateCreate ? "INVALID_CERTIFICATE" : "INVALID_REQUEST";
    case 401:
      return "AUTHENTICATION_FAILED";
    case 403:
      return "PERMISSION_DENIED";
    case 404:
      return "TUNNELS_NOT_FOUND";
    case 408:
      return "TIMEOUT";
    case 409:
      return conflictCode(message);
    case 429:
      return "RATE_LIMITED";
    case 529:
      return "OVERLOADED";
  }
  return status >= 500 ? "SERVER_ERROR" : "INVALID_REQUEST";
}

/** 409 messages start with a stable fragment (contract); the fallbacks cover reworded messages. */
function conflictCode(message: string): TunnelsErrorCode {
  const text = message.toLowerCase();
  if (text.startsWith(CONFLICT_MESSAGE_PREFIX.duplicateCertificate) || /already active/.test(text)) {
    return "CERT_ALREADY_ACTIVE";
  }
  if (text.startsWith(CONFLICT_MESSAGE_PREFIX.certificateLimit) || /certificate.*(limit|at most)/.test(text)) {
    return "CERT_SLOTS_FULL";
  }
  if (text.startsWith(CONFLICT_MESSAGE_PREFIX.tunnelLimit) || /tunnel.*(limit|at most)/.test(text)) {
    return "TUNNELS_LIMIT_REACHED";
  }
  return "CONFLICT";
}

function hintFor(code: TunnelsErrorCode, context: ErrorContext): string {
  const isAdmin = context.operation.startsWith("admin.");
  switch (code) {
    case "TUNNELS_NOT_FOUND":
      return isAdmin
        ? "Check the id; archived or never-created objects are not found."
        : `Check the id. A federation token sees only its own workspace (${workspaceLabel(context)}): ` +
            "an object created in another workspace needs credentials for that workspace.";
    case "TUNNELS_LIMIT_REACHED":
      return (
        `An organization may hold ${MAX_ACTIVE_TUNNELS_PER_ORGANIZATION} non-archived tunnels across all workspaces. ` +
        "Archive tunnels you no longer use, then retry."
      );
    case "CERT_SLOTS_FULL":
      return (
        `A tunnel holds at most ${MAX_ACTIVE_CERTIFICATES_PER_TUNNEL} active CA certificates. ` +
        "Archive the one being replaced before adding another."
      );
    case "CERT_ALREADY_ACTIVE":
      return "This CA certificate (same fingerprint) is already active on the tunnel; use the existing registration.";
    case "INVALID_CERTIFICATE":
      return (
        "The message names the certificate rule that failed. A CA certificate must be one PEM CERTIFICATE block " +
        "without private key, CA:TRUE (critical), with a SubjectKeyIdentifier and keyCertSign, currently valid, " +
        "RSA >= 2048 or ECDSA >= P-256, signed with SHA-256 or stronger."
      );
    case "INVALID_REQUEST":
      return "The message names the field the API refused; fix it and retry.";
    case "PERMISSION_DENIED":
      return isAdmin ? adminPermissionHint(context) : tunnelsPermissionHint(context);
    case "AUTHENTICATION_FAILED":
      return authenticationHint(context);
    case "RATE_LIMITED":
      return "The API kept rate-limiting after the client's retries; wait a minute or lower the parallelism, then retry.";
    case "SERVER_ERROR":
      return "The API failed after the client's retries; retry later. The request id identifies the call to Anthropic support.";
    case "OVERLOADED":
      return "The API is overloaded and kept refusing after the client's retries; retry in a few minutes.";
    case "TIMEOUT":
      return `No answer within ${context.timeoutMs} ms, even after retries; check connectivity to ${context.baseUrl} or raise timeoutMs.`;
    case "CONNECTION":
      return `Could not reach ${context.baseUrl}; check the network, proxy settings and ANTHROPIC_BASE_URL.`;
    case "CONFLICT":
      return "The object's state forbids this (for example, the tunnel is archived); archived tunnels cannot be changed.";
    case "CONFIGURATION":
      return "Fix the client configuration named in the message.";
  }
}

function workspaceLabel(context: ErrorContext): string {
  const credentials = context.credentials;
  if (credentials?.kind === "federation") return credentials.workspaceId ?? "the rule's default workspace";
  return "the token's workspace";
}

function tunnelsPermissionHint(context: ErrorContext): string {
  const credentials = context.credentials;
  if (credentials?.kind === "federation") {
    const account = credentials.serviceAccountId ?? `svac_… (the target of ${credentials.ruleId})`;
    const workspace = credentials.workspaceId ?? "wrkspc_… (the rule's default workspace)";
    return (
      `Is service account ${account} a member of workspace ${workspace}? ` +
      `Add it in the console or with AdminClient.workspaceMembers.add("${credentials.workspaceId ?? "<workspace>"}", ` +
      `{ serviceAccountId, workspaceRole }), and check that ${credentials.ruleId} grants scope workspace:manage_tunnels.`
    );
  }
  return (
    `Does the bearer in ${credentials?.variable ?? "ANTHROPIC_AUTH_TOKEN"} carry scope workspace:manage_tunnels, ` +
    "and is its service account svac_… a member of the token's workspace wrkspc_…? " +
    "An anthropic-workspace-id header must also match the token's workspace."
  );
}

function adminPermissionHint(context: ErrorContext): string {
  const source =
    context.credentials?.kind === "federation" ? `rule ${context.credentials.ruleId}` : (context.credentials?.variable ?? "the admin bearer");
  return (
    `The admin credential (${source}) needs scope org:admin. ` +
    "Federation rules with scope workspace:manage_tunnels or org:admin are read-only through the API; change them in the console."
  );
}

function authenticationHint(context: ErrorContext): string {
  const credentials = context.credentials;
  if (credentials?.kind === "federation") {
    return (
      `The access token minted for federation rule ${credentials.ruleId} was refused and a fresh exchange did not help; ` +
      "it may have been revoked, or the emulator/API clock moved past its expiry."
    );
  }
  return (
    `The bearer in ${credentials?.variable ?? "ANTHROPIC_AUTH_TOKEN"} was refused: it may have expired. ` +
    "The Tunnels API accepts only federation access tokens, never API keys."
  );
}

function identityTokenHint(context: ErrorContext): string {
  const credentials = context.credentials;
  if (credentials?.kind === "federation") {
    return `Check ${credentials.identityToken.variable}: the identity token must be readable and non-empty.`;
  }
  return "Check the identity token settings.";
}

/**
 * The service answers every denial with the same 401, so what the token itself says is the best
 * evidence: an expired token is named as such; a token still valid was, most often, exchanged
 * already (identity tokens are single use, and each provider process would exchange its own copy
 * without the shared cache).
 */
function likelyDenialCause(context: ErrorContext): string {
  const expiresAt = context.identityToken?.expiresAt;
  const now = context.now ?? Date.now();
  if (expiresAt && expiresAt.getTime() <= now) {
    return `The identity token expired at ${expiresAt.toISOString()}: mint a new one and run again.`;
  }
  if (expiresAt) {
    return (
      `The identity token is still valid (until ${expiresAt.toISOString()}), so it was most likely exchanged already: ` +
      "identity tokens are single use. Mint a fresh one for each run, or keep the access-token cache " +
      "(MCP_TUNNELS_CACHE_DIR, default ~/.cache/pulumi-mcp-tunnels) between preview and up so that one exchange serves both. " +
      "Otherwise its subject or audience does not match the rule, or the rule's service account is not a member of that workspace."
    );
  }
  return (
    "Common causes: the identity token's subject or audience does not match the rule, it expired, it was already exchanged " +
    "(single-use jti), or the rule's service account is not a member of that workspace."
  );
}

function fromTokenExchange(error: Error & { statusCode?: number | null; requestId?: string | null }, context: ErrorContext) {
  const status = error.statusCode ?? undefined;
  const requestId = error.requestId ?? undefined;
  const message = error.message;
  const credentials = context.credentials;
  const used =
    credentials?.kind === "federation"
      ? `federation rule ${credentials.ruleId}, organization ${credentials.organizationId}, ` +
        `workspace ${credentials.workspaceId ?? "(not set: the rule's default)"}`
      : "the configured federation rule";

  if (status === undefined) {
    if (/Failed to reach token endpoint/.test(message)) {
      return /timeout|timed out|aborted/i.test(message) ? timeout(context, "token-exchange") : connection(context, "token-exchange");
    }
    return build(context, "token-exchange", "CONFIGURATION", safe(message, context), `Check the federation settings (${used}).`);
  }
  const operation = context.operation;
  if (status === 401) {
    return new TunnelsApiError({
      code: "AUTHENTICATION_FAILED",
      summary: "the federation token exchange was denied",
      hint: `${likelyDenialCause(context)} The exchange used ${used}; the denial reason is in the Claude Console's authentication history (Workload identity page).`,
      operation,
      status,
      requestId,
      source: "token-exchange",
    });
  }
  // The exchange's own 400 is about federation inputs, never about a certificate, whatever the operation.
  const code = codeForStatus(status, "", "token-exchange");
  return new TunnelsApiError({
    code,
    summary: `the federation token exchange failed`,
    hint: code === "INVALID_REQUEST" ? `The token endpoint refused the exchange request; check ${used}.` : hintFor(code, context),
    operation,
    status,
    requestId,
    source: "token-exchange",
  });
}

function unexpectedResponse(error: ZodError, context: ErrorContext): TunnelsApiError {
  const where = error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`)
    .join("; ");
  return build(
    context,
    "api",
    "SERVER_ERROR",
    `the API returned an object this client cannot read (${where})`,
    "The API may have changed incompatibly; upgrade pulumi-mcp-tunnels or report the request to its maintainers.",
  );
}

function timeout(context: ErrorContext, source: TunnelsErrorSource) {
  const what = source === "token-exchange" ? "the federation token exchange timed out" : "the request timed out";
  return build(context, source, "TIMEOUT", what, hintFor("TIMEOUT", context));
}

function connection(context: ErrorContext, source: TunnelsErrorSource) {
  const what = source === "token-exchange" ? "the federation token exchange could not connect" : "the connection failed";
  return build(context, source, "CONNECTION", what, hintFor("CONNECTION", context));
}

function build(context: ErrorContext, source: TunnelsErrorSource, code: TunnelsErrorCode, summary: string, hint: string) {
  return new TunnelsApiError({ code, summary, hint, operation: context.operation, source });
}

function safe(text: string, context: ErrorContext): string {
  return context.redactor.redact(text);
}

function isNamed(error: unknown, name: string): error is Error & Record<string, unknown> {
  return error instanceof Error && error.name === name;
}
