import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { mintAccessToken } from "../support/emulator-credentials";
import { EMULATOR_FIXTURE } from "../../emulator/index";
import { AdminClient, TUNNELS_ERROR_CODES, TunnelsApiError, TunnelsClient, type TunnelsErrorCode } from "../../core/api/index";
import { caCertificatePem, startHarness, type Harness } from "./support";

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness();
});
afterAll(() => harness.close());

describe("secrets", () => {
  it("never appear in an error or a log line, on any error path", async () => {
    const savedLogLevel = process.env["ANTHROPIC_LOG"];
    process.env["ANTHROPIC_LOG"] = "debug"; // the SDK's most talkative setting
    const logged: string[] = [];
    const capture = (...args: unknown[]) => void logged.push(args.map((arg) => (typeof arg === "string" ? arg : inspect(arg, { depth: 6 }))).join(" "));
    const spies = (["log", "info", "warn", "error", "debug"] as const).map((method) => vi.spyOn(console, method).mockImplementation(capture));
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => capture(String(chunk)) ?? true);

    const errors = new Map<TunnelsErrorCode, TunnelsApiError>();
    const opened: Array<{ close(): Promise<void> }> = [];
    const track = <C extends { close(): Promise<void> }>(c: C): C => (opened.push(c), c);
    const record = async (promise: Promise<unknown>) => {
      const error = await promise.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TunnelsApiError);
      errors.set((error as TunnelsApiError).code, error as TunnelsApiError);
    };

    const apiKey = "sk-ant-api03-known-api-key-secret-value";
    const env = await harness.federationEnv({ ANTHROPIC_API_KEY: apiKey });
    const identityToken = env["ANTHROPIC_IDENTITY_TOKEN"]!;
    const client = new TunnelsClient({ baseUrl: harness.emulator.baseUrl, env, retryBudget: { attempts: 1 }, timeoutMs: 500 });
    let tunnelToken: string;
    let accessToken: string;
    let bearer: string;
    try {
      const tunnel = await client.tunnels.create({ displayName: "secrets" });
      tunnelToken = (await client.tunnels.revealToken(tunnel.id)).tunnelToken;
      const [cacheFile] = await readdir(join(harness.cacheDir, "credentials"));
      accessToken = JSON.parse(await readFile(join(harness.cacheDir, "credentials", cacheFile!), "utf8")).access_token as string;
      bearer = await mintAccessToken(harness.emulator.baseUrl);

      // Each line drives one error path; the map ends up holding one error per code.
      await record(track(new TunnelsClient({ env: { ANTHROPIC_AUTH_TOKEN: bearer, ANTHROPIC_FEDERATION_RULE_ID: "fdrl_x", ANTHROPIC_API_KEY: apiKey } })).tunnels.retrieve(tunnel.id));
      await record(track(new TunnelsClient({ baseUrl: harness.emulator.baseUrl, env: { ...env, ANTHROPIC_WORKSPACE_ID: "wrkspc_sandbox" } })).tunnels.retrieve(tunnel.id));
      await record(track(new TunnelsClient({ baseUrl: harness.emulator.baseUrl, env: { ANTHROPIC_AUTH_TOKEN: `${accessToken}x` }, retryBudget: { attempts: 1 } })).tunnels.list().toArray());
      await record(track(new AdminClient({ baseUrl: harness.emulator.baseUrl, env: { ANTHROPIC_ADMIN_AUTH_TOKEN: bearer } })).serviceAccounts.retrieve(EMULATOR_FIXTURE.tunnelsServiceAccountId));
      await record(client.tunnels.retrieve("tnl_111111111111111111111111"));
      await record(client.tunnels.create({ displayName: "" }));
      const pem = await caCertificatePem();
      await client.certificates.create(tunnel.id, { caCertificatePem: pem });
      await record(client.certificates.create(tunnel.id, { caCertificatePem: pem }));
      await client.certificates.create(tunnel.id, { caCertificatePem: await caCertificatePem("second") });
      await record(client.certificates.create(tunnel.id, { caCertificatePem: await caCertificatePem("third") }));
      await record(client.certificates.create(tunnel.id, { caCertificatePem: `${pem}\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n` }));
      for (let i = 0; i < 9; i++) await client.tunnels.create({ displayName: `filler ${i}` });
      await record(client.tunnels.create({ displayName: "eleventh" }));
      await client.tunnels.archive(tunnel.id);
      await record(client.tunnels.revealToken(tunnel.id));
      for (const status of [429, 503, 529]) {
        await harness.control.faults([{ path_prefix: "/v1/tunnels", status, rate: 1, count: 1 }]);
        await record(client.tunnels.list().toArray());
      }
      await harness.control.faults([{ path_prefix: "/v1/tunnels", latency_ms: 1500, rate: 1, count: 1 }]);
      await record(client.tunnels.list().toArray());
      await record(track(new TunnelsClient({ baseUrl: "http://127.0.0.1:1", env: { ANTHROPIC_AUTH_TOKEN: bearer }, retryBudget: { attempts: 1 } })).tunnels.list().toArray());
    } finally {
      await harness.control.clearFaults();
      await Promise.all([client, ...opened].map((c) => c.close()));
      for (const spy of spies) spy.mockRestore();
      stderr.mockRestore();
      if (savedLogLevel === undefined) delete process.env["ANTHROPIC_LOG"];
      else process.env["ANTHROPIC_LOG"] = savedLogLevel;
    }

    expect([...errors.keys()].sort()).toEqual([...TUNNELS_ERROR_CODES].sort());
    const secrets = { apiKey, identityToken, accessToken, bearer, tunnelToken };
    const everything = [
      ...[...errors.values()].map((e) => [e.message, e.hint, e.stack, inspect(e, { depth: 6 }), JSON.stringify(e)].join("\n")),
      ...logged,
    ].join("\n");
    expect(logged.length).toBeGreaterThan(0);
    for (const [name, secret] of Object.entries(secrets)) {
      expect(secret.length, name).toBeGreaterThan(16);
      expect(everything.includes(secret), `${name} leaked`).toBe(false);
    }
  });
});
