import { describe, expect, it } from "vitest";
import { MAX_HONOURED_RETRY_AFTER_MS, MAX_RETRY_DELAY_MS, parseRetryAfterSeconds, retryDelayMs } from "./retry-delay";

const headers = (values: Record<string, string>) => new Headers(values);

describe("retryDelayMs", () => {
  it("waits what the server asked for, up to a ceiling", () => {
    expect(retryDelayMs(0, 2)).toBe(2000);
    expect(retryDelayMs(0, 3600)).toBe(MAX_HONOURED_RETRY_AFTER_MS);
  });

  it("backs off exponentially with jitter otherwise", () => {
    expect(retryDelayMs(0, undefined, () => 0)).toBe(500);
    expect(retryDelayMs(2, undefined, () => 0)).toBe(2000);
    expect(retryDelayMs(2, undefined, () => 1)).toBe(1500);
    expect(retryDelayMs(10, undefined, () => 0)).toBe(MAX_RETRY_DELAY_MS);
  });
});

describe("parseRetryAfterSeconds", () => {
  it.each([
    [{ "retry-after": "1" }, 1],
    [{ "retry-after-ms": "250", "retry-after": "9" }, 0.25],
    [{ "retry-after": new Date(10_000).toUTCString() }, 10],
    [{ "retry-after": "0" }, undefined],
    [{ "retry-after": "soon" }, undefined],
    [{}, undefined],
  ])("reads %j as %s", (values, seconds) => {
    expect(parseRetryAfterSeconds(headers(values), 0)).toBe(seconds);
  });
});
