/** Stable codes: callers branch on these, never on message wording. */
export const TUNNELS_ERROR_CODES = [
  "TUNNELS_NOT_FOUND",
  "TUNNELS_LIMIT_REACHED",
  "CERT_SLOTS_FULL",
  "CERT_ALREADY_ACTIVE",
  "INVALID_CERTIFICATE",
  "INVALID_REQUEST",
  "PERMISSION_DENIED",
  "AUTHENTICATION_FAILED",
  "RATE_LIMITED",
  "CONFLICT",
  "SERVER_ERROR",
  "OVERLOADED",
  "TIMEOUT",
  "CONNECTION",
  "CONFIGURATION",
] as const;

export type TunnelsErrorCode = (typeof TUNNELS_ERROR_CODES)[number];

/**
 * Who failed: the API call itself, the federation token exchange before it (so the API call
 * was never sent), or the client (configuration or arguments, nothing sent at all).
 */
export type TunnelsErrorSource = "api" | "token-exchange" | "client";

export interface TunnelsApiErrorInit {
  code: TunnelsErrorCode;
  /** What failed, without the hint. Never contains a token, bearer or key. */
  summary: string;
  /** What the user should do about it. */
  hint: string;
  /** The client operation, e.g. `tunnels.create`. */
  operation?: string | undefined;
  status?: number | undefined;
  requestId?: string | undefined;
  /** Seconds the server asked us to wait (429/529), when it said. */
  retryAfterSeconds?: number | undefined;
  /** Defaults to `client`. */
  source?: TunnelsErrorSource | undefined;
}

/**
 * The one error type the API client throws. `message` is `summary` plus `hint`, so a user
 * who only sees the message still learns what to do.
 */
export class TunnelsApiError extends Error {
  override readonly name = "TunnelsApiError";
  readonly code: TunnelsErrorCode;
  readonly summary: string;
  readonly hint: string;
  readonly operation: string | undefined;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly source: TunnelsErrorSource;

  constructor(init: TunnelsApiErrorInit) {
    super(composeMessage(init));
    this.code = init.code;
    this.summary = init.summary;
    this.hint = init.hint;
    this.operation = init.operation;
    this.status = init.status;
    this.requestId = init.requestId;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.source = init.source ?? "client";
  }
}

function composeMessage(init: TunnelsApiErrorInit): string {
  const where = init.operation ? `${init.operation}: ` : "";
  const facts = [
    init.status !== undefined ? `status ${init.status}` : undefined,
    init.requestId ? `request ${init.requestId}` : undefined,
  ].filter((fact) => fact !== undefined);
  const trailer = facts.length > 0 ? ` (${facts.join(", ")})` : "";
  return `${where}${init.summary}${trailer}. ${init.hint}`;
}

export function isTunnelsApiError(error: unknown, code?: TunnelsErrorCode): error is TunnelsApiError {
  return error instanceof TunnelsApiError && (code === undefined || error.code === code);
}

export function configurationError(summary: string, hint: string): TunnelsApiError {
  return new TunnelsApiError({ code: "CONFIGURATION", summary, hint });
}
