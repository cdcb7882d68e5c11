/**
 * `retry-after-ms`, then `retry-after` as seconds or an HTTP date, as seconds; undefined when
 * absent or unusable. How long the client then waits is the retry budget's call (retry-budget.ts).
 */
export function parseRetryAfterSeconds(headers: { get(name: string): string | null } | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = Number.parseFloat(headers.get("retry-after-ms") ?? "");
  if (Number.isFinite(ms) && ms > 0) return ms / 1000;
  const raw = headers.get("retry-after");
  if (!raw) return undefined;
  const seconds = Number.parseFloat(raw);
  if (Number.isFinite(seconds)) return seconds > 0 ? seconds : undefined;
  const date = Date.parse(raw);
  if (Number.isNaN(date)) return undefined;
  const delta = (date - now) / 1000;
  return delta > 0 ? delta : undefined;
}

/** The same, in milliseconds, as the retry budget takes it. */
export function parseRetryAfterMs(headers: { get(name: string): string | null } | undefined, now = Date.now()): number | undefined {
  const seconds = parseRetryAfterSeconds(headers, now);
  return seconds === undefined ? undefined : seconds * 1000;
}
