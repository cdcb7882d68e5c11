import { TunnelsApiError, type TunnelsErrorCode } from "./errors";
import { RetrySchedule, systemRetryClock, type RetryBudget, type RetryClock } from "./retry-budget";

/**
 * How far the server's clock may run behind ours. A look-up only adopts objects created after
 * the first attempt started minus this, so it never adopts an older object of the same name.
 */
export const CREATE_LOOKUP_CLOCK_SLACK_MS = 5 * 60_000;

/** Failures after which the object may or may not exist: the request may have been applied. */
const AMBIGUOUS: ReadonlySet<TunnelsErrorCode> = new Set([
  "TIMEOUT",
  "CONNECTION",
  "SERVER_ERROR",
  "OVERLOADED",
  "RATE_LIMITED",
]);

/** Only a failure of the API call itself is ambiguous: a failed token exchange means nothing was sent. */
export function isAmbiguousFailure(error: TunnelsApiError): boolean {
  return error.source === "api" && AMBIGUOUS.has(error.code);
}

export interface CreateWithoutDuplicatesSpec<T> {
  /** One attempt, never repeated by anything else (a repeat of a non-idempotent create could duplicate it). */
  attempt(): Promise<T>;
  /** The object an earlier attempt created, if any, among objects created at or after `since`. */
  findCreated(since: Date): Promise<T | undefined>;
  /** The client's budget: how many attempts, and the cap after which none starts. */
  budget: RetryBudget;
  /**
   * The per-attempt deadline. A timed-out attempt may still be in flight at the server, so the
   * look-up after a timeout waits at least this long, giving it the time to land.
   */
  timeoutMs: number;
  /** Names the object in errors, e.g. `tunnel "gateway"`. */
  description: string;
}

export interface CreateWithoutDuplicatesDeps {
  clock?: RetryClock;
}

/**
 * Creates an object through a non-idempotent endpoint without ever creating it twice: after an
 * ambiguous failure it looks the object up, returns it if the failed attempt did create it, and
 * only otherwise tries again. A conflict right after an ambiguous attempt is also looked up,
 * since the earlier attempt's own success may be what conflicts (the tunnel limit now counts it,
 * the certificate is now active).
 */
export async function createWithoutDuplicates<T>(
  spec: CreateWithoutDuplicatesSpec<T>,
  deps: CreateWithoutDuplicatesDeps = {},
): Promise<T> {
  const clock = deps.clock ?? systemRetryClock;
  const since = new Date(clock.now() - CREATE_LOOKUP_CLOCK_SLACK_MS);
  const schedule = new RetrySchedule(spec.budget, clock);
  let afterAmbiguous = false;

  for (;;) {
    let failure: TunnelsApiError;
    try {
      return await spec.attempt();
    } catch (error) {
      if (!(error instanceof TunnelsApiError)) throw error;
      failure = error;
    }

    if (!isAmbiguousFailure(failure)) {
      if (afterAmbiguous && failure.status === 409) {
        const found = await lookUp(spec, since, failure);
        if (found !== undefined) return found;
      }
      throw failure;
    }
    afterAmbiguous = true;
    // Undefined when the budget is spent: the look-up below is then the last word.
    const backoff = schedule.next(failure.retryAfterSeconds !== undefined ? failure.retryAfterSeconds * 1000 : undefined);
    const wait = Math.max(backoff ?? 0, failure.code === "TIMEOUT" ? spec.timeoutMs : 0);
    if (wait > 0) await clock.sleep(wait);
    const found = await lookUp(spec, since, failure);
    if (found !== undefined) return found;
    // The look-up (or a timed-out attempt's wait) may have run past the cap: no attempt starts after it.
    if (backoff === undefined || schedule.remainingMs() < 0) throw failure;
  }
}

async function lookUp<T>(spec: CreateWithoutDuplicatesSpec<T>, since: Date, failure: TunnelsApiError): Promise<T | undefined> {
  try {
    return await spec.findCreated(since);
  } catch (error) {
    // The finder's own verdict (several candidates, refusing to guess) is final.
    if (error instanceof TunnelsApiError && error.code === "CONFLICT" && error.status === undefined) throw error;
    const lookupCode = error instanceof TunnelsApiError ? error.code : "unknown error";
    // Retrying blind could create a duplicate, so stop and say what may exist.
    throw new TunnelsApiError({
      code: failure.code,
      summary: `${failure.summary}; whether the ${spec.description} was created is unknown, the look-up failed too (${lookupCode})`,
      hint: `Before retrying, list the objects and look for the ${spec.description}; adopt or archive it so no duplicate is left.`,
      operation: failure.operation,
      status: failure.status,
      requestId: failure.requestId,
      source: failure.source,
    });
  }
}
