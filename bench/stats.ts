/** Repeated measurements of one quantity, summarized by median and range. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  /** (max − min) / median: how far apart the repetitions landed. */
  spread: number;
  runs: number[];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function summarize(values: readonly number[]): Summary {
  const m = median(values);
  const min = Math.min(...values);
  const max = Math.max(...values);
  return { median: round(m), min: round(min), max: round(max), spread: m > 0 ? round((max - min) / m, 3) : 0, runs: values.map((v) => round(v)) };
}

export async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = process.hrtime.bigint();
  const value = await work();
  return { value, ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** A ratio of medians; NaN when either side is missing. */
export function ratio(numerator: Summary | undefined, denominator: Summary | undefined): number {
  if (!numerator || !denominator || denominator.median === 0) return Number.NaN;
  return round(numerator.median / denominator.median, 2);
}
