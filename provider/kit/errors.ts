import { isTunnelsApiError, type TunnelsApiError, type TunnelsErrorCode } from "../../sdk/api/errors";

/**
 * The error a provider operation fails with: which resource, which operation, what the API said,
 * and the client's hint. Messages come from typed client errors, which never carry secrets.
 */
export class ResourceOperationError extends Error {
  override readonly name = "ResourceOperationError";
  constructor(
    readonly resource: string,
    readonly operation: "check" | "create" | "read" | "update" | "delete",
    override readonly cause: unknown,
    message = `${resource} ${operation} failed: ${describe(cause)}`,
  ) {
    super(message);
  }
}

function describe(cause: unknown): string {
  if (cause instanceof Error) {
    const hint = (cause as { hint?: unknown }).hint;
    return typeof hint === "string" && hint && !cause.message.includes(hint) ? `${cause.message} (${hint})` : cause.message;
  }
  return String(cause);
}

/** Codes that say the credentials themselves failed, so every API call of the process fails alike. */
const CREDENTIALS_CODES: ReadonlySet<TunnelsErrorCode> = new Set(["CONFIGURATION", "AUTHENTICATION_FAILED", "PERMISSION_DENIED"]);

function isCredentialsFailure(error: unknown): error is TunnelsApiError {
  return isTunnelsApiError(error) && (error.source === "token-exchange" || CREDENTIALS_CODES.has(error.code));
}

/** The first credentials failure of this provider process, which carries the whole explanation. */
let firstCredentialsFailure: { where: string; code: TunnelsErrorCode; summary: string } | undefined;

/**
 * Wraps a provider step so every failure names the resource and the operation. When the
 * credentials fail (a spent identity token, a missing setting), every resource of the operation
 * fails with the same cause: the first one reports it in full, the others point at it in one
 * line, so one root cause reads as one error.
 */
export async function inContext<T>(resource: string, operation: ResourceOperationError["operation"], run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ResourceOperationError) throw error;
    if (!isCredentialsFailure(error)) throw new ResourceOperationError(resource, operation, error);
    const first = firstCredentialsFailure;
    if (!first || first.code !== error.code || first.summary !== error.summary) {
      firstCredentialsFailure = { where: `${resource} ${operation}`, code: error.code, summary: error.summary };
      throw new ResourceOperationError(resource, operation, error);
    }
    throw new ResourceOperationError(
      resource,
      operation,
      error,
      `${resource} ${operation} failed for the same reason as ${first.where} (${error.code}: ${error.summary}); that error says what to do`,
    );
  }
}

/** Forgets the first credentials failure (tests run several operations in one process). */
export function forgetCredentialsFailure(): void {
  firstCredentialsFailure = undefined;
}
