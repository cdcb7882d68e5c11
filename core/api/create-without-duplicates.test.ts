import { describe, expect, it } from "vitest";
import { createWithoutDuplicates, CREATE_LOOKUP_CLOCK_SLACK_MS } from "./create-without-duplicates";
import { TunnelsApiError, type TunnelsErrorCode } from "./errors";
import { RETRY_BUDGET, type RetryBudget } from "./retry-budget";
import { FakeRetryClock } from "../../test/support/test-clock";

const failure = (code: TunnelsErrorCode, status?: number) => new TunnelsApiError({ code, summary: code, hint: "h", status, source: "api" });

/** A fake endpoint: each attempt pops an outcome; "commit-then-fail" stores the object and throws. */
function fakeEndpoint(outcomes: Array<"ok" | "commit-then-fail" | TunnelsApiError>, budget: RetryBudget = { ...RETRY_BUDGET, attempts: 4 }) {
  const created: string[] = [];
  let attempts = 0;
  let lookups = 0;
  const spec = {
    description: "tunnel",
    budget,
    timeoutMs: 1000,
    attempt: async () => {
      const outcome = outcomes[attempts++] ?? "ok";
      if (outcome === "ok") {
        created.push(`obj_${created.length}`);
        return created.at(-1)!;
      }
      if (outcome === "commit-then-fail") {
        created.push(`obj_${created.length}`);
        throw failure("SERVER_ERROR", 503);
      }
      throw outcome;
    },
    findCreated: async () => {
      lookups++;
      return created[0];
    },
  };
  return { spec, created, counts: () => ({ attempts, lookups }) };
}

const noSleep = { clock: new FakeRetryClock() };

describe("createWithoutDuplicates", () => {
  it("returns the first attempt's object without looking anything up", async () => {
    const endpoint = fakeEndpoint(["ok"]);
    await expect(createWithoutDuplicates(endpoint.spec, noSleep)).resolves.toBe("obj_0");
    expect(endpoint.counts()).toEqual({ attempts: 1, lookups: 0 });
  });

  it("adopts the object an ambiguous attempt created instead of creating another", async () => {
    const endpoint = fakeEndpoint(["commit-then-fail"]);
    await expect(createWithoutDuplicates(endpoint.spec, noSleep)).resolves.toBe("obj_0");
    expect(endpoint.created).toHaveLength(1);
    expect(endpoint.counts()).toEqual({ attempts: 1, lookups: 1 });
  });

  it("creates nothing twice when an after-commit failure follows refused attempts", async () => {
    const endpoint = fakeEndpoint([failure("SERVER_ERROR", 503), failure("RATE_LIMITED", 429), "commit-then-fail", "ok"]);
    await expect(createWithoutDuplicates(endpoint.spec, noSleep)).resolves.toBe("obj_0");
    expect(endpoint.created).toEqual(["obj_0"]);
    expect(endpoint.counts()).toEqual({ attempts: 3, lookups: 3 });
  });

  it.each(["TIMEOUT", "CONNECTION", "SERVER_ERROR", "OVERLOADED", "RATE_LIMITED"] as const)(
    "retries after %s when the look-up finds nothing",
    async (code) => {
      const endpoint = fakeEndpoint([failure(code), "ok"]);
      await expect(createWithoutDuplicates(endpoint.spec, noSleep)).resolves.toBe("obj_0");
      expect(endpoint.counts()).toEqual({ attempts: 2, lookups: 1 });
    },
  );

  it("does not retry a definite failure", async () => {
    const endpoint = fakeEndpoint([failure("TUNNELS_LIMIT_REACHED", 409)]);
    await expect(createWithoutDuplicates(endpoint.spec, noSleep)).rejects.toMatchObject({ code: "TUNNELS_LIMIT_REACHED" });
    expect(endpoint.counts()).toEqual({ attempts: 1, lookups: 0 });
  });

  it("does not look up or retry when the token exchange failed: nothing was sent", async () => {
    const endpoint = fakeEndpoint([new TunnelsApiError({ code: "SERVER_ERROR", summary: "s", hint: "h", status: 503, source: "token-exchange" })]);
    await expect(createWithoutDuplicates(endpoint.spec, noSleep)).rejects.toMatchObject({ code: "SERVER_ERROR" });
    expect(endpoint.counts()).toEqual({ attempts: 1, lookups: 0 });
  });

  it("looks up again when a retry conflicts, since the earlier attempt may be what conflicts", async () => {
    let lookups = 0;
    const result = createWithoutDuplicates(
      {
        description: "certificate",
        budget: RETRY_BUDGET,
        timeoutMs: 1000,
        attempt: (() => {
          const outcomes = [failure("TIMEOUT"), failure("CERT_ALREADY_ACTIVE", 409)];
          return async () => {
            throw outcomes.shift();
          };
        })(),
        // Invisible at the first look-up, visible at the second (a slow commit).
        findCreated: async () => (++lookups === 2 ? "cert" : undefined),
      },
      noSleep,
    );
    await expect(result).resolves.toBe("cert");
  });

  it("gives up after the budget's attempts with the last ambiguous failure, looking up after each", async () => {
    const endpoint = fakeEndpoint(Array.from({ length: 10 }, () => failure("OVERLOADED", 529)));
    await expect(createWithoutDuplicates(endpoint.spec, noSleep)).rejects.toMatchObject({ code: "OVERLOADED" });
    expect(endpoint.counts()).toEqual({ attempts: 4, lookups: 4 });
  });

  it("starts no attempt after the budget's cap, even with attempts left", async () => {
    const clock = new FakeRetryClock();
    // Each 503 takes 4 s to come back: with a 10 s cap the fourth attempt would start after 13 s.
    const endpoint = fakeEndpoint(Array.from({ length: 10 }, () => failure("SERVER_ERROR", 503)), { ...RETRY_BUDGET, totalMs: 10_000 });
    const attempt = endpoint.spec.attempt;
    endpoint.spec.attempt = async () => {
      clock.advance(4_000);
      return attempt();
    };
    await expect(createWithoutDuplicates(endpoint.spec, { clock })).rejects.toMatchObject({ code: "SERVER_ERROR" });
    expect(endpoint.counts()).toEqual({ attempts: 3, lookups: 3 });
  });

  it("a timed-out attempt's wait before its look-up does not let another attempt start past the cap", async () => {
    const clock = new FakeRetryClock();
    const endpoint = fakeEndpoint([failure("TIMEOUT"), "ok"], { ...RETRY_BUDGET, totalMs: 500 });
    endpoint.spec.findCreated = async () => undefined;
    await expect(createWithoutDuplicates(endpoint.spec, { clock })).rejects.toMatchObject({ code: "TIMEOUT" });
    expect(clock.waits).toEqual([1000]);
    expect(endpoint.created).toEqual([]);
  });

  it("stops instead of retrying blind when the look-up fails", async () => {
    const endpoint = fakeEndpoint([failure("TIMEOUT")]);
    endpoint.spec.findCreated = async () => {
      throw failure("CONNECTION");
    };
    const error = await createWithoutDuplicates(endpoint.spec, noSleep).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "TIMEOUT" });
    expect((error as TunnelsApiError).summary).toContain("unknown");
    expect(endpoint.counts().attempts).toBe(1);
  });

  it("only considers objects created since the attempt began, minus clock slack", async () => {
    let since: Date | undefined;
    const endpoint = fakeEndpoint([failure("TIMEOUT"), "ok"]);
    const findCreated = endpoint.spec.findCreated;
    endpoint.spec.findCreated = async (s?: Date) => {
      since = s;
      return findCreated();
    };
    await createWithoutDuplicates(endpoint.spec as never, { clock: new FakeRetryClock({ startMs: 1_000_000_000 }) });
    expect(since?.getTime()).toBe(1_000_000_000 - CREATE_LOOKUP_CLOCK_SLACK_MS);
  });

  it("gives a timed-out attempt at least the timeout to land before looking it up", async () => {
    const clock = new FakeRetryClock();
    const endpoint = fakeEndpoint([failure("TIMEOUT"), "ok"]);
    endpoint.spec.findCreated = async () => undefined;
    await createWithoutDuplicates(endpoint.spec, { clock });
    expect(clock.waits).toEqual([1000]);
  });

  it("honours the server's retry-after between attempts, cut to what remains of the cap", async () => {
    const rateLimited = (seconds: number) =>
      new TunnelsApiError({ code: "RATE_LIMITED", summary: "s", hint: "h", status: 429, retryAfterSeconds: seconds, source: "api" });
    const clock = new FakeRetryClock();
    const endpoint = fakeEndpoint([rateLimited(2), rateLimited(60), "ok"], { ...RETRY_BUDGET, totalMs: 10_000 });
    endpoint.spec.findCreated = async () => undefined;
    await createWithoutDuplicates(endpoint.spec, { clock });
    expect(clock.waits).toEqual([2000, 8000]);
  });
});
