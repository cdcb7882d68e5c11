import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import compose from "../../examples/compose/program";
import { ComposeProject } from "../../twin/compose-runner";
import { TestEmulator } from "../harness/emulator";
import { makeTempDir } from "../harness/engine";
import { loopbackAddress, startMcpUpstream, type McpUpstream } from "../../twin/mcp-upstream";
import { expectEmptyPlan, previewPlan, stepFor } from "../harness/plan";
import { createHermeticStack } from "../harness/stack";

// The compose example's outputs, run as Docker would run them: the runner reads the generated
// docker-compose.yml and starts the twins (cloudflared, mcp-proxy) as the file wires them, and
// the emulator's Claude-side call sends MCP requests through edge → connector → proxy → upstream.

const emulator = TestEmulator.forFile();
let upstream: McpUpstream;
beforeAll(async () => {
  // The documented example upstream, `hello-mcp:9000`, on an address of its own.
  upstream = await startMcpUpstream("hello-mcp", loopbackAddress(), 9000);
});
afterAll(async () => {
  await upstream?.close();
});

interface McpCall {
  ok: boolean;
  stage?: string;
  status?: number;
  message?: string;
  result?: { content?: { type: string; text: string }[] };
  ca_fingerprint?: string;
}

const echo = (url: string, text: string) =>
  emulator.control<McpCall>("POST", "/_emulator/mcp", { url, method: "tools/call", params: { name: "echo", arguments: { text } } });
const answered = (call: McpCall) => call.result?.content?.[0]?.text;

async function composeStack(config: Record<string, string>) {
  const composeDir = path.join(makeTempDir("compose-stack"), "project");
  const settings = { ...config };
  const hermetic = await createHermeticStack({
    env: await emulator.engineEnv(),
    projectName: "mcp-tunnels-compose",
    config: Object.fromEntries(Object.entries({ composeDir, ...settings }).map(([key, value]) => [key, { value }])),
    program: async () => compose(),
  });
  return { ...hermetic, composeDir };
}

async function runProject(dir: string, hostEnv: Record<string, string> = {}) {
  const project = await ComposeProject.load(dir, {
    env: hostEnv,
    outside: { edgeUrl: emulator.edgeUrl, rewriteUrl: (url) => url },
    names: { "hello-mcp": upstream.host },
  });
  onTestFinished(() => project.down());
  return project;
}

const ROUTES = JSON.stringify({ echo: "http://hello-mcp:9000", docs: "http://hello-mcp:9000" });
// The upstream is on loopback, which only a local test may allow; it also shows that allowed_ips
// replaces the default (without it the proxy refuses the address, see below).
const LOCAL_ONLY = JSON.stringify(["127.0.0.0/8"]);

describe("the compose example, run as Docker runs it", () => {
  it("answers an MCP request through every route, keeps established connections through a token rotation, refuses the old token on reconnect, and serves through a CA rotation without a failed request", async () => {
    const { stack, composeDir } = await composeStack({ routes: ROUTES, allowedIps: LOCAL_ONLY });
    const first = (await stack.up()).outputs;
    const urls = first.mcpServerUrls?.value as Record<string, string>;
    expect(Object.keys(urls).sort()).toEqual(["docs", "echo"]);

    const project = await runProject(composeDir);
    await project.up();
    await project.waitForLog("cloudflared", /Registered tunnel connection/, { count: 4 });
    await project.waitForLog("mcp-proxy", /route configured/, { count: 2 });
    for (const [route, url] of Object.entries(urls)) {
      const call = await echo(url, `hello ${route}`);
      expect(call, route).toMatchObject({ ok: true });
      expect(answered(call)).toBe(`hello-mcp: hello ${route}`);
    }

    // Token rotation: pulumi up rotates and rewrites .env; the running connector is not touched.
    await stack.setConfig("tokenRotation", { value: "2" });
    const tokenPlan = await previewPlan(stack);
    expect(stepFor(tokenPlan, "compose-token").op).toBe("update");
    expect(stepFor(tokenPlan, "compose-project").op).toBe("update");
    await stack.up();
    expect(answered(await echo(urls.echo!, "established"))).toBe("hello-mcp: established");

    // `docker compose restart` keeps the container's old environment: the old token is refused.
    const before = project.logs("cloudflared").length;
    await project.restart("cloudflared");
    await project.waitForLog("cloudflared", /Unauthorized/, { since: before });
    await project.waitForExit("cloudflared");
    expect(await echo(urls.echo!, "no connector")).toMatchObject({ ok: false });

    // `docker compose up -d` reads the rewritten .env and recreates cloudflared only.
    const up = await project.up();
    expect(up.recreated).toEqual(["cloudflared"]);
    expect(up.unchanged).toEqual(["mcp-proxy"]);
    await project.waitForLog("cloudflared", /Registered tunnel connection/, { count: 4, since: project.logs("cloudflared").length - 4 });
    expect(answered(await echo(urls.echo!, "rotated"))).toBe("hello-mcp: rotated");

    // CA rotation under a request loop: the new CA is registered before the proxy's certificate
    // changes, the proxy hot-reloads it, and the old CA is archived last.
    const firstCa = (await echo(urls.echo!, "ca")).ca_fingerprint;
    await stack.setConfig("caRotation", { value: "2" });
    const results: McpCall[] = [];
    let rotating = true;
    const loop = (async () => {
      while (rotating) results.push(await echo(urls.echo!, "loop"));
    })();
    await stack.up();
    // The proxy polls the certificate: give it the next requests to show the new one.
    for (let i = 0; i < 20 && results.at(-1)?.ca_fingerprint === firstCa; i++) results.push(await echo(urls.echo!, "after"));
    rotating = false;
    await loop;
    expect(results.length).toBeGreaterThan(5);
    expect(results.filter((call) => !call.ok)).toEqual([]);
    expect(results.at(-1)?.ca_fingerprint).not.toBe(firstCa);

    await expectEmptyPlan(stack);
    await project.down();
    await stack.destroy();
    expect(fs.existsSync(composeDir)).toBe(false);
  });

  it("a route to a host outside the proxy's default allowed range fails the way the proxy fails it: allowed_ips replaces the default, so omitting it refuses loopback", async () => {
    const { stack, composeDir } = await composeStack({ routes: JSON.stringify({ echo: "http://hello-mcp:9000" }) });
    const urls = (await stack.up()).outputs.mcpServerUrls?.value as Record<string, string>;
    const project = await runProject(composeDir);
    await project.up();
    await project.waitForLog("cloudflared", /Registered tunnel connection/, { count: 4 });
    const call = await echo(urls.echo!, "refused");
    expect(call).toMatchObject({ ok: false, status: 502 });
    await project.waitForLog("mcp-proxy", new RegExp(`IP validation failed: ${upstream.host.replaceAll(".", "\\.")} is not a private address`));
    await project.down();
    await stack.destroy();
  });

  it("the proxy refuses a key UID 65532 cannot read with the documented error, and starts once the key has the generated owner and mode", async () => {
    const { stack, composeDir } = await composeStack({ routes: ROUTES, allowedIps: LOCAL_ONLY });
    await stack.up();
    const key = path.join(composeDir, "data/tls.key");
    expect(fs.statSync(key)).toMatchObject({ uid: 65532, gid: 65532 });
    expect(fs.statSync(key).mode & 0o777).toBe(0o600);

    // What a generator that writes the key 0600 as the Pulumi user (root here) would leave behind.
    fs.chownSync(key, 0, 0);
    const project = await runProject(composeDir);
    await project.up(["mcp-proxy"]);
    await project.waitForLog("mcp-proxy", /open \/data\/tls\.key: permission denied/);

    // A refresh sees the drift; the next up writes the key back as generated.
    await stack.refresh();
    const plan = await previewPlan(stack);
    expect(stepFor(plan, "compose-project").op).toBe("update");
    await stack.up();
    expect(fs.statSync(key)).toMatchObject({ uid: 65532, gid: 65532 });
    await project.down();
    const again = await runProject(composeDir);
    await again.up(["mcp-proxy"]);
    await again.waitForLog("mcp-proxy", /route configured/, { count: 2 });
    await again.down();
    await stack.destroy();
  });
});
