import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EMULATOR_FIXTURE } from "../../emulator/index";
import { startCli, type CliProcess } from "../emulator/compiled-cli";
import { makeTempDir } from "../harness/engine";
import { cleanEnv, closedRegistryUrl, INLINE_DRIVER, listedVersions, packedPackage, physicalCopies, projectEngineEnv, run, type PackedPackage } from "./packed-package";

// A newcomer's project: its own, newer @pulumi/pulumi 3.x, TypeScript, and the packed tarball
// installed the way the README says. Nothing from the repository resolves in it.

/** Newer than the repository's lock (3.270.0): a user is rarely on our exact version. */
const USER_PULUMI_RANGE = "^3.276.0";
const USER_PULUMI_MINOR = 276;

const USER_PROGRAM = `import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { DeploymentDirectory, TunnelDeployment } from "pulumi-mcp-tunnels";
import { TunnelsClient } from "pulumi-mcp-tunnels/api";

const deployment = new TunnelDeployment("newcomer", { displayName: "newcomer", routes: { mcp: "http://10.0.0.5:8080" } });
const files = new DeploymentDirectory("compose", DeploymentDirectory.forProject(path.join(__dirname, "deploy"), deployment.composeProject));
// The user's own resource beside the package's, as a real program has them.
new pulumi.ComponentResource("newcomer:index:Group", "group", {}, { dependsOn: [deployment, files] });

export const tunnelId: pulumi.Output<string> = deployment.tunnelId;
export const mcpServerUrls = deployment.mcpServerUrls;
export function tunnelsClient(): TunnelsClient {
  return new TunnelsClient();
}
`;

/** What the examples' tsconfig.json has (and the README asks for): node16 resolution reads `exports`. */
const USER_TSCONFIG = {
  compilerOptions: { strict: true, target: "ES2022", module: "Node16", outDir: "bin", types: ["node"] },
  files: ["index.ts"],
};

let packed: PackedPackage;
let scratch: string;
let project: string;

function writeProject(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
}

beforeAll(async () => {
  packed = await packedPackage();
  scratch = makeTempDir("mcp-tunnels-user");
  project = path.join(scratch, "newcomer");
  writeProject(project, {
    "package.json": `${JSON.stringify({ name: "newcomer", private: true, main: "bin/index.js", dependencies: { "@pulumi/pulumi": USER_PULUMI_RANGE }, devDependencies: { typescript: "^5.9.3", "@types/node": "^22.20.5" } }, null, 2)}\n`,
    "Pulumi.yaml": "name: newcomer\nruntime: nodejs\n",
    "index.ts": USER_PROGRAM,
    "tsconfig.json": `${JSON.stringify(USER_TSCONFIG, null, 2)}\n`,
  });
  await run("npm", ["install", packed.tarball], { cwd: project });
}, 600_000);
afterAll(() => {
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

let compiling: Promise<unknown> | undefined;
/** The user's program built once with the project's own TypeScript (both tests below need it). */
const compiled = () => (compiling ??= run(process.execPath, [path.join(project, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], { cwd: project }));

/** The lines of a Markdown file's ```sh blocks. */
function shellLines(markdown: string): string[] {
  return [...fs.readFileSync(markdown, "utf8").matchAll(/^```sh\n([\s\S]*?)^```/gm)].flatMap((block) => block[1]!.split("\n"));
}

/** The README's `plan` command line, exactly as written there, and the part after the pipe. */
function readmePlanCommand(): { line: string; consumer: string } {
  const lines = shellLines(path.join(packed.tree, "README.md")).filter((line) => line.includes("mcp-tunnels plan"));
  expect(lines, "README shows one `mcp-tunnels plan` command line").toHaveLength(1);
  const line = lines[0]!;
  expect(line.startsWith("pulumi preview --json | ")).toBe(true);
  return { line, consumer: line.slice("pulumi preview --json | ".length) };
}

/** A command that is refused must say so at once: a download attempt against a closed port retries for over a minute. */
const REFUSAL_DEADLINE_MS = 30_000;

/**
 * A registry that serves `mcp-tunnels` as someone else's package whose bin leaves a mark when it
 * runs: what a bare `npx mcp-tunnels` reaches when the name is not installed.
 */
async function squatterRegistry(dir: string, mark: string): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const source = path.join(dir, "squatter");
  writeProject(path.join(source, "package"), {
    "package.json": JSON.stringify({ name: "mcp-tunnels", version: "6.6.6", bin: { "mcp-tunnels": "cli.js" } }),
    "cli.js": `#!/usr/bin/env node\nrequire("node:fs").writeFileSync(${JSON.stringify(mark)}, "ran");\n`,
  });
  fs.chmodSync(path.join(source, "package", "cli.js"), 0o755);
  const tarball = path.join(dir, "mcp-tunnels-6.6.6.tgz");
  await run("tar", ["-czf", tarball, "-C", source, "package"], { cwd: dir });
  const bytes = fs.readFileSync(tarball);
  const requests: string[] = [];
  const server = http.createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    const base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    if (request.url === "/mcp-tunnels") {
      const dist = { tarball: `${base}/mcp-tunnels/-/mcp-tunnels-6.6.6.tgz`, shasum: createHash("sha1").update(bytes).digest("hex"), integrity: `sha512-${createHash("sha512").update(bytes).digest("base64")}` };
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify({ name: "mcp-tunnels", "dist-tags": { latest: "6.6.6" }, versions: { "6.6.6": { name: "mcp-tunnels", version: "6.6.6", bin: { "mcp-tunnels": "cli.js" }, dist } } }));
    } else if (request.url === "/mcp-tunnels/-/mcp-tunnels-6.6.6.tgz") {
      response.end(bytes);
    } else {
      response.statusCode = 404;
      response.end("{}");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
  return { url, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe("a user's project with the packed package installed", () => {
  it("shares the user's newer @pulumi/pulumi: one physical copy in the tree, and npm ls agrees", async () => {
    const copies = physicalCopies(project, "@pulumi/pulumi");
    expect(copies, "physical @pulumi/pulumi copies").toHaveLength(1);
    const { version } = JSON.parse(fs.readFileSync(path.join(copies[0]!, "package.json"), "utf8")) as { version: string };
    const [major, minor] = version.split(".").map(Number);
    expect(major).toBe(3);
    expect(minor).toBeGreaterThanOrEqual(USER_PULUMI_MINOR);
    expect(await listedVersions(project, "@pulumi/pulumi")).toEqual([version]);
  });

  it("compiles a program using TunnelDeployment, DeploymentDirectory and pulumi-mcp-tunnels/api with the project's tsc", async () => {
    await compiled();
    expect(fs.existsSync(path.join(project, "bin", "index.js"))).toBe(true);
  });

  it("turns a real `pulumi preview --json` of that program into the Markdown summary with the README's command line", async () => {
    await compiled();
    // The emulator the package ships, started from the user's install.
    const emulator: CliProcess = await startCli(path.join(project, "node_modules", "pulumi-mcp-tunnels", "dist", "emulator", "cli.js"), ["--port", "0"]);
    try {
      const identity = await fetch(`${emulator.baseUrl}/_emulator/oidc/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sub: "system:serviceaccount:mcp-tunnel:pulumi", ttl_seconds: 3600 }),
      });
      const { id_token } = (await identity.json()) as { id_token: string };
      fs.copyFileSync(INLINE_DRIVER, path.join(project, "driver.cjs"));
      const env = projectEngineEnv(path.join(scratch, "engine"), {
        ANTHROPIC_BASE_URL: emulator.baseUrl,
        ANTHROPIC_FEDERATION_RULE_ID: EMULATOR_FIXTURE.tunnelsRuleId,
        ANTHROPIC_ORGANIZATION_ID: EMULATOR_FIXTURE.organizationId,
        ANTHROPIC_WORKSPACE_ID: EMULATOR_FIXTURE.defaultWorkspaceId,
        ANTHROPIC_IDENTITY_TOKEN: id_token,
      });
      const { stdout: preview } = await run(process.execPath, ["driver.cjs", "preview-json"], { cwd: project, env });
      expect(JSON.parse(preview)).toHaveProperty("steps");

      const { consumer } = readmePlanCommand();
      const npmEnv = cleanEnv({ npm_config_registry: await closedRegistryUrl(), npm_config_cache: path.join(scratch, "npm-cache-installed") });
      const { stdout: summary } = await run("sh", ["-c", consumer], { cwd: project, env: npmEnv, input: preview, timeoutMs: REFUSAL_DEADLINE_MS });
      expect(summary).toContain("Tunnel **newcomer-tunnel** will be created (`newcomer`)");
    } finally {
      emulator.child.kill("SIGTERM");
      await emulator.exit;
    }
  });

  it("where the package is not installed, the README's command refuses at once without asking the (closed) registry", async () => {
    const { consumer } = readmePlanCommand();
    const elsewhere = path.join(scratch, "elsewhere");
    writeProject(elsewhere, { "package.json": "{}\n" });
    // yes=true as CI has it: only the command line's own flags may stop a download.
    const env = cleanEnv({ npm_config_registry: await closedRegistryUrl(), npm_config_cache: path.join(scratch, "npm-cache-empty"), npm_config_yes: "true" });
    const failure = await run("sh", ["-c", consumer], { cwd: elsewhere, env, input: "{}", timeoutMs: REFUSAL_DEADLINE_MS }).then(
      () => undefined,
      (error: Error) => error.message,
    );
    expect(failure, "the command must fail").toBeDefined();
    expect(failure).not.toContain("was killed");
    expect(failure).toMatch(/ENOTCACHED|npx canceled due to missing packages/);
    expect(failure).not.toMatch(/ECONNREFUSED|FetchError/);
  });

  it("where only a same-named package of someone else's is in the npm cache, the README's command refuses it instead of running it", async () => {
    const { consumer } = readmePlanCommand();
    const dir = path.join(scratch, "squatted");
    const mark = path.join(dir, "squatter-ran");
    fs.mkdirSync(dir, { recursive: true });
    const registry = await squatterRegistry(dir, mark);
    try {
      const env = cleanEnv({ npm_config_registry: registry.url, npm_config_cache: path.join(dir, "npm-cache"), npm_config_yes: "true" });
      // Someone once ran a bare `npx mcp-tunnels`: the name's metadata and tarball are cached.
      await run("npm", ["cache", "add", "mcp-tunnels@6.6.6"], { cwd: dir, env });
      registry.requests.length = 0;
      const project = path.join(dir, "project");
      writeProject(project, { "package.json": "{}\n" });

      const failure = await run("sh", ["-c", consumer], { cwd: project, env, input: "{}", timeoutMs: REFUSAL_DEADLINE_MS }).then(
        () => undefined,
        (error: Error) => error.message,
      );
      expect(failure, "the command must fail").toBeDefined();
      expect(failure).toContain("npx canceled due to missing packages");
      expect(fs.existsSync(mark), "the squatter's bin ran").toBe(false);
      expect(registry.requests).toEqual([]);
    } finally {
      await registry.close();
    }
  });

  it("tells no npx command line in its README or examples that could fetch a package", () => {
    const commandLines = ["README.md", "examples/README.md"].flatMap((file) => shellLines(path.join(packed.tree, file)).filter((line) => /\bnpx\b/.test(line)));
    expect(commandLines.length).toBeGreaterThan(0);
    expect(commandLines.filter((line) => !/\bnpx --no --offline /.test(line))).toEqual([]);
  });
});
