import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import compose from "../../examples/compose/program";
import programmatic from "../../examples/programmatic/program";
import quickstart from "../../examples/quickstart/program";
import rotation from "../../examples/rotation/program";
import { TestEmulator } from "../harness/emulator";
import { makeTempDir, REPO_ROOT } from "../harness/engine";
import { expectEmptyPlan, previewPlan, stepFor } from "../harness/plan";
import { createHermeticStack } from "../harness/stack";

// The examples run here through the same program functions their index.ts exports, on the real
// engine against an emulator; helm is typechecked only (`make lint`), as it needs a cluster.

let emulator: TestEmulator;
beforeAll(async () => {
  emulator = await TestEmulator.start();
});
afterAll(() => emulator?.close());

/**
 * The chart's documented values, by the mode that reads them: nothing else may be emitted (the
 * chart ignores it, and a reader would think it does something).
 */
const DOCUMENTED_VALUES = {
  external: ["setup.enabled", "external.tunnelTokenSecretName", "external.serverCertSecretName", "gateway.config.tunnel_domain", "gateway.config.routes", "gateway.config.upstream.allowed_ips", "gateway.config.log_level"],
  managed: [
    "setup.enabled",
    "setup.force",
    "tunnel.id",
    "tunnel.tokenVersion",
    "api.wif.federationRuleId",
    "api.wif.organizationId",
    "api.wif.workspaceId",
    "api.wif.audience",
    "serverCert.renewBefore",
    "gateway.config.routes",
    "gateway.config.upstream.allowed_ips",
    "gateway.config.log_level",
  ],
};
/** Maps whose keys are the user's (route subdomains), not names the chart fixes. */
const OPEN_MAPS = new Set(["gateway.config.routes", "routes"]);

function keyPaths(value: unknown, prefix = ""): string[] {
  if (typeof value !== "object" || value === null || Array.isArray(value) || OPEN_MAPS.has(prefix)) return [prefix];
  return Object.entries(value).flatMap(([key, child]) => keyPaths(child, prefix ? `${prefix}.${key}` : key));
}

const envNames = (env: string) => env.split("\n").filter(Boolean).map((line) => line.slice(0, line.indexOf("=")));
const stat = (file: string) => {
  const stats = fs.statSync(file);
  return { mode: stats.mode & 0o777, owner: `${stats.uid}:${stats.gid}` };
};
/** What the proxy (UID 65532) needs: the key it opens is its own at 0600; nothing else is private but `.env`. */
const PROJECT_MODES: Record<string, { mode: number; owner?: string }> = {
  ".env": { mode: 0o600 },
  "docker-compose.yml": { mode: 0o644 },
  "config/mcp-proxy.yaml": { mode: 0o644 },
  "data/tls.crt": { mode: 0o644 },
  "data/tls.key": { mode: 0o600, owner: "65532:65532" },
};

describe("examples on the real engine", () => {
  it("quickstart: emits only the documented Helm values for external mode, writes the Compose project with the modes its containers need, and a second preview plans nothing", async () => {
    const deployDir = path.join(makeTempDir("quickstart-deploy"), "deploy");
    const { stack } = await createHermeticStack({
      env: await emulator.engineEnv(),
      projectName: "mcp-tunnels-quickstart",
      config: { deployDir: { value: deployDir } },
      program: async () => quickstart(),
    });
    const up = await stack.up();
    const out = (name: string) => up.outputs[name]?.value;
    const tunnelId = out("tunnelId") as string;

    expect(keyPaths(out("helmValues")).sort()).toEqual([...DOCUMENTED_VALUES.external].sort());
    expect(out("helmValues")).toMatchObject({ setup: { enabled: false }, gateway: { config: { tunnel_domain: out("domain") } } });
    expect(envNames(out("composeEnv")).sort()).toEqual(["TUNNEL_DOMAIN", "TUNNEL_ID", "TUNNEL_TOKEN"]);
    expect(out("mcpServerUrls")).toEqual({ mcp: `https://mcp.${out("domain")}/mcp`, docs: `https://docs.${out("domain")}/v1/mcp` });
    for (const name of ["kubernetesSecrets", "composeEnv", "composeProject"]) expect(up.outputs[name]?.secret, name).toBe(true);

    expect(out("deployFiles")).toEqual(Object.keys(PROJECT_MODES).sort());
    for (const file of out("deployFiles") as string[]) {
      expect(stat(path.join(deployDir, file)), file).toMatchObject(PROJECT_MODES[file]!);
    }
    const token = /^TUNNEL_TOKEN=(.+)$/m.exec(fs.readFileSync(path.join(deployDir, ".env"), "utf8"))![1]!;
    for (const name of ["helmValues", "proxyConfig", "mcpServerUrls", "secretsChecksum", "deployFiles"]) {
      expect(JSON.stringify(out(name)), name).not.toContain(token);
      expect(JSON.stringify(out(name)), name).not.toContain("PRIVATE KEY");
    }

    await expectEmptyPlan(stack);
    await stack.destroy();
    expect(fs.existsSync(deployDir)).toBe(false);
    expect((await emulator.tunnels()).map((t) => t.id)).not.toContain(tunnelId);
  });

  it("programmatic: binds the federation rule and hands the chart only the documented managed-mode values, no secret", async () => {
    const { stack } = await createHermeticStack({
      env: await emulator.engineEnv("wrkspc_platform"),
      projectName: "mcp-tunnels-programmatic",
      config: { federationRuleId: { value: "fdrl_tunnels" }, workspaceId: { value: "wrkspc_platform" } },
      program: async () => programmatic(),
    });
    const up = await stack.up();
    const helmValues = up.outputs.helmValues?.value;

    expect(keyPaths(helmValues).sort()).toEqual([...DOCUMENTED_VALUES.managed].sort());
    expect(helmValues).toMatchObject({
      setup: { enabled: true, force: true },
      tunnel: { id: up.outputs.tunnelId?.value, tokenVersion: "1" },
      api: { wif: { federationRuleId: "fdrl_tunnels", organizationId: "6f1c7a52-0000-4000-8000-00000000e001", workspaceId: "wrkspc_platform", audience: "api.anthropic.com" } },
    });
    expect(up.outputs.identitySubjectPrefix?.value).toBe("system:serviceaccount:mcp-tunnel:*");
    expect(Object.values(up.outputs).filter((output) => output.secret)).toEqual([]);

    await expectEmptyPlan(stack);
    await stack.destroy();
  });

  it("compose: writes the documented Compose project that docker-compose itself accepts, the key owned by the proxy user, removed on destroy", async () => {
    const composeDir = path.join(makeTempDir("compose"), "compose");
    const { stack } = await createHermeticStack({
      env: await emulator.engineEnv(),
      projectName: "mcp-tunnels-compose",
      config: { composeDir: { value: composeDir } },
      program: async () => compose(),
    });
    const up = await stack.up();

    expect(up.outputs.composeFileNames?.value).toEqual(Object.keys(PROJECT_MODES).sort());
    for (const file of Object.keys(PROJECT_MODES)) expect(stat(path.join(composeDir, file)), file).toMatchObject(PROJECT_MODES[file]!);
    expect(up.outputs.ownership?.value).toBe("applied");
    expect(fs.readFileSync(path.join(composeDir, "config/mcp-proxy.yaml"), "utf8")).toBe(up.outputs.proxyConfig?.value);
    await expectComposeAccepts(composeDir);

    await expectEmptyPlan(stack);
    await stack.destroy();
    expect(fs.existsSync(composeDir)).toBe(false);
  });

  it("rotation: a tokenRotation change previews as an in-place TunnelToken update, a caRotation change as CA, registration and server certificate replacements", async () => {
    const { stack } = await createHermeticStack({
      env: await emulator.engineEnv(),
      projectName: "mcp-tunnels-rotation",
      program: async () => rotation(),
    });
    const first = (await stack.up()).outputs;

    await stack.setAllConfig({ tokenRotation: { value: "2" }, rotationReason: { value: "quarterly rotation" } });
    const tokenPlan = await previewPlan(stack);
    // The default provider is updated too (stack config is its config), which the CLI does not show.
    const resourceChanges = tokenPlan.changes.filter((step) => !step.type.startsWith("pulumi:providers:"));
    expect(resourceChanges.map((step) => `${step.op} ${step.name}`)).toEqual(["update rotation-token"]);
    expect(stepFor(tokenPlan, "rotation-token").changedInputs).toEqual(["reason", "rotation"]);
    const afterToken = (await stack.up()).outputs;
    expect(afterToken.tokenVersion?.value).not.toBe(first.tokenVersion?.value);
    expect(afterToken.secretsChecksum?.value).not.toBe(first.secretsChecksum?.value);
    expect(afterToken.caFingerprint?.value).toBe(first.caFingerprint?.value);
    const rotations = (await emulator.audit()).filter((entry) => entry.action === "token.rotate" && entry.tunnel_id === first.tunnelId?.value);
    expect(rotations.map((entry) => entry.detail)).toEqual([expect.objectContaining({ reason: "quarterly rotation" })]);

    await stack.setConfig("caRotation", { value: "2" });
    const caPlan = await previewPlan(stack);
    expect(stepFor(caPlan, "rotation-ca")).toMatchObject({ op: "replace", replaceReasons: expect.arrayContaining(["rotation"]) });
    expect(stepFor(caPlan, "rotation-ca-registration").op).toBe("replace");
    expect(stepFor(caPlan, "rotation-server-certificate").op).toBe("replace");
    expect(stepFor(caPlan, "rotation-token").op).toBe("same");
    expect(stepFor(caPlan, "rotation-tunnel").op).toBe("same");
    const afterCa = (await stack.up()).outputs;
    expect(afterCa.caFingerprint?.value).not.toBe(first.caFingerprint?.value);
    expect(afterCa.tokenVersion?.value).toBe(afterToken.tokenVersion?.value);
    expect(await emulator.activeCertificates(first.tunnelId?.value as string)).toEqual([expect.objectContaining({ fingerprint: afterCa.caFingerprint?.value })]);

    await expectEmptyPlan(stack);
    await stack.destroy();
  });
});

const execFileAsync = promisify(execFile);

/** Docker's own reading of the generated file, offline; skipped, and said so, without docker-compose. */
async function expectComposeAccepts(dir: string): Promise<void> {
  const found = await execFileAsync("sh", ["-c", "command -v docker-compose"]).catch(() => undefined);
  if (!found) {
    console.warn("docker-compose is not installed: the generated docker-compose.yml was not validated by Compose itself");
    return;
  }
  await execFileAsync("docker-compose", ["-f", path.join(dir, "docker-compose.yml"), "config", "-q"], { cwd: dir });
}
const RUN_EXAMPLE = path.join(REPO_ROOT, "dist", "scripts", "run-example.js");

describe("scripts/run-example.ts, the driver behind make demo", () => {
  it("runs the quickstart from the command line: masked outputs, preview --json as the CLI's document, config changed for one preview only", async () => {
    const demoDir = makeTempDir("run-example");
    onTestFinished(() => fs.rmSync(demoDir, { recursive: true, force: true }));
    const env: NodeJS.ProcessEnv = { ...process.env, ...(await emulator.engineEnv()), MCP_TUNNELS_DEMO_DIR: demoDir };
    for (const name of ["PULUMI_HOME", "PULUMI_BACKEND_URL", "MCP_TUNNELS_CACHE_DIR"]) delete env[name];
    const run = async (...args: string[]) => (await execFileAsync(process.execPath, [RUN_EXAMPLE, "quickstart", ...args], { env, maxBuffer: 64 * 1024 * 1024 })).stdout;

    const up = await run("up", "--config", `deployDir=${path.join(demoDir, "deploy")}`);
    expect(up).toContain("+ 8 created");
    const token = /^TUNNEL_TOKEN=(.+)$/m.exec(fs.readFileSync(path.join(demoDir, "deploy", ".env"), "utf8"))![1]!;

    const outputs = JSON.parse(await run("outputs", "--json")) as Record<string, unknown>;
    expect(outputs).toMatchObject({ composeEnv: "[secret]", composeProject: "[secret]", kubernetesSecrets: "[secret]", tunnelId: expect.stringMatching(/^tnl_/) });

    const previewJson = await run("preview", "--json", "--config", "tokenRotation=2");
    const document = JSON.parse(previewJson) as { steps: { op: string; urn: string }[]; changeSummary: Record<string, number> };
    expect(document.steps.filter((step) => step.op !== "same").map((step) => `${step.op} ${step.urn.split("::").pop()}`)).toEqual([
      "update quickstart-token",
      "update quickstart-files",
    ]);
    for (const text of [up, JSON.stringify(outputs), previewJson]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain("PRIVATE KEY");
    }

    // The rotation was only previewed: the stack's config is what it was, so nothing is planned.
    await run("preview", "--expect-no-changes");
    await run("destroy");
    expect(fs.existsSync(path.join(demoDir, "deploy"))).toBe(false);
  });
});
