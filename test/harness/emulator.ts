import { afterAll, beforeAll, beforeEach } from "vitest";
import { startEmulator, type RunningEmulator } from "../../emulator/index";
import { mintAccessToken, mintAdminToken } from "../support/emulator-credentials";
import { EMULATOR_FIXTURE } from "../../emulator/index";

import type { AuditEntry, RequestLogEntry as ServedRequest } from "../../emulator/index";

export type { AuditEntry, ServedRequest };

/**
 * An emulator on port 0 for one test file, and what the engine needs to reach it: a WIF identity
 * token (exchanged once, then reused across provider processes through the on-disk cache) for
 * tunnel calls, and an admin bearer for federation bindings.
 */
export class TestEmulator {
  private constructor(private running: RunningEmulator | undefined) {}

  static async start(options: { statePath?: string } = {}): Promise<TestEmulator> {
    return new TestEmulator(await startEmulator({ port: 0, ...options }));
  }

  /**
   * The emulator a test file shares: started before its first test and closed after its last;
   * with `resetBeforeEach`, put back to the fixture before every test. It is there from the
   * file's first hook on, so use it in hooks and tests, not while the file loads.
   */
  static forFile(options: { resetBeforeEach?: boolean } = {}): TestEmulator {
    const emulator = new TestEmulator(undefined);
    beforeAll(async () => {
      emulator.running = await startEmulator({ port: 0 });
    });
    afterAll(() => emulator.running?.close());
    if (options.resetBeforeEach) {
      beforeEach(async () => {
        await emulator.control("POST", "/_emulator/reset");
      });
    }
    return emulator;
  }

  private get started(): RunningEmulator {
    if (!this.running) throw new Error("the test file's emulator is not started yet: use it in a hook or a test");
    return this.running;
  }

  get baseUrl(): string {
    return this.started.baseUrl;
  }

  /** Where connectors (cloudflared twins) register. */
  get edgeUrl(): string {
    return this.started.edgeUrl;
  }

  close(): Promise<void> {
    return this.started.close();
  }

  /** Environment for the engine and its provider processes, as a CI job would set it. */
  async engineEnv(workspaceId: string = EMULATOR_FIXTURE.defaultWorkspaceId): Promise<Record<string, string>> {
    const { id_token } = await this.control<{ id_token: string }>("POST", "/_emulator/oidc/token", {
      sub: "system:serviceaccount:mcp-tunnel:pulumi",
      aud: "api.anthropic.com",
      ttl_seconds: 3600,
    });
    return {
      ANTHROPIC_BASE_URL: this.baseUrl,
      ANTHROPIC_FEDERATION_RULE_ID: EMULATOR_FIXTURE.tunnelsRuleId,
      ANTHROPIC_ORGANIZATION_ID: EMULATOR_FIXTURE.organizationId,
      ANTHROPIC_WORKSPACE_ID: workspaceId,
      ANTHROPIC_IDENTITY_TOKEN: id_token,
      ANTHROPIC_ADMIN_AUTH_TOKEN: await mintAdminToken(this.baseUrl),
    };
  }

  accessToken(workspaceId: string = EMULATOR_FIXTURE.defaultWorkspaceId): Promise<string> {
    return mintAccessToken(this.baseUrl, { workspaceId });
  }

  /** A Tunnels API call as a test's own observer (not through the product's client). */
  async api<T>(method: string, path: string, body?: unknown, workspaceId?: string): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await this.accessToken(workspaceId)}`,
        "anthropic-version": "2023-06-01",
        "anthropic-beta": "mcp-tunnels-2026-06-22",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  /** An admin API call (`/v1/organizations/...`) with an `org:admin` bearer. */
  async adminApi<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await mintAdminToken(this.baseUrl)}`,
        "anthropic-version": "2023-06-01",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${await response.text()}`);
    const text = await response.text();
    return (text ? JSON.parse(text) : {}) as T;
  }

  async workspaceMembers(workspaceId: string): Promise<string[]> {
    const list = await this.adminApi<{ data: { service_account_id: string }[] }>("GET", `/v1/organizations/workspaces/${workspaceId}/service_accounts?limit=100`);
    return list.data.map((m) => m.service_account_id);
  }

  async control<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${await response.text()}`);
    const text = await response.text();
    return (text ? JSON.parse(text) : {}) as T;
  }

  async audit(): Promise<AuditEntry[]> {
    return (await this.control<{ data: AuditEntry[] }>("GET", "/_emulator/audit")).data;
  }

  async requests(): Promise<ServedRequest[]> {
    return (await this.control<{ data: ServedRequest[] }>("GET", "/_emulator/requests")).data;
  }

  /** Requests that change something: what a preview must never send. */
  async mutatingRequests(): Promise<ServedRequest[]> {
    return (await this.requests()).filter((r) => r.method !== "GET" && r.path !== "/v1/oauth/token");
  }

  async activeCertificates(tunnelId: string): Promise<{ id: string; fingerprint: string }[]> {
    const list = await this.api<{ data: { id: string; fingerprint: string; archived_at: string | null }[] }>("GET", `/v1/tunnels/${tunnelId}/certificates?limit=100`);
    return list.data.filter((c) => c.archived_at === null);
  }

  async tunnels(includeArchived = false): Promise<{ id: string; display_name: string | null; archived_at: string | null }[]> {
    return (await this.api<{ data: { id: string; display_name: string | null; archived_at: string | null }[] }>("GET", `/v1/tunnels?limit=100&include_archived=${includeArchived}`)).data;
  }
}
