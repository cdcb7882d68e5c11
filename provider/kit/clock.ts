import { DAY_MS } from "../../core/contract/time";

/** Time as the providers see it. Rotation and renewal are decided against this, never `Date.now()`. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock shifted by a fixed offset: what-if previews ("what renews within 30 days?") and e2e tests. */
export class OffsetClock implements Clock {
  constructor(
    private readonly base: Clock,
    readonly offsetSeconds: number,
  ) {}
  now(): Date {
    return new Date(this.base.now().getTime() + this.offsetSeconds * 1000);
  }
}

/** A clock that only moves when a test advances it. */
export class FakeClock implements Clock {
  private current: Date;
  constructor(start: Date | string = "2026-11-25T12:00:00Z") {
    this.current = new Date(start);
  }
  now(): Date {
    return new Date(this.current);
  }
  advanceDays(days: number): void {
    this.current = new Date(this.current.getTime() + days * DAY_MS);
  }
  set(time: Date | string): void {
    this.current = new Date(time);
  }
}

export { DAY_MS };
export const addDays = (time: Date, days: number): Date => new Date(time.getTime() + days * DAY_MS);
