import { TunnelsApiError } from "./errors";

/**
 * How hard one call tries before it gives up: every retry in this client (safe calls, the token
 * exchange, and creates after their look-up) spends one of these, and nothing else retries (the
 * SDK's own retries are off). docs/retries.md gives the arithmetic behind the defaults.
 */
export interface RetryBudget {
  /** Attempts of one call, the first included; 1 means no retry. */
  readonly attempts: number;
  /**
   * No attempt starts later than this after the call's first began; waits are cut to fit. The
   * attempt then in flight still has its own deadline, so a call lasts at most this plus that.
   */
  readonly totalMs: number;
  /** Wait before the first retry, doubled for each later one up to `maxDelayMs`. */
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** Up to this fraction of each backoff is taken off at random, so failed callers spread out. */
  readonly jitter: number;
}

/**
 * Ten attempts keep a call that meets 20 % 503s, 10 % 429s and 5 % after-commit failures from
 * running out in more than about one soak of 40 quickstart ups in a thousand; the backoff is the
 * SDK's own curve (0.5 s doubling to 8 s, 25 % jitter), whose nine waits add up to at most 47.5 s,
 * well inside the two-minute cap that only a slow server (long retry-after, timeouts) reaches.
 */
export const RETRY_BUDGET: RetryBudget = Object.freeze({
  attempts: 10,
  totalMs: 120_000,
  initialDelayMs: 500,
  maxDelayMs: 8_000,
  jitter: 0.25,
});

/** Deadline of one HTTP attempt, unless the client is given another (`timeoutMs`). */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 30_000;

/** The longest one call can last: its last attempt starts by `totalMs` and ends by its deadline. */
export function longestCallMs(budget: RetryBudget, attemptTimeoutMs: number): number {
  return budget.totalMs + attemptTimeoutMs;
}

/** How long a call of a client built with the defaults (as every provider process builds it) can last. */
export const DEFAULT_LONGEST_CALL_MS = longestCallMs(RETRY_BUDGET, DEFAULT_ATTEMPT_TIMEOUT_MS);

/** Time and chance as retries see them; tests pass a fake whose sleep advances its clock. */
export interface RetryClock {
  now(): number;
  sleep(ms: number): Promise<void>;
  /** In [0, 1), as Math.random. */
  random(): number;
}

export const systemRetryClock: RetryClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: () => Math.random(),
};

/** The default budget with `overrides` applied, checked at the boundary (names the field, never echoes a value). */
export function resolveRetryBudget(overrides: Partial<RetryBudget> = {}): RetryBudget {
  const budget = { ...RETRY_BUDGET, ...definedOnly(overrides) };
  const problems: string[] = [];
  if (!Number.isInteger(budget.attempts) || budget.attempts < 1) problems.push("attempts must be an integer of at least 1");
  for (const field of ["totalMs", "initialDelayMs", "maxDelayMs"] as const) {
    if (!Number.isFinite(budget[field]) || budget[field] < 0) problems.push(`${field} must be a number of milliseconds, 0 or more`);
  }
  if (budget.maxDelayMs < budget.initialDelayMs) problems.push("maxDelayMs must be at least initialDelayMs");
  if (!(budget.jitter >= 0 && budget.jitter <= 1)) problems.push("jitter must be between 0 and 1");
  if (problems.length > 0) {
    throw new TunnelsApiError({
      code: "CONFIGURATION",
      summary: `invalid retryBudget (${problems.join("; ")})`,
      hint: "Fix the named retryBudget field, or leave it out for the default (docs/retries.md).",
    });
  }
  return Object.freeze(budget);
}

/** Wait before retry number `retryIndex` (0 = first retry) when the server did not say; `random` is a draw in [0, 1). */
export function backoffMs(budget: RetryBudget, retryIndex: number, random: number): number {
  const base = Math.min(budget.initialDelayMs * 2 ** retryIndex, budget.maxDelayMs);
  return base * (1 - random * budget.jitter);
}

/** Statuses worth another attempt of a call that is safe to repeat; 409 is an answer (limit, slots, archived). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** The server's `x-should-retry`, when it sent one, overrides the status (as the SDK does). */
export function isRetryableResponse(status: number, headers: { get(name: string): string | null } | undefined): boolean {
  const verdict = headers?.get("x-should-retry");
  if (verdict === "true") return true;
  if (verdict === "false") return false;
  return isRetryableStatus(status);
}

/** One call's spending of a budget: the attempts it made and the time since its first began. */
export class RetrySchedule {
  readonly #budget: RetryBudget;
  readonly #clock: RetryClock;
  readonly #startedAt: number;
  #attempts = 1;

  /** Created as the call's first attempt starts. */
  constructor(budget: RetryBudget, clock: RetryClock) {
    this.#budget = budget;
    this.#clock = clock;
    this.#startedAt = clock.now();
  }

  get attempts(): number {
    return this.#attempts;
  }

  /**
   * Claims the next attempt and returns the wait before it, or undefined when the budget is spent
   * (every attempt made, or the cap passed). The wait is `waitMs` when given (what the server
   * asked for in retry-after, or 0 for a repeat that needs no pause), else the backoff; either is
   * cut to what remains of the cap.
   */
  next(waitMs?: number): number | undefined {
    const remaining = this.remainingMs();
    if (this.#attempts >= this.#budget.attempts || remaining <= 0) return undefined;
    const wanted = waitMs ?? backoffMs(this.#budget, this.#attempts - 1, this.#clock.random());
    this.#attempts++;
    return Math.min(wanted, remaining);
  }

  /** Time left before the cap; an attempt may still start at 0, none once it is negative. */
  remainingMs(): number {
    return this.#budget.totalMs - (this.#clock.now() - this.#startedAt);
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}
