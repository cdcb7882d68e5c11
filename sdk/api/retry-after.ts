/** Same curve as the SDK's own retries, so every retry in this client backs off alike. */
export const INITIAL_RETRY_DELAY_MS = 500;
export const MAX_RETRY_DELAY_MS = 8_000;
/** A server may ask for a longer wait, but not for one that would stall a deployment indefinitely. */
export const MAX_HONOURED_RETRY_AFTER_MS = 60_000;

/** Statuses worth another attempt for a call that is safe to repeat. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * Delay before retry number `retryIndex` (0 = first retry): what the server asked for when it
 * asked, else exponential backoff with up to 25 % jitter.
 */
export function retryDelayMs(retryIndex: number, retryAfterSeconds?: number, random: () => number = Math.random): number {
  if (retryAfterSeconds !== undefined && retryAfterSeconds > 0) {
    return Math.min(retryAfterSeconds * 1000, MAX_HONOURED_RETRY_AFTER_MS);
  }
  const base = Math.min(INITIAL_RETRY_DELAY_MS * 2 ** retryIndex, MAX_RETRY_DELAY_MS);
  return base * (1 - random() * 0.25);
}

/** `retry-after-ms`, then `retry-after` as seconds or an HTTP date; undefined when absent or unusable. */
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

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
