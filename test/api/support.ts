import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { startEmulator, type RunningEmulator } from "../../emulator/index";
import { DEFAULT_TEST_SUBJECT } from "../support/emulator-credentials";
import { generateCertificateAuthority } from "../../core/pki/index";
import { AdminClient, TunnelsApiError, TunnelsClient, type ApiClientOptions } from "../../core/api/index";
import { EMULATOR_FIXTURE } from "../../emulator/index";

export interface RequestLogEntry {
  at: string;
  method: string;
  path: string;
  status: number;
}

export interface FaultRule {
  path_prefix?: string;
  method?: string;
  status?: number;
  rate: number;
  latency_ms?: number;
  reset?: boolean;
  after_commit?: boolean;
  count?: number;
}

/** The emulator's control plane, as the spec describes it. */
export class EmulatorControl {
  constructor(readonly baseUrl: string) {}

  async #call(method: string, path: string, body?: unknown): Promise<any> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const parsed = await response.json();
    if (!response.ok) throw new Error(`${method} ${path} -> ${response.status} ${JSON.stringify(parsed)}`);
    return parsed;
  }

  reset() {
    return this.#call("POST", "/_emulator/reset", {});
  }

  async identityToken(options: { sub?: string; ttl_seconds?: number; jti?: string } = {}): Promise<string> {
    const body = await this.#call("POST", "/_emulator/oidc/token", { sub: DEFAULT_TEST_SUBJECT, aud: "api.anthropic.com", ...options });
    return body.id_token as string;
  }

  faults(rules: FaultRule[]) {
    return this.#call("POST", "/_emulator/faults", { rules });
  }

  clearFaults() {
    return this.#call("DELETE", "/_emulator/faults");
  }

  async requests(): Promise<RequestLogEntry[]> {
    return (await this.#call("GET", "/_emulator/requests")).data;
  }

  clearRequests() {
    return this.#call("DELETE", "/_emulator/requests");
  }

  clock(offsetSeconds: number) {
    return this.#call("POST", "/_emulator/clock", { offset_seconds: offsetSeconds });
  }

  async audit(): Promise<Array<{ action: string; tunnel_id?: string; detail?: unknown }>> {
    return (await this.#call("GET", "/_emulator/audit")).data;
  }
}

export interface Harness {
  emulator: RunningEmulator;
  control: EmulatorControl;
  cacheDir: string;
  /** WIF settings for the fixture's tunnels rule, with a fresh single-use identity token. */
  federationEnv(overrides?: Record<string, string | undefined>): Promise<Record<string, string | undefined>>;
  /** A TunnelsClient on federation credentials; closed at teardown. */
  tunnelsClient(options?: ApiClientOptions & { envOverrides?: Record<string, string | undefined> }): Promise<TunnelsClient>;
  adminClient(options?: ApiClientOptions): Promise<AdminClient>;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const emulator = await startEmulator({ port: 0 });
  const control = new EmulatorControl(emulator.baseUrl);
  const cacheDir = await mkdtemp(join(tmpdir(), "mcp-tunnels-api-"));
  const clients: Array<{ close(): Promise<void> }> = [];

  const federationEnv = async (overrides: Record<string, string | undefined> = {}) => ({
    ANTHROPIC_FEDERATION_RULE_ID: EMULATOR_FIXTURE.tunnelsRuleId,
    ANTHROPIC_ORGANIZATION_ID: EMULATOR_FIXTURE.organizationId,
    ANTHROPIC_WORKSPACE_ID: EMULATOR_FIXTURE.defaultWorkspaceId,
    ANTHROPIC_IDENTITY_TOKEN: await control.identityToken(),
    MCP_TUNNELS_CACHE_DIR: cacheDir,
    ...overrides,
  });

  return {
    emulator,
    control,
    cacheDir,
    federationEnv,
    async tunnelsClient(options = {}) {
      const { envOverrides, ...rest } = options;
      const client = new TunnelsClient({ baseUrl: emulator.baseUrl, env: await federationEnv(envOverrides), ...rest });
      clients.push(client);
      return client;
    },
    async adminClient(options = {}) {
      const env = {
        ANTHROPIC_ADMIN_FEDERATION_RULE_ID: EMULATOR_FIXTURE.adminRuleId,
        ANTHROPIC_ORGANIZATION_ID: EMULATOR_FIXTURE.organizationId,
        ANTHROPIC_IDENTITY_TOKEN: await control.identityToken({ sub: EMULATOR_FIXTURE.adminSubject }),
        MCP_TUNNELS_CACHE_DIR: cacheDir,
      };
      const client = new AdminClient({ baseUrl: emulator.baseUrl, env, ...options });
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((client) => client.close()));
      await emulator.close();
      await rm(cacheDir, { recursive: true, force: true });
    },
  };
}

export async function caCertificatePem(commonName = "test CA"): Promise<string> {
  const ca = await generateCertificateAuthority({ commonName, keyAlgorithm: "ECDSA_P256", validityDays: 30, now: new Date() });
  return ca.certificatePem;
}

/** The TunnelsApiError a client call fails with; the test fails if it succeeds or fails otherwise. */
export async function apiFailure(promise: Promise<unknown>): Promise<TunnelsApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TunnelsApiError);
  return error as TunnelsApiError;
}

/** API calls the emulator served, by "METHOD path-prefix". */
export function countCalls(entries: RequestLogEntry[], method: string, pathPrefix: string): number {
  return entries.filter((entry) => entry.method === method && entry.path.startsWith(pathPrefix)).length;
}
