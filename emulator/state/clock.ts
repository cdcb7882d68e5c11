/** The emulator's notion of now: a base clock (injectable for tests) plus a control-plane offset. */
export interface Clock {
  now(): Date;
}

export class OffsetClock implements Clock {
  offsetSeconds = 0;

  constructor(private readonly base: () => Date = () => new Date()) {}

  now(): Date {
    return new Date(this.base().getTime() + this.offsetSeconds * 1000);
  }
}

export const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);
