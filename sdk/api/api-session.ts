import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { format } from "node:util";
import Anthropic, { APIError } from "@anthropic-ai/sdk";
import { resolveCredentialsFromConfig, type AccessTokenProvider, type AnthropicConfig } from "@anthropic-ai/sdk/lib/credentials";
import type { z } from "zod";
import { ANTHROPIC_VERSION } from "./contract";
import {
  readSetting,
  resolveBaseUrl,
  resolveCredentials,
  type CredentialAudience,
  type EnvSource,
  type FederationCredentials,
  type ResolvedCredentials,
} from "./credentials";
import { TunnelsApiError } from "./errors";
import { SecretRedactor } from "./redact";
import { accessTokenCachePath, cacheDirectory, identityTokenFilePath } from "./token-cache-path";
import { translateError, type ErrorContext } from "./translate-error";
import { Transport } from "./transport";

const SECRET_VARIABLES = [
  "ANTHROPIC_API_KEY",
  "ANTHROPIC_AUTH_TOKEN",
  "ANTHROPIC_ADMIN_AUTH_TOKEN",
  "ANTHROPIC_IDENTITY_TOKEN",
  "ANTHROPIC_ADMIN_IDENTITY_TOKEN",
];

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_RETRIES = 3;

export interface ApiClientOptions {
  /** Defaults to ANTHROPIC_BASE_URL, then https://api.anthropic.com. */
  baseUrl?: string;
  /** Deadline of one HTTP attempt. */
  timeoutMs?: number;
  /** Retries of calls that are safe to repeat (and of ambiguous creates, after a look-up). */
  maxRetries?: number;
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
  readonly #maxRetries: number;
  readonly #redactor = new SecretRedactor();
  readonly #transport: Transport;
  #connection: Promise<Connection> | undefined;
  #resolved: { credentials: ResolvedCredentials; baseUrl: string } | undefined;

  constructor(audience: CredentialAudience, options: ApiClientOptions = {}) {
    this.#audience = audience;
    this.#options = options;
    this.#timeoutMs = positiveInteger("timeoutMs", options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 1);
    this.#maxRetries = positiveInteger("maxRetries", options.maxRetries ?? DEFAULT_MAX_RETRIES, 0);
    this.#transport = new Transport({ timeoutMs: this.#timeoutMs, maxRetries: this.#maxRetries });
  }

  get maxRetries(): number {
    return this.#maxRetries;
  }

  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /** The pool, for callers that want its stats. */
  get dispatcher() {
    return this.#transport.agent;
  }

  /** Remembers a secret this client handled (e.g. a revealed tunnel token) so no error can repeat it. */
  rememberSecret(secret: string): void {
    this.#redactor.remember(secret);
  }

  async call<S extends z.ZodType>(
    operation: string,
    schema: S,
    send: (sdk: Anthropic) => Promise<unknown>,
    options: { singleAttempt?: boolean } = {},
  ): Promise<z.output<S>> {
    try {
      const { sdk, credentials } = await this.#connect();
      try {
        return schema.parse(await send(sdk));
      } catch (error) {
        // The SDK re-mints a federation token after a 401 only by retrying, and a single-attempt
        // call (a create) has retries off. A 401 means the request was refused, not applied, so
        // one more attempt, on the token the SDK now mints afresh, cannot duplicate anything.
        const refused = error instanceof APIError && error.status === 401;
        if (!options.singleAttempt || !refused || credentials.kind !== "federation") throw error;
        return schema.parse(await send(sdk));
      }
    } catch (error) {
      throw this.#translate(error, operation);
    }
  }

  /** A call whose answer carries nothing the caller needs (e.g. a delete acknowledgement). */
  async send(operation: string, send: (sdk: Anthropic) => Promise<unknown>): Promise<void> {
    try {
      const { sdk } = await this.#connect();
      await send(sdk);
    } catch (error) {
      throw this.#translate(error, operation);
    }
  }

  paginate<S extends z.ZodType>(
    operation: string,
    schema: S,
    list: (sdk: Anthropic) => AsyncIterable<unknown>,
  ): Paginated<z.output<S>> {
    const session = this;
    const iterate = async function* (): AsyncGenerator<z.output<S>> {
      let items: AsyncIterator<unknown>;
      try {
        const { sdk } = await session.#connect();
        items = list(sdk)[Symbol.asyncIterator]();
      } catch (error) {
        throw session.#translate(error, operation);
      }
      for (;;) {
        let next: IteratorResult<unknown>;
        let item: z.output<S>;
        try {
          next = await items.next();
          if (next.done) return;
          item = schema.parse(next.value);
        } catch (error) {
          throw session.#translate(error, operation);
        }
        yield item;
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
      baseUrl: this.#resolved?.baseUrl ?? this.#options.baseUrl ?? "the API",
      timeoutMs: this.#timeoutMs,
      credentials: this.#resolved?.credentials,
      redactor: this.#redactor,
    };
  }

  async close(): Promise<void> {
    await this.#transport.close();
  }

  #translate(error: unknown, operation: string): unknown {
    return translateError(error, this.errorContext(operation));
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
    const env = this.#options.env ?? process.env;
    const baseUrl = resolveBaseUrl(env, this.#options.baseUrl);
    // Whatever secret the environment holds is scrubbed from errors and logs, used or not.
    for (const variable of SECRET_VARIABLES) this.#redactor.remember(readSetting(env, variable));
    const credentials = resolveCredentials(env, this.#audience);
    this.#resolved = { credentials, baseUrl };
    const common = {
      apiKey: null,
      baseURL: baseUrl,
      timeout: this.#timeoutMs,
      maxRetries: this.#maxRetries,
      fetch: this.#transport.fetch,
      // The contract's version; the SDK would otherwise send its own newer default.
      defaultHeaders: { "anthropic-version": ANTHROPIC_VERSION },
      logger: redactingLogger(this.#redactor),
    } as const;

    if (credentials.kind === "bearer") {
      this.#redactor.remember(credentials.token);
      return { sdk: new Anthropic({ ...common, authToken: credentials.token }), credentials, baseUrl };
    }
    const provider = await this.#federationProvider(env, baseUrl, credentials);
    return { sdk: new Anthropic({ ...common, authToken: null, credentials: provider }), credentials, baseUrl };
  }

  /**
   * The SDK's own federation chain, given a config with a credentials_path so it keeps the minted
   * token in its on-disk 0600 cache. That file is what lets preview, up and destroy (separate
   * processes) share one exchange of a single-use identity token.
   */
  async #federationProvider(env: EnvSource, baseUrl: string, credentials: FederationCredentials): Promise<AccessTokenProvider> {
    const cacheDir = cacheDirectory(env);
    const identityToken = await this.#readIdentityToken(credentials);
    this.#redactor.remember(identityToken);
    const identityTokenPath =
      credentials.identityToken.kind === "file"
        ? credentials.identityToken.path
        : await writePrivateFile(identityTokenFilePath(cacheDir, identityToken), identityToken);

    const config: AnthropicConfig = {
      base_url: baseUrl,
      organization_id: credentials.organizationId,
      workspace_id: credentials.workspaceId,
      authentication: {
        type: "oidc_federation",
        federation_rule_id: credentials.ruleId,
        service_account_id: credentials.serviceAccountId,
        identity_token: { source: "file", path: identityTokenPath },
        credentials_path: accessTokenCachePath(cacheDir, {
          baseUrl,
          ruleId: credentials.ruleId,
          organizationId: credentials.organizationId,
          workspaceId: credentials.workspaceId,
          identityToken,
        }),
      },
    };
    const logger = redactingLogger(this.#redactor);
    const { provider } = resolveCredentialsFromConfig(config, {
      baseURL: baseUrl,
      fetch: this.#transport.fetch,
      // Without the cache file the next process would exchange the same single-use token again.
      onCacheWriteError: (error) => logger.warn("pulumi-mcp-tunnels: could not use the access-token cache file:", error),
      onSafetyWarning: (message) => logger.warn(`pulumi-mcp-tunnels: ${message}`),
    });
    return async (opts) => {
      const token = await provider(opts);
      this.#redactor.remember(token.token);
      return token;
    };
  }

  async #readIdentityToken(credentials: FederationCredentials): Promise<string> {
    const source = credentials.identityToken;
    if (source.kind === "value") return source.value;
    let content: string;
    try {
      content = (await readFile(source.path, "utf8")).trim();
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
      throw new TunnelsApiError({
        code: "CONFIGURATION",
        summary: `the identity token file named by ${source.variable} cannot be read (${reason})`,
        hint: `Point ${source.variable} at a readable file holding the identity token (JWT).`,
      });
    }
    if (!content) {
      throw new TunnelsApiError({
        code: "CONFIGURATION",
        summary: `the identity token file named by ${source.variable} is empty`,
        hint: `Write the identity token (JWT) into that file, or point ${source.variable} elsewhere.`,
      });
    }
    return content;
  }
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

/** Writes `content` to `path` (mode 0600, directory 0700) atomically; returns the path. */
async function writePrivateFile(path: string, content: string): Promise<string> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    const handle = await open(temporary, "w", 0o600);
    try {
      await handle.writeFile(content);
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw new TunnelsApiError({
      code: "CONFIGURATION",
      summary: `the cache directory cannot be written (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      hint: "Set MCP_TUNNELS_CACHE_DIR to a writable directory private to this user.",
    });
  }
  return path;
}

type LogFunction = (message: string, ...rest: unknown[]) => void;

/** The SDK's logger, with every line passed through the redactor before it reaches stderr. */
function redactingLogger(redactor: SecretRedactor): { error: LogFunction; warn: LogFunction; info: LogFunction; debug: LogFunction } {
  const line = (message: string, rest: unknown[]) => redactor.redact(format(message, ...rest));
  return {
    error: (message, ...rest) => console.error(line(message, rest)),
    warn: (message, ...rest) => console.error(line(message, rest)),
    info: (message, ...rest) => console.error(line(message, rest)),
    debug: (message, ...rest) => console.error(line(message, rest)),
  };
}
