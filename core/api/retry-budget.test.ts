import { describe, expect, it } from "vitest";
import { TunnelsApiError } from "./errors";
import {
  backoffMs,
  DEFAULT_LONGEST_CALL_MS,
  isRetryableResponse,
  resolveRetryBudget,
  RETRY_BUDGET,
  RetrySchedule,
  type RetryBudget,
} from "./retry-budget";
import { FakeRetryClock } from "../../test/support/test-clock";

/** Every wait a call would make if each of its attempts failed at once (and took `attemptMs`). */
function waitsUntilSpent(budget: RetryBudget, clock: FakeRetryClock, options: { retryAfterMs?: number; attemptMs?: number } = {}): number[] {
  const schedule = new RetrySchedule(budget, clock);
  const waits: number[] = [];
  for (;;) {
    clock.advance(options.attemptMs ?? 0);
    const wait = schedule.next(options.retryAfterMs);
    if (wait === undefined) return waits;
    waits.push(wait);
    clock.advance(wait);
  }
}

describe("RETRY_BUDGET", () => {
  it("is the arithmetic's ten attempts on the SDK's curve, inside a two-minute cap", () => {
    expect(RETRY_BUDGET).toEqual({ attempts: 10, totalMs: 120_000, initialDelayMs: 500, maxDelayMs: 8_000, jitter: 0.25 });
    // Nine waits at their longest (no jitter taken off) stay well inside the cap: it binds only on a slow server.
    const longest = waitsUntilSpent(RETRY_BUDGET, new FakeRetryClock({ random: 0 }));
    expect(longest).toEqual([500, 1_000, 2_000, 4_000, 8_000, 8_000, 8_000, 8_000, 8_000]);
    expect(longest.reduce((sum, wait) => sum + wait, 0)).toBe(47_500);
  });

  it("bounds a default call at the cap plus one attempt's deadline", () => {
    expect(DEFAULT_LONGEST_CALL_MS).toBe(120_000 + 30_000);
  });
});

describe("RetrySchedule", () => {
  it("stops at the budget's attempts", () => {
    expect(waitsUntilSpent({ ...RETRY_BUDGET, attempts: 3 }, new FakeRetryClock({ random: 0 }))).toEqual([500, 1_000]);
    expect(waitsUntilSpent({ ...RETRY_BUDGET, attempts: 1 }, new FakeRetryClock())).toEqual([]);
  });

  it("stops earlier at the total cap when the waits are long, the last wait cut to end on it", () => {
    const slow = { ...RETRY_BUDGET, initialDelayMs: 10_000, maxDelayMs: 40_000, totalMs: 25_000 };
    expect(waitsUntilSpent(slow, new FakeRetryClock({ random: 0 }))).toEqual([10_000, 15_000]);
  });

  it("counts the time attempts take against the cap", () => {
    // 5 s per attempt: attempts start at 0, 5.5, 11.5 and 18.5 s; the next would be past 20 s.
    const waits = waitsUntilSpent({ ...RETRY_BUDGET, totalMs: 20_000 }, new FakeRetryClock({ random: 0 }), { attemptMs: 5_000 });
    expect(waits).toEqual([500, 1_000, 2_000]);
  });

  it("honours retry-after over the backoff, cut to what remains of the cap", () => {
    expect(waitsUntilSpent({ ...RETRY_BUDGET, attempts: 3 }, new FakeRetryClock(), { retryAfterMs: 1_000 })).toEqual([1_000, 1_000]);
    expect(waitsUntilSpent(RETRY_BUDGET, new FakeRetryClock(), { retryAfterMs: 100_000 })).toEqual([100_000, 20_000]);
  });

  it("repeats without a pause when asked for none", () => {
    const schedule = new RetrySchedule(RETRY_BUDGET, new FakeRetryClock());
    expect(schedule.next(0)).toBe(0);
    expect(schedule.attempts).toBe(2);
  });

  it("keeps every jittered wait within the jitter below the backoff", () => {
    const draws = [0, 0.1, 0.5, 0.9, 0.999_999];
    for (let retry = 0; retry < 12; retry++) {
      const base = Math.min(500 * 2 ** retry, 8_000);
      for (const draw of draws) {
        const wait = backoffMs(RETRY_BUDGET, retry, draw);
        expect(wait).toBeLessThanOrEqual(base);
        expect(wait).toBeGreaterThan(base * (1 - RETRY_BUDGET.jitter));
      }
    }
    // The schedule draws from the clock it was given.
    expect(waitsUntilSpent({ ...RETRY_BUDGET, attempts: 2 }, new FakeRetryClock({ random: 0.999_999 }))[0]).toBeCloseTo(375, 3);
  });
});

describe("isRetryableResponse", () => {
  it.each([408, 429, 500, 502, 503, 504, 529])("retries %i", (status) => {
    expect(isRetryableResponse(status, new Headers())).toBe(true);
  });

  it.each([400, 401, 403, 404, 409, 413, 422])("does not retry %i: the API answered", (status) => {
    expect(isRetryableResponse(status, new Headers())).toBe(false);
  });

  it("obeys the server's x-should-retry either way", () => {
    expect(isRetryableResponse(409, new Headers({ "x-should-retry": "true" }))).toBe(true);
    expect(isRetryableResponse(503, new Headers({ "x-should-retry": "false" }))).toBe(false);
  });
});

describe("resolveRetryBudget", () => {
  it("fills what is not given from RETRY_BUDGET", () => {
    expect(resolveRetryBudget({ attempts: 3, totalMs: undefined })).toEqual({ ...RETRY_BUDGET, attempts: 3 });
  });

  it.each([
    [{ attempts: 0 }, "attempts"],
    [{ attempts: 2.5 }, "attempts"],
    [{ totalMs: -1 }, "totalMs"],
    [{ initialDelayMs: Number.NaN }, "initialDelayMs"],
    [{ maxDelayMs: 100 }, "maxDelayMs"],
    [{ jitter: 1.5 }, "jitter"],
  ])("refuses %j, naming %s", (overrides, field) => {
    const error = (() => {
      try {
        resolveRetryBudget(overrides);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(TunnelsApiError);
    expect(error).toMatchObject({ code: "CONFIGURATION" });
    expect((error as TunnelsApiError).summary).toContain(field);
  });
});
