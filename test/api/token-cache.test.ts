import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { countCalls, startHarness, type Harness } from "./support";

const run = promisify(execFile);
const repoRoot = join(__dirname, "..", "..");

let harness: Harness;
let bundleDir: string;
let stepScript: string;

beforeAll(async () => {
  harness = await startHarness();
  // The child processes run the client as plain CommonJS: bundle it once (dependencies stay external).
  bundleDir = await mkdtemp(join(tmpdir(), "mcp-tunnels-bundle-"));
  stepScript = join(bundleDir, "pipeline-step.cjs");
  const { build } = await import("rolldown");
  await build({
    input: join(__dirname, "processes", "pipeline-step.ts"),
    platform: "node",
    external: [/^[^./]/],
    output: { file: stepScript, format: "cjs" },
    write: true,
    logLevel: "silent",
  });
});
afterAll(async () => {
  await harness.close();
  await rm(bundleDir, { recursive: true, force: true });
});
beforeEach(() => harness.control.reset());

interface StepResult {
  ok: boolean;
  code?: string;
  tunnels?: number;
  tunnelId?: string;
  archivedAt?: string;
}

async function runStep(env: Record<string, string | undefined>, ...args: string[]): Promise<StepResult> {
  const childEnv = {
    PATH: process.env["PATH"],
    HOME: process.env["HOME"],
    NODE_PATH: join(repoRoot, "node_modules"),
    ANTHROPIC_BASE_URL: harness.emulator.baseUrl,
    ANTHROPIC_LOG: "off",
    ...env,
  };
  const result = await run(process.execPath, [stepScript, ...args], { env: childEnv as NodeJS.ProcessEnv }).catch(
    (error: { stdout: string }) => error,
  );
  return JSON.parse(result.stdout) as StepResult;
}

describe("access-token cache across processes", () => {
  it("lets preview, up and destroy (three processes) share one exchange of a single-use identity token", async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), "mcp-tunnels-cache-"));
    const env = await harness.federationEnv({ MCP_TUNNELS_CACHE_DIR: cacheDir });
    env["ANTHROPIC_IDENTITY_TOKEN"] = await harness.control.identityToken({ jti: "pipeline-run-1" });
    await harness.control.clearRequests();

    expect(await runStep(env, "preview")).toEqual({ ok: true, tunnels: 0 });
    const up = await runStep(env, "up");
    expect(up).toMatchObject({ ok: true, tunnelId: expect.stringMatching(/^tnl_/) });
    expect(await runStep(env, "destroy", up.tunnelId!)).toMatchObject({ ok: true, archivedAt: expect.any(String) });

    expect(countCalls(await harness.control.requests(), "POST", "/v1/oauth/token")).toBe(1);
    const exchanges = (await harness.control.audit()).filter((entry) => entry.action === "oauth.exchange");
    expect(exchanges).toHaveLength(1);

    const [cacheFile] = await readdir(join(cacheDir, "credentials"));
    expect(cacheFile).toMatch(/^[0-9a-f]{64}\.json$/);
    expect((await stat(join(cacheDir, "credentials", cacheFile!))).mode & 0o777).toBe(0o600);
    await rm(cacheDir, { recursive: true, force: true });
  });

  it("without the shared cache the second process is refused: the identity token is single-use", async () => {
    const env = await harness.federationEnv();
    env["ANTHROPIC_IDENTITY_TOKEN"] = await harness.control.identityToken({ jti: "pipeline-run-2" });
    const first = await mkdtemp(join(tmpdir(), "mcp-tunnels-cache-"));
    const second = await mkdtemp(join(tmpdir(), "mcp-tunnels-cache-"));

    expect(await runStep({ ...env, MCP_TUNNELS_CACHE_DIR: first }, "preview")).toMatchObject({ ok: true });
    expect(await runStep({ ...env, MCP_TUNNELS_CACHE_DIR: second }, "preview")).toMatchObject({ ok: false, code: "AUTHENTICATION_FAILED" });
    await Promise.all([rm(first, { recursive: true }), rm(second, { recursive: true })]);
  });

  it("keys the cache by workspace: another workspace is a separate exchange", async () => {
    const env = await harness.federationEnv();
    const cacheDir = await mkdtemp(join(tmpdir(), "mcp-tunnels-cache-"));
    const identity = await harness.control.identityToken();
    await runStep({ ...env, ANTHROPIC_IDENTITY_TOKEN: identity, MCP_TUNNELS_CACHE_DIR: cacheDir }, "preview");
    const other = await harness.control.identityToken();
    await runStep({ ...env, ANTHROPIC_IDENTITY_TOKEN: other, ANTHROPIC_WORKSPACE_ID: "wrkspc_platform", MCP_TUNNELS_CACHE_DIR: cacheDir }, "preview");
    expect(await readdir(join(cacheDir, "credentials"))).toHaveLength(2);
    await rm(cacheDir, { recursive: true, force: true });
  });
});

describe("token refresh", () => {
  it("re-exchanges, with the identity token the file holds by then, once the emulator clock passes the token's expiry", async () => {
    const tokenFile = join(harness.cacheDir, "projected-token.jwt");
    await writeFile(tokenFile, await harness.control.identityToken({ ttl_seconds: 600 }), { mode: 0o600 });
    const client = await harness.tunnelsClient({ envOverrides: { ANTHROPIC_IDENTITY_TOKEN: undefined, ANTHROPIC_IDENTITY_TOKEN_FILE: tokenFile } });
    expect(await client.tunnels.list().toArray()).toEqual([]);

    // Access token lifetime = min(rule 3600 s, 2 x 600 s remaining) = 1200 s; jump past it, and
    // rotate the projected identity token the way the kubelet would.
    await harness.control.clock(1300);
    await writeFile(tokenFile, await harness.control.identityToken({ ttl_seconds: 600 }));
    await harness.control.clearRequests();

    const tunnel = await client.tunnels.create({ displayName: "after refresh" });
    expect(tunnel.createdAt).toBeDefined();
    const calls = await harness.control.requests();
    expect(calls.map((call) => `${call.method} ${call.path} ${call.status}`)).toEqual([
      "POST /v1/tunnels 401",
      "POST /v1/oauth/token 200",
      "POST /v1/tunnels 200",
    ]);
    expect((await harness.control.audit()).filter((entry) => entry.action === "oauth.exchange")).toHaveLength(2);
  });
});
