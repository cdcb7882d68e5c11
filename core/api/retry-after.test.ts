import { describe, expect, it } from "vitest";
import { parseRetryAfterMs, parseRetryAfterSeconds } from "./retry-after";

const headers = (values: Record<string, string>) => new Headers(values);

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

  it("gives the budget milliseconds", () => {
    expect(parseRetryAfterMs(headers({ "retry-after": "2" }), 0)).toBe(2000);
    expect(parseRetryAfterMs(headers({}), 0)).toBeUndefined();
  });
});
