import { isTunnelsApiError, type TunnelsApiError, type TunnelsErrorCode } from "../../core/api/errors";
import { PkiError, type PkiErrorCode } from "../../core/pki/errors";

/** Stable codes of provider failures: callers and tests branch on these, never on message wording. */
export const PROVIDER_ERROR_CODES = [
  /** An API call failed; `apiCode`, `status` and `requestId` say how. */
  "API_FAILED",
  /**
   * The credentials failed (the identity token exchange, a missing setting, a refused
   * permission), so every API call of the process fails alike.
   */
  "CREDENTIALS_FAILED",
  /** Tunnel create: `adoptTunnelId` names no tunnel the credentials can see. */
  "ADOPT_NOT_FOUND",
  /** Tunnel create: the tunnel `adoptTunnelId` names is archived. */
  "ADOPT_ARCHIVED",
  /** Tunnel create: the tunnel `adoptTunnelId` names has another display name. */
  "ADOPT_NAME_MISMATCH",
  /** Tunnel create: several tunnels could each be the result of an interrupted create. */
  "CREATE_RECOVERY_AMBIGUOUS",
  /** TunnelCertificate create: the tunnel already has its maximum of active CA certificates. */
  "CERTIFICATE_SLOTS_FULL",
  /** FederationRuleBinding create: the rule is archived, lacks the scope, or is not enabled for the workspace. */
  "FEDERATION_RULE_UNUSABLE",
  /** FederationRuleBinding create or read: no organization id is configured. */
  "ORGANIZATION_ID_UNKNOWN",
  /** Generating or reading a certificate or key failed; `pkiCode` says how. */
  "PKI_FAILED",
  /** A file operation failed (DeploymentDirectory writing, reading or removing its files). */
  "FILESYSTEM_FAILED",
  /** The engine passed create or update inputs that check would not have returned. */
  "INPUTS_NOT_CHECKED",
  /** The engine asked to update a resource whose every input replaces it. */
  "UPDATE_NOT_SUPPORTED",
  /** Anything else: a bug in the provider. */
  "UNEXPECTED",
] as const;

export type ProviderErrorCode = (typeof PROVIDER_ERROR_CODES)[number];

export type ProviderOperation = "check" | "diff" | "create" | "read" | "update" | "delete";

export interface ProviderErrorOptions {
  /** What the user should do about it, when the failure says. */
  hint?: string | undefined;
  cause?: unknown;
}

/**
 * The base of every provider failure: a stable code, the fix, and, when an API call or the PKI
 * layer failed underneath, that error's own code (and for the API its HTTP status and request
 * id). Providers throw it for a reason of their own; `inContext` wraps it, like any other
 * failure, in a ResourceOperationError, which is what leaves a provider.
 */
export class ProviderError extends Error {
  override readonly name: string = "ProviderError";
  readonly code: ProviderErrorCode;
  readonly hint: string | undefined;
  override readonly cause: unknown;
  /** The API client's code, when an API call failed underneath. */
  readonly apiCode: TunnelsErrorCode | undefined;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  /** The PKI layer's code, when generating or reading a certificate failed underneath. */
  readonly pkiCode: PkiErrorCode | undefined;

  constructor(code: ProviderErrorCode, message: string, options: ProviderErrorOptions = {}) {
    super(message);
    this.code = code;
    this.hint = options.hint ?? hintOf(options.cause);
    this.cause = options.cause;
    const api = underlying(options.cause, isTunnelsApiError);
    this.apiCode = api?.code;
    this.status = api?.status;
    this.requestId = api?.requestId;
    this.pkiCode = underlying(options.cause, (error): error is PkiError => error instanceof PkiError)?.code;
  }
}

export interface ResourceOperationErrorInit {
  resource: string;
  operation: ProviderOperation;
  cause?: unknown;
  /** Defaults to the code the cause stands for (see codeOf). */
  code?: ProviderErrorCode | undefined;
  /** Defaults to `<resource> <operation> failed: <what the cause says>`. */
  message?: string | undefined;
  hint?: string | undefined;
  /** For a credentials failure already explained: the resource and operation that explained it. */
  reportedFirstBy?: string | undefined;
}

/**
 * The error a provider operation fails with: which resource, which operation, and why, as a code
 * and the cause's message and hint. Messages come from typed errors, which never carry secrets.
 */
export class ResourceOperationError extends ProviderError {
  override readonly name = "ResourceOperationError";
  readonly resource: string;
  readonly operation: ProviderOperation;
  readonly reportedFirstBy: string | undefined;

  constructor(init: ResourceOperationErrorInit) {
    const message = init.message ?? `${init.resource} ${init.operation} failed: ${describe(init.cause)}`;
    super(init.code ?? codeOf(init.cause), message, { hint: init.hint, cause: init.cause });
    this.resource = init.resource;
    this.operation = init.operation;
    this.reportedFirstBy = init.reportedFirstBy;
  }
}

/**
 * Makes an API failure with one of `codes`' API codes a ProviderError with the provider's code
 * for it; the message and hint stay the client's.
 */
export async function withCodes<T>(call: Promise<T>, codes: Partial<Record<TunnelsErrorCode, ProviderErrorCode>>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (isTunnelsApiError(error)) {
      const code = codes[error.code];
      if (code) throw new ProviderError(code, error.message, { cause: error });
    }
    throw error;
  }
}

/** The code a failure stands for when nothing more specific was said. */
export function codeOf(cause: unknown): ProviderErrorCode {
  if (cause instanceof ProviderError) return cause.code;
  if (isTunnelsApiError(cause)) return isCredentialsFailure(cause) ? "CREDENTIALS_FAILED" : "API_FAILED";
  if (cause instanceof PkiError) return "PKI_FAILED";
  if (isSystemError(cause)) return "FILESYSTEM_FAILED";
  return "UNEXPECTED";
}

/**
 * Node's own failure of a system call (`EACCES`, `ENOTDIR`, …), which has no class to test for.
 * The providers' only direct system calls are on files: the API client turns network failures
 * into TunnelsApiErrors, and the create journal never fails a create.
 */
function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && "syscall" in error && typeof error.syscall === "string" && "code" in error && typeof error.code === "string";
}

function hintOf(cause: unknown): string | undefined {
  return cause instanceof ProviderError || isTunnelsApiError(cause) || cause instanceof PkiError ? cause.hint : undefined;
}

/** A cause's message, and its hint where the message leaves it out (a PKI failure's does). */
function describe(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  // A provider's own failure says its fix in its own words; the hint is the fix alone, for code.
  if (cause instanceof ProviderError) return cause.message;
  const hint = hintOf(cause);
  return hint && !cause.message.includes(hint) ? `${cause.message} (${hint})` : cause.message;
}

/** The first error of a kind along a chain of causes. */
function underlying<E extends Error>(error: unknown, is: (error: unknown) => error is E): E | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 8; current = current.cause, depth++) {
    if (is(current)) return current;
  }
  return undefined;
}

/** Codes that say the credentials themselves failed, so every API call of the process fails alike. */
const CREDENTIALS_CODES: ReadonlySet<TunnelsErrorCode> = new Set(["CONFIGURATION", "AUTHENTICATION_FAILED", "PERMISSION_DENIED"]);

function isCredentialsFailure(error: unknown): error is TunnelsApiError {
  return isTunnelsApiError(error) && (error.source === "token-exchange" || CREDENTIALS_CODES.has(error.code));
}

/** The first credentials failure of this provider process, which carries the whole explanation. */
let firstCredentialsFailure: { where: string; code: TunnelsErrorCode; summary: string } | undefined;

/**
 * Wraps a provider step so every failure names the resource and the operation and has a code:
 * the one the step threw (a ProviderError), or else the one its cause stands for. When the credentials fail (a spent identity token, a missing setting), every resource of the
 * operation fails with the same cause: the first one reports it in full, the others point at it
 * in one line, so one root cause reads as one error.
 */
export async function inContext<T>(resource: string, operation: ProviderOperation, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ResourceOperationError) throw error;
    if (!isCredentialsFailure(error)) throw new ResourceOperationError({ resource, operation, cause: error });
    const first = firstCredentialsFailure;
    if (!first || first.code !== error.code || first.summary !== error.summary) {
      firstCredentialsFailure = { where: `${resource} ${operation}`, code: error.code, summary: error.summary };
      throw new ResourceOperationError({ resource, operation, cause: error });
    }
    throw new ResourceOperationError({
      resource,
      operation,
      cause: error,
      reportedFirstBy: first.where,
      message: `${resource} ${operation} failed for the same reason as ${first.where} (${error.code}: ${error.summary}); that error says what to do`,
    });
  }
}

/** Forgets the first credentials failure (tests run several operations in one process). */
export function forgetCredentialsFailure(): void {
  firstCredentialsFailure = undefined;
}
