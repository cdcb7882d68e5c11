import { REQUEST_LOG_CAPACITY } from "../decided/constants";

export interface RequestLogEntry {
  at: string;
  method: string;
  path: string;
  /** 0 when the connection was dropped by a fault. */
  status: number;
}

/** API requests served, oldest first, bounded; kept in memory only. */
export class RequestLog {
  private entries: RequestLogEntry[] = [];

  add(entry: RequestLogEntry): void {
    this.entries.push(entry);
    if (this.entries.length > REQUEST_LOG_CAPACITY) this.entries.splice(0, this.entries.length - REQUEST_LOG_CAPACITY);
  }

  list(): RequestLogEntry[] {
    return [...this.entries];
  }

  clear(): void {
    this.entries = [];
  }
}
