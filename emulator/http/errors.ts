import { ERROR_TYPE_BY_STATUS, RETRY_AFTER_SECONDS } from "../../core/contract/tunnels-api";

export type ErrorType =
  | (typeof ERROR_TYPE_BY_STATUS)[keyof typeof ERROR_TYPE_BY_STATUS]
  | "api_error";

export function errorTypeForStatus(status: number): ErrorType {
  const known = (ERROR_TYPE_BY_STATUS as Record<number, ErrorType>)[status];
  if (known) return known;
  return status >= 500 ? "api_error" : "invalid_request_error";
}

/** Headers every error of this status carries (429 and 529 tell the client when to come back). */
export function errorHeadersForStatus(status: number): Record<string, string> {
  return status === 429 || status === 529 ? { "retry-after": String(RETRY_AFTER_SECONDS) } : {};
}

/**
 * An API failure as a value: the status decides the error type, the message never repeats
 * request values that could be secret.
 */
export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly type: ErrorType;

  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.type = errorTypeForStatus(status);
  }
}

export const invalidRequest = (message: string) => new ApiError(400, message);
export const unauthenticated = (message: string) => new ApiError(401, message);
export const forbidden = (message: string) => new ApiError(403, message);
export const notFound = (message: string) => new ApiError(404, message);
export const conflict = (message: string) => new ApiError(409, message);
export const methodNotAllowed = (message: string, allowed: string[]) => new ApiError(405, message, { allow: allowed.join(", ") });

export function errorBody(status: number, message: string, requestId: string) {
  return { type: "error", error: { type: errorTypeForStatus(status), message }, request_id: requestId };
}
