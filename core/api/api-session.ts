import Anthropic, { APIConnectionError, APIError, APIUserAbortError } from "@anthropic-ai/sdk";
import type { z } from "zod";
import type { IdentityTokenValidity } from "./identity-token-validity";
import {
  readSetting,
  resolveApiTarget,
  resolveCredentials,
  type ApiTarget,
  type CredentialAudience,
  type EnvSource,
  type ResolvedCredentials,
} from "./credentials";
import { TunnelsApiError } from "./errors";
import { federationChain } from "./federation-chain";
import { SecretRedactor } from "./redact";
import { redactingLogger } from "./redacting-logger";
import { parseRetryAfterMs } from "./retry-after";
import {
  DEFAULT_ATTEMPT_TIMEOUT_MS,
  isRetryableResponse,
  longestCallMs,
  resolveRetryBudget,
  RetrySchedule,
  systemRetryClock,
  type RetryBudget,
  type RetryClock,
} from "./retry-budget";
import { translateError, type ErrorContext } from "./translate-error";
import { Transport } from "./transport";

const SECRET_VARIABLES = [
  "ANTHROPIC_API_KEY",
  "ANTHROPIC_AUTH_TOKEN",
  "ANTHROPIC_ADMIN_AUTH_TOKEN",
  "ANTHROPIC_IDENTITY_TOKEN",
  "ANTHROPIC_ADMIN_IDENTITY_TOKEN",
];

export interface ApiClientOptions {
  /** Defaults to ANTHROPIC_BASE_URL, then https://api.anthropic.com. */
  baseUrl?: string;
  /** Deadline of one HTTP attempt; defaults to 30 s. */
  timeoutMs?: number;
  /**
   * How hard a call tries (attempts, backoff, jitter, total cap): fields given here replace those
   * of RETRY_BUDGET. Spent by calls safe to repeat, by the token exchange, and by ambiguous
   * creates after their look-up. `{ attempts: 1 }` turns retries off.
   */
  retryBudget?: Partial<RetryBudget>;
  /** Time and chance for the retries; tests pass a fake. */
  clock?: RetryClock;
  /** Settings to read instead of process.env (e.g. built from stack config). Read at first call. */
  env?: EnvSource;
}

/** A paginated listing: iterate it with `for await`, pages are fetched as needed. */
export interface Paginated<T> extends AsyncIterable<T> {
  toArray(): Promise<T[]>;
}

interface Connection {
  sdk: Anthropic;
  credentials: ResolvedCredentials;
  baseUrl: string;
}

/**
 * One configured SDK client behind a TunnelsClient or AdminClient: resolves settings on first
 * use, shares one connection pool across calls, validates every response and turns every
 * failure into a TunnelsApiError.
 */
export class ApiSession {
  readonly #audience: CredentialAudience;
  readonly #options: ApiClientOptions;
  readonly #timeoutMs: number;
  readonly #budget: RetryBudget;
  readonly #clock: RetryClock;
  #identityTokenValidity: IdentityTokenValidity | undefined;
  readonly #redactor = new SecretRedactor();
  readonly #transport: Transport;
  #connection: Promise<Connection> | undefined;
  #resolved: { credentials: ResolvedCredentials; target: ApiTarget } | undefined;

  constructor(audience: CredentialAudience, options: ApiClientOptions = {}) {
    this.#audience = audience;
    this.#options = options;
    this.#timeoutMs = positiveInteger("timeoutMs", options.timeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS, 1);
    this.#budget = resolveRetryBudget(options.retryBudget);
    this.#clock = options.clock ?? systemRetryClock;
    this.#transport = new Transport({ timeoutMs: this.#timeoutMs, budget: this.#budget, clock: this.#clock });
  }

  get retryBudget(): RetryBudget {
    return this.#budget;
  }

  get clock(): RetryClock {
    return this.#clock;
  }

  /** The longest one call can last, every attempt and wait included. */
  get longestCallMs(): number {
    return longestCallMs(this.#budget, this.#timeoutMs);
  }

  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /**
   * Which API the calls reach: the connection's once it is open, else what the settings say now,
   * checked as a connection would check them.
   */
  target(): ApiTarget {
    return this.#resolved?.target ?? resolveApiTarget(this.#settings(), this.#options.baseUrl);
  }

  /** The pool, for callers that want its stats. */
  get dispatcher() {
    return this.#transport.agent;
  }

  /** Remembers a secret this client handled (e.g. a revealed tunnel token) so no error can repeat it. */
  rememberSecret(secret: string): void {
    this.#redactor.remember(secret);
  }

  /**
   * One API call, retried within the budget when it is safe to repeat. A `singleAttempt` call (a
   * create, which createWithoutDuplicates retries only after a look-up) is sent once.
   */
  async call<S extends z.ZodType>(
    operation: string,
    schema: S,
    send: (sdk: Anthropic) => Promise<unknown>,
    options: { singleAttempt?: boolean } = {},
  ): Promise<z.output<S>> {
    try {
      const { sdk } = await this.#connect();
      return schema.parse(await this.#withinBudget(() => send(sdk), !options.singleAttempt));
    } catch (error) {
      throw this.#translate(error, operation);
    }
  }

  /** A call whose answer carries nothing the caller needs (e.g. a delete acknowledgement). */
  async send(operation: string, send: (sdk: Anthropic) => Promise<unknown>): Promise<void> {
    try {
      const { sdk } = await this.#connect();
      await this.#withinBudget(() => send(sdk), true);
    } catch (error) {
      throw this.#translate(error, operation);
    }
  }

  /** Each page is one call with its own budget. */
  paginate<S extends z.ZodType>(
    operation: string,
    schema: S,
    list: (sdk: Anthropic) => Promise<ListPage>,
  ): Paginated<z.output<S>> {
    const session = this;
    const iterate = async function* (): AsyncGenerator<z.output<S>> {
      let page: ListPage;
      let items: z.output<S>[];
      try {
        const { sdk } = await session.#connect();
        page = await session.#withinBudget(() => list(sdk), true);
        items = page.getPaginatedItems().map((item) => schema.parse(item));
      } catch (error) {
        throw session.#translate(error, operation);
      }
      for (;;) {
        yield* items;
        if (!page.hasNextPage()) return;
        try {
          const current = page;
          page = await session.#withinBudget(() => current.getNextPage(), true);
          items = page.getPaginatedItems().map((item) => schema.parse(item));
        } catch (error) {
          throw session.#translate(error, operation);
        }
      }
    };
    return {
      [Symbol.asyncIterator]: iterate,
      async toArray() {
        const all: z.output<S>[] = [];
        for await (const item of iterate()) all.push(item);
        return all;
      },
    };
  }

  /** Validates an argument at the boundary: INVALID_REQUEST naming the argument (never its value). */
  check<S extends z.ZodType>(operation: string, schema: S, value: unknown): z.output<S> {
    const result = schema.safeParse(value);
    if (!result.success) throw invalidInput(operation, result.error);
    return result.data;
  }

  errorContext(operation: string): ErrorContext {
    return {
      operation,
      baseUrl: this.#resolved?.target.baseUrl ?? this.#options.baseUrl ?? "the API",
      timeoutMs: this.#timeoutMs,
      credentials: this.#resolved?.credentials,
      redactor: this.#redactor,
      identityToken: this.#identityTokenValidity,
      now: this.#clock.now(),
    };
  }

  async close(): Promise<void> {
    await this.#transport.close();
  }

  /**
   * Runs `attempt` until it succeeds or the budget says stop. A refused federation token (401) is
   * re-minted and tried once more even on a single-attempt call: the SDK drops its cached token on
   * a 401, and a refused request was not applied, so the repeat cannot duplicate anything.
   */
  async #withinBudget<T>(attempt: () => PromiseLike<T>, repeatable: boolean): Promise<T> {
    const schedule = new RetrySchedule(this.#budget, this.#clock);
    let reminted = false;
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        let wait: number | undefined;
        if (!reminted && this.#isRefusedFederationToken(error)) {
          reminted = true;
          wait = schedule.next(0);
        } else if (repeatable && isRetryableFailure(error)) {
          wait = schedule.next(error instanceof APIError ? parseRetryAfterMs(error.headers, this.#clock.now()) : undefined);
        }
        if (wait === undefined) throw error;
        await this.#clock.sleep(wait);
      }
    }
  }

  #isRefusedFederationToken(error: unknown): boolean {
    return error instanceof APIError && error.status === 401 && this.#resolved?.credentials.kind === "federation";
  }

  #translate(error: unknown, operation: string): unknown {
    return translateError(error, this.errorContext(operation));
  }

  #settings(): EnvSource {
    return this.#options.env ?? process.env;
  }

  #connect(): Promise<Connection> {
    if (!this.#connection) {
      // A failed resolution is not kept: fixing the environment and calling again works.
      this.#connection = this.#openConnection().catch((error: unknown) => {
        this.#connection = undefined;
        throw error;
      });
    }
    return this.#connection;
  }

  async #openConnection(): Promise<Connection> {
    const env = this.#settings();
    const target = resolveApiTarget(env, this.#options.baseUrl);
    const { baseUrl } = target;
    // Whatever secret the environment holds is scrubbed from errors and logs, used or not.
    for (const variable of SECRET_VARIABLES) this.#redactor.remember(readSetting(env, variable));
    const credentials = resolveCredentials(env, this.#audience);
    this.#resolved = { credentials, target };
    const common = {
      apiKey: null,
      baseURL: baseUrl,
      timeout: this.#timeoutMs,
      // Every retry spends the client's budget (#withinBudget); the SDK's own would repeat creates
      // and have no total cap.
      maxRetries: 0,
      fetch: this.#transport.fetch,
      logger: redactingLogger(this.#redactor),
    } as const;

    if (credentials.kind === "bearer") {
      this.#redactor.remember(credentials.token);
      return { sdk: new Anthropic({ ...common, authToken: credentials.token }), credentials, baseUrl };
    }
    const chain = await federationChain({ env, baseUrl, credentials, fetch: this.#transport.fetch, redactor: this.#redactor });
    this.#identityTokenValidity = chain.identityToken;
    return { sdk: new Anthropic({ ...common, authToken: null, credentials: chain.provider }), credentials, baseUrl };
  }
}

/** One page of a listing, as the SDK's pages are. */
export interface ListPage {
  getPaginatedItems(): unknown[];
  hasNextPage(): boolean;
  getNextPage(): Promise<ListPage>;
}

/** A failure another attempt may well not meet: a timeout, a lost connection, 408, 429, 5xx. */
function isRetryableFailure(error: unknown): boolean {
  if (error instanceof APIUserAbortError) return false;
  if (error instanceof APIConnectionError) return true;
  return error instanceof APIError && typeof error.status === "number" && isRetryableResponse(error.status, error.headers);
}

function invalidInput(operation: string, error: z.ZodError): TunnelsApiError {
  const problems = error.issues.map((issue) => `${issue.path.join(".") || "argument"}: ${issue.message}`).join("; ");
  return new TunnelsApiError({
    code: "INVALID_REQUEST",
    summary: `invalid input (${problems})`,
    hint: "Fix the named argument; nothing was sent to the API.",
    operation,
    source: "client",
  });
}

function positiveInteger(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new TunnelsApiError({
      code: "CONFIGURATION",
      summary: `${name} must be an integer of at least ${min}`,
      hint: `Pass a valid ${name} option or leave it out for the default.`,
    });
  }
  return value;
}
