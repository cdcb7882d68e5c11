import { Agent, fetch as undiciFetch } from "undici";
import { TOKEN_EXCHANGE_PATH } from "../contract/tunnels-api";
import { parseRetryAfterMs } from "./retry-after";
import { isRetryableResponse, RetrySchedule, type RetryBudget, type RetryClock } from "./retry-budget";

/** The fetch signature the SDK accepts. */
export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * Enough connections that a burst of calls does not queue for long, few enough that 100
 * parallel calls reuse a handful of sockets instead of opening 100.
 */
export const MAX_CONNECTIONS_PER_ORIGIN = 8;
export const KEEP_ALIVE_TIMEOUT_MS = 30_000;

export interface TransportOptions {
  timeoutMs: number;
  /** Spent by the token exchange, which the SDK sends once. */
  budget: RetryBudget;
  clock: RetryClock;
  connections?: number;
}

/**
 * One keep-alive undici pool per client, handed to the SDK as its `fetch`. Besides pooling it
 * gives the federation token exchange a deadline and the client's retry budget: the SDK sends
 * it once, with no deadline, so one 503 would fail a whole deployment.
 */
export class Transport {
  readonly agent: Agent;
  readonly fetch: Fetch;
  readonly #options: TransportOptions;

  constructor(options: TransportOptions) {
    this.#options = options;
    this.agent = new Agent({
      connections: options.connections ?? MAX_CONNECTIONS_PER_ORIGIN,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      // The SDK enforces the per-attempt deadline; these only stop a stuck socket outliving it.
      headersTimeout: options.timeoutMs + 1_000,
      bodyTimeout: options.timeoutMs + 1_000,
    });
    this.fetch = (input, init) => this.#dispatch(input, init ?? {});
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  async #dispatch(input: string | URL | Request, init: RequestInit): Promise<Response> {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (isTokenExchange(url, init)) return this.#exchangeWithRetries(url, init);
    return this.#send(url, init);
  }

  #send(url: string, init: RequestInit): Promise<Response> {
    const signal = init.signal ?? AbortSignal.timeout(this.#options.timeoutMs);
    // The API never redirects; following one could hand the bearer to another origin.
    const undiciInit = { ...init, signal, redirect: "manual", dispatcher: this.agent } as unknown as Parameters<typeof undiciFetch>[1];
    return undiciFetch(url, undiciInit) as unknown as Promise<Response>;
  }

  /**
   * An exchange that fails before the server consumed the identity token is worth repeating; one
   * that fails after is refused (401, single-use jti) on retry, which is no worse than failing.
   */
  async #exchangeWithRetries(url: string, init: RequestInit): Promise<Response> {
    const { budget, clock } = this.#options;
    const schedule = new RetrySchedule(budget, clock);
    for (;;) {
      let response: Response;
      try {
        response = await this.#send(url, init);
      } catch (error) {
        const wait = schedule.next();
        if (wait === undefined) throw error;
        await clock.sleep(wait);
        continue;
      }
      if (!isRetryableResponse(response.status, response.headers)) return response;
      const wait = schedule.next(parseRetryAfterMs(response.headers, clock.now()));
      if (wait === undefined) return response;
      await response.body?.cancel().catch(() => undefined);
      await clock.sleep(wait);
    }
  }
}

function isTokenExchange(url: string, init: RequestInit): boolean {
  return (init.method ?? "GET").toUpperCase() === "POST" && new URL(url).pathname.endsWith(TOKEN_EXCHANGE_PATH);
}
