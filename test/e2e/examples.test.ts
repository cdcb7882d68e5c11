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

/** The spec's deploy-side names (shared/spec/tunnels-api.md, "Deploy-side names"). */
const SPEC = {
  helmValues: {
    common: [
      "tunnel.id",
      "tunnel.tokenVersion",
      "setup.enabled",
      "gateway.config.tunnel_domain",
      "gateway.config.routes",
      "gateway.config.upstream.allowed_ips",
      "gateway.config.log_level",
    ],
    manual: ["external.tunnelTokenSecretName", "external.serverCertSecretName", "serverCert.renewBefore"],
    programmatic: ["api.wif.federationRuleId", "api.wif.organizationId", "api.wif.workspaceId", "api.wif.audience"],
  },
  composeEnv: ["TUNNEL_ID", "TUNNEL_TOKEN", "TUNNEL_DOMAIN"],
  composeDataFiles: ["data/tunnel-token", "data/tunnel-domain", "data/tls.crt", "data/tls.key"],
  proxyConfig: ["listen_addr", "tunnel_domain", "tls.cert_file", "tls.key_file", "routes", "upstream.allowed_ips", "log_level"],
};
/** Maps whose keys are the user's (route subdomains), not names the spec fixes. */
const OPEN_MAPS = new Set(["gateway.config.routes", "routes"]);
const PRIVATE_FILES = [".env", "data/tunnel-token", "data/tls.key"];

function keyPaths(value: unknown, prefix = ""): string[] {
  if (typeof value !== "object" || value === null || Array.isArray(value) || OPEN_MAPS.has(prefix)) return [prefix];
  return Object.entries(value).flatMap(([key, child]) => keyPaths(child, prefix ? `${prefix}.${key}` : key));
}

/** Key paths of the proxy's config.yaml; route names are quoted there, so they are not keys. */
function yamlKeyPaths(text: string): string[] {
  const stack: { indent: number; key: string }[] = [];
  const paths: string[] = [];
  for (const line of text.split("\n")) {
    const match = /^( *)([a-z_]+):/.exec(line);
    if (!match) continue;
    const indent = match[1]!.length;
    while (stack.length > 0 && stack.at(-1)!.indent >= indent) stack.pop();
    stack.push({ indent, key: match[2]! });
    paths.push(stack.map((entry) => entry.key).join("."));
  }
  return paths.filter((p) => !paths.some((other) => other.startsWith(`${p}.`)));
}

const envNames = (env: string) => env.split("\n").filter(Boolean).map((line) => line.slice(0, line.indexOf("=")));
const mode = (file: string) => fs.statSync(file).mode & 0o777;

describe("examples on the real engine", () => {
  it("quickstart: exports the spec's deploy-side names, writes the deploy files with secrets at 0600, and a second preview plans nothing", async () => {
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

    expect(keyPaths(out("helmValues")).sort()).toEqual([...SPEC.helmValues.common, ...SPEC.helmValues.manual].sort());
    expect(out("helmValues")).toMatchObject({ tunnel: { id: tunnelId }, setup: { enabled: false } });
    expect(envNames(out("composeEnv")).sort()).toEqual([...SPEC.composeEnv].sort());
    expect(Object.keys(out("composeFiles")).sort()).toEqual([...SPEC.composeDataFiles, "config/mcp-proxy.yaml"].sort());
    expect(yamlKeyPaths(out("proxyConfig")).sort()).toEqual([...SPEC.proxyConfig].sort());
    expect(out("mcpServerUrls")).toEqual({ mcp: `https://mcp.${out("domain")}/mcp`, docs: `https://docs.${out("domain")}/v1/mcp` });
    for (const name of ["kubernetesSecrets", "composeEnv", "composeFiles"]) expect(up.outputs[name]?.secret, name).toBe(true);

    expect(out("deployFiles")).toEqual([".env", "config/mcp-proxy.yaml", ...SPEC.composeDataFiles].sort());
    for (const file of out("deployFiles") as string[]) {
      expect(mode(path.join(deployDir, file)), file).toBe(PRIVATE_FILES.includes(file) ? 0o600 : 0o644);
    }
    const token = fs.readFileSync(path.join(deployDir, "data/tunnel-token"), "utf8").trim();
    expect(fs.readFileSync(path.join(deployDir, ".env"), "utf8")).toContain(`TUNNEL_TOKEN=${token}`);
    for (const name of ["helmValues", "proxyConfig", "mcpServerUrls", "secretsChecksum", "deployFiles"]) {
      expect(JSON.stringify(out(name)), name).not.toContain(token);
      expect(JSON.stringify(out(name)), name).not.toContain("PRIVATE KEY");
    }

    await expectEmptyPlan(stack);
    await stack.destroy();
    expect(fs.existsSync(deployDir)).toBe(false);
    expect((await emulator.tunnels()).map((t) => t.id)).not.toContain(tunnelId);
  });

  it("programmatic: binds the federation rule and hands the chart the spec's WIF values, no secret", async () => {
    const { stack } = await createHermeticStack({
      env: await emulator.engineEnv("wrkspc_platform"),
      projectName: "mcp-tunnels-programmatic",
      config: { federationRuleId: { value: "fdrl_tunnels" }, workspaceId: { value: "wrkspc_platform" } },
      program: async () => programmatic(),
    });
    const up = await stack.up();
    const helmValues = up.outputs.helmValues?.value;

    expect(keyPaths(helmValues).sort()).toEqual([...SPEC.helmValues.common, ...SPEC.helmValues.programmatic].sort());
    expect(helmValues).toMatchObject({
      setup: { enabled: true },
      tunnel: { id: up.outputs.tunnelId?.value, tokenVersion: "1" },
      api: { wif: { federationRuleId: "fdrl_tunnels", organizationId: "6f1c7a52-0000-4000-8000-00000000e001", workspaceId: "wrkspc_platform", audience: "api.anthropic.com" } },
    });
    expect(up.outputs.identitySubjectPrefix?.value).toBe("system:serviceaccount:mcp-tunnel:*");
    expect(Object.values(up.outputs).filter((output) => output.secret)).toEqual([]);

    await expectEmptyPlan(stack);
    await stack.destroy();
  });

  it("compose: writes a Compose directory whose docker-compose.yml mounts the files the proxy config names, secrets at 0600, removed on destroy", async () => {
    const composeDir = path.join(makeTempDir("compose"), "compose");
    const { stack } = await createHermeticStack({
      env: await emulator.engineEnv(),
      projectName: "mcp-tunnels-compose",
      config: { composeDir: { value: composeDir } },
      program: async () => compose(),
    });
    const up = await stack.up();

    const expected = [".env", "config/mcp-proxy.yaml", "docker-compose.yml", ...SPEC.composeDataFiles].sort();
    expect(up.outputs.composeFileNames?.value).toEqual(expected);
    for (const file of expected) expect(mode(path.join(composeDir, file)), file).toBe(PRIVATE_FILES.includes(file) ? 0o600 : 0o644);
    const read = (file: string) => fs.readFileSync(path.join(composeDir, file), "utf8");
    expect(envNames(read(".env")).sort()).toEqual([...SPEC.composeEnv].sort());
    expect(read(".env")).toContain(`TUNNEL_TOKEN=${read("data/tunnel-token").trim()}`);
    expect(read("data/tunnel-domain")).toBe(`${up.outputs.domain?.value}\n`);
    expect(read("config/mcp-proxy.yaml")).toBe(up.outputs.proxyConfig?.value);

    // The container sees ./data at /data and the proxy config at /etc/mcp-gateway/config.yaml.
    const dockerCompose = read("docker-compose.yml");
    expect(dockerCompose).toContain("env_file: .env");
    expect(dockerCompose).toContain("./config/mcp-proxy.yaml:/etc/mcp-gateway/config.yaml:ro");
    expect(dockerCompose).toContain("./data:/data:ro");
    expect(read("config/mcp-proxy.yaml")).toContain('cert_file: "/data/tls.crt"');
    expect(read("config/mcp-proxy.yaml")).toContain('key_file: "/data/tls.key"');

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
    const token = fs.readFileSync(path.join(demoDir, "deploy", "data/tunnel-token"), "utf8").trim();

    const outputs = JSON.parse(await run("outputs", "--json")) as Record<string, unknown>;
    expect(outputs).toMatchObject({ composeEnv: "[secret]", composeFiles: "[secret]", kubernetesSecrets: "[secret]", tunnelId: expect.stringMatching(/^tnl_/) });

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
