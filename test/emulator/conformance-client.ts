import { Agent, fetch } from "undici";
import { startEmulator, type EmulatorOptions, type RunningEmulator } from "../../emulator/index";
import { mintAccessToken, mintAdminToken, mintIdentityToken } from "../support/emulator-credentials";
import { ANTHROPIC_VERSION, JWT_BEARER_GRANT, TOKEN_EXCHANGE_PATH, TUNNELS_BETA } from "../../core/contract/tunnels-api";
import { EMULATOR_FIXTURE } from "../../emulator/index";

export interface CallOptions {
  token?: string;
  body?: unknown;
  /** Sent verbatim instead of `body`. */
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
  /** Leave out the default anthropic-version / anthropic-beta headers. */
  omitVersion?: boolean;
  omitBeta?: boolean;
}

export interface CallResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface ApiErrorBody {
  type: "error";
  error: { type: string; message: string };
  request_id: string;
}

/** Drives one emulator over HTTP only, the way a conformance suite must. */
export class Conformance {
  private readonly tokens = new Map<string, Promise<string>>();
  /** Its own connection pool: a restarted emulator on the same port must not inherit dead sockets. */
  private readonly dispatcher = new Agent();

  private constructor(readonly running: RunningEmulator) {}

  static async start(options: EmulatorOptions = {}): Promise<Conformance> {
    return new Conformance(await startEmulator({ port: 0, ...options }));
  }

  get baseUrl(): string {
    return this.running.baseUrl;
  }

  async close(): Promise<void> {
    await this.running.close();
    await this.dispatcher.close();
  }

  async call<T = any>(method: string, path: string, options: CallOptions = {}): Promise<CallResult<T>> {
    const headers: Record<string, string> = {};
    if (!options.omitVersion) headers["anthropic-version"] = ANTHROPIC_VERSION;
    if (!options.omitBeta) headers["anthropic-beta"] = TUNNELS_BETA;
    if (options.token) headers["authorization"] = `Bearer ${options.token}`;
    let body: string | Buffer | undefined;
    if (options.rawBody !== undefined) body = options.rawBody;
    else if (options.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    const response = await fetch(this.baseUrl + path, {
      method,
      headers: { ...headers, ...options.headers },
      dispatcher: this.dispatcher,
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  }

  /** A call that must succeed; returns the body. */
  async ok<T = any>(method: string, path: string, options: CallOptions = {}): Promise<T> {
    const result = await this.call<T>(method, path, options);
    if (result.status !== 200) throw new Error(`${method} ${path} answered ${result.status}: ${JSON.stringify(result.body)}`);
    return result.body;
  }

  async control<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    return this.ok<T>(method, path, { omitBeta: true, omitVersion: true, ...(body === undefined ? {} : { body }) });
  }

  /** A tunnels bearer per workspace, minted once. */
  tunnelsToken(workspaceId: string = EMULATOR_FIXTURE.defaultWorkspaceId): Promise<string> {
    let token = this.tokens.get(workspaceId);
    if (!token) {
      token = mintAccessToken(this.baseUrl, { workspaceId });
      this.tokens.set(workspaceId, token);
    }
    return token;
  }

  adminToken(): Promise<string> {
    let token = this.tokens.get("admin");
    if (!token) {
      token = mintAdminToken(this.baseUrl);
      this.tokens.set("admin", token);
    }
    return token;
  }

  /** Tokens are state: a reset forgets them. */
  async reset(): Promise<void> {
    this.tokens.clear();
    await this.control("POST", "/_emulator/reset");
  }

  async tunnels<T = any>(method: string, path: string, options: CallOptions = {}): Promise<CallResult<T>> {
    return this.call<T>(method, path, { token: await this.tunnelsToken(), ...options });
  }

  async admin<T = any>(method: string, path: string, options: CallOptions = {}): Promise<CallResult<T>> {
    return this.call<T>(method, path, { token: await this.adminToken(), omitBeta: true, ...options });
  }

  identityToken(subject: string, extra: Record<string, unknown> = {}): Promise<string> {
    return mintIdentityToken(this.baseUrl, subject, extra);
  }

  /**
   * The public WIF guides' raw exchange: content-type and the JSON body, no anthropic-* header.
   * `fields` override the body; `options.headers` add headers (the SDK's, say).
   */
  exchange(assertion: string, fields: Record<string, unknown> = {}, options: CallOptions = {}): Promise<CallResult> {
    return this.call("POST", TOKEN_EXCHANGE_PATH, {
      omitVersion: true,
      omitBeta: true,
      body: {
        grant_type: JWT_BEARER_GRANT,
        assertion,
        federation_rule_id: EMULATOR_FIXTURE.tunnelsRuleId,
        organization_id: EMULATOR_FIXTURE.organizationId,
        workspace_id: EMULATOR_FIXTURE.defaultWorkspaceId,
        ...fields,
      },
      ...options,
    });
  }

  async audit(): Promise<{ at: string; action: string; actor: string; tunnel_id?: string; detail: Record<string, any> }[]> {
    return (await this.control("GET", "/_emulator/audit")).data;
  }

  async lastDenialReason(): Promise<string | undefined> {
    return (await this.audit()).filter((entry) => entry.action === "oauth.denied").at(-1)?.detail["reason"];
  }
}
