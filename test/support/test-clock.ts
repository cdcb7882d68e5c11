// A clock for tests of anything that retries (this package's unit tests, test/api). Not exported
// from index: product code waits for real.
import type { RetryClock } from "../../core/api/retry-budget";

/**
 * Time stands still except when something sleeps, which advances it at once by the wait (or by
 * `attemptMs` per `advance`, for tests where attempts themselves take time). Every wait is kept.
 */
export class FakeRetryClock implements RetryClock {
  readonly waits: number[] = [];
  #now: number;
  #random: () => number;

  constructor(options: { startMs?: number; random?: number | (() => number) } = {}) {
    this.#now = options.startMs ?? 1_000_000;
    const random = options.random ?? 0.5;
    this.#random = typeof random === "number" ? () => random : random;
  }

  now(): number {
    return this.#now;
  }

  async sleep(ms: number): Promise<void> {
    this.waits.push(ms);
    this.#now += ms;
  }

  random(): number {
    return this.#random();
  }

  /** Time passing outside a sleep, e.g. inside an attempt. */
  advance(ms: number): void {
    this.#now += ms;
  }
}
