// Shared by the twins' tests: what a twin logged, and waiting for a line without a clock.

/** Lines a twin logged, and a way to wait for the n-th line containing a text without a clock. */
export class LogBook {
  readonly lines: string[] = [];
  private readonly waiters: { text: string; count: number; resolve: () => void }[] = [];

  readonly write = (line: string): void => {
    this.lines.push(line);
    for (const waiter of [...this.waiters]) {
      if (this.count(waiter.text) < waiter.count) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };

  count(text: string): number {
    return this.lines.filter((line) => line.includes(text)).length;
  }

  /** Resolves once `count` lines containing `text` have been logged (counting earlier ones). */
  seen(text: string, count = 1): Promise<void> {
    if (this.count(text) >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ text, count, resolve }));
  }
}
