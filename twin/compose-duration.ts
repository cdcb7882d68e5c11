import { parseGoDuration } from "./go-duration";

/** A Go duration as Compose reads `stop_grace_period` (`30s`, `1m30s`, `500ms`), in milliseconds; undefined when malformed. */
export function composeDuration(text: string): number | undefined {
  try {
    return parseGoDuration(text);
  } catch {
    return undefined;
  }
}
