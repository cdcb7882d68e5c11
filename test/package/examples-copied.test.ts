import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestEmulator } from "../harness/emulator";
import { makeTempDir } from "../harness/engine";
import { cleanEnv, INLINE_DRIVER, listedVersions, packedPackage, physicalCopies, projectEngineEnv, run, type PackedPackage } from "./packed-package";

// Each example copied out of the repository with nothing but its own files and the packed tarball,
// installed as examples/README.md says, compiled with its own tsconfig.json and run on the real
// engine against an emulator. Without pulumi-language-nodejs the run goes through a driver script
// inside the copied project, so the project's own @pulumi/pulumi is the only copy in play.

interface CopiedExample {
  name: string;
  /** Stack config the example requires. */
  config?: Record<string, string>;
  /** The workspace the credentials name (examples/README.md: programmatic's is the one it binds). */
  workspaceId?: string;
  /** helm needs a Kubernetes cluster and the kubernetes plugin: installed and typechecked only. */
  engine: boolean;
}

const EXAMPLES: CopiedExample[] = [
  { name: "quickstart", engine: true },
  { name: "programmatic", config: { federationRuleId: "fdrl_tunnels", workspaceId: "wrkspc_platform" }, workspaceId: "wrkspc_platform", engine: true },
  { name: "compose", engine: true },
  { name: "rotation", engine: true },
  { name: "helm", engine: false },
];

/** The documented emulator address in examples/README.md, replaced by the test emulator's. */
const DOCUMENTED_BASE_URL = "http://127.0.0.1:8787";

let packed: PackedPackage;
let emulator: TestEmulator;
let languageHost: string | undefined;

function onPath(command: string, env: Record<string, string>): string | undefined {
  const dirs = (env.PATH ?? "").split(path.delimiter).filter(Boolean);
  const pulumi = dirs.map((dir) => path.join(dir, "pulumi")).find((file) => fs.existsSync(file));
  if (pulumi) dirs.unshift(path.dirname(fs.realpathSync(pulumi)));
  return dirs.map((dir) => path.join(dir, command)).find((file) => {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The credentials block of examples/README.md ("Against the emulator"), run as written against the test emulator. */
async function documentedCredentials(dir: string): Promise<Record<string, string>> {
  const readme = fs.readFileSync(path.join(packed.tree, "examples", "README.md"), "utf8");
  const blocks = [...readme.matchAll(/^```sh\n([\s\S]*?)^```/gm)].map((block) => block[1]!).filter((block) => block.startsWith("export ANTHROPIC_BASE_URL="));
  expect(blocks, "examples/README.md has one credentials block").toHaveLength(1);
  const script = `set -eu\n${blocks[0]!.replaceAll(DOCUMENTED_BASE_URL, emulator.baseUrl)}\nenv -0\n`;
  const { stdout } = await run("bash", ["-c", script], { cwd: dir, env: cleanEnv() });
  const exported = Object.fromEntries(stdout.split("\0").filter(Boolean).map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]));
  return Object.fromEntries(Object.entries(exported).filter(([key]) => key.startsWith("ANTHROPIC_")));
}

async function activeTunnelIds(workspaceId?: string): Promise<string[]> {
  const list = await emulator.api<{ data: { id: string; archived_at: string | null }[] }>("GET", "/v1/tunnels?limit=100", undefined, workspaceId);
  return list.data.filter((tunnel) => tunnel.archived_at === null).map((tunnel) => tunnel.id);
}

beforeAll(async () => {
  packed = await packedPackage();
  emulator = await TestEmulator.start();
  languageHost = onPath("pulumi-language-nodejs", cleanEnv());
  if (!languageHost) {
    console.log("examples-copied: project-directory path (pulumi up/preview/destroy in the copied directory) skipped: pulumi-language-nodejs is not on PATH nor beside pulumi");
  }
}, 600_000);
afterAll(() => emulator?.close());

describe("each example copied out of the repository", () => {
  it("covers every example the package ships", () => {
    const shipped = new Set(packed.files.filter((file) => /^examples\/[^/]+\/Pulumi\.yaml$/.test(file)).map((file) => file.split("/")[1]));
    expect(EXAMPLES.map((example) => example.name).sort()).toEqual([...shipped].sort());
  });

  for (const example of EXAMPLES) {
    it(`${example.name}: installs from the tarball with one @pulumi/pulumi, compiles with its own tsconfig${example.engine ? ", and runs up, an empty preview and destroy on the real engine" : " (no engine run: it needs a cluster)"}`, async () => {
      const dir = makeTempDir(`mcp-tunnels-copied-${example.name}`);
      try {
        const project = path.join(dir, example.name);
        fs.cpSync(path.join(packed.tree, "examples", example.name), project, { recursive: true });
        const manifest = JSON.parse(fs.readFileSync(path.join(project, "package.json"), "utf8")) as { dependencies: Record<string, string> };
        // A registry version of the package would be whatever someone published under the name.
        expect(Object.keys(manifest.dependencies)).not.toContain("pulumi-mcp-tunnels");

        // As examples/README.md says. helm's @pulumi/kubernetes install script would download its plugin.
        await run("npm", ["install", packed.tarball], { cwd: project, env: cleanEnv(example.engine ? {} : { npm_config_ignore_scripts: "true" }) });
        const copies = physicalCopies(project, "@pulumi/pulumi");
        expect(copies, "physical @pulumi/pulumi copies").toHaveLength(1);
        expect(await listedVersions(project, "@pulumi/pulumi")).toHaveLength(1);

        await run(process.execPath, [path.join(project, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], { cwd: project });
        if (!example.engine) {
          console.log(`examples-copied: ${example.name} installed and typechecked only: it needs a Kubernetes cluster and the kubernetes plugin`);
          return;
        }

        fs.copyFileSync(INLINE_DRIVER, path.join(project, "driver.cjs"));
        const credentials = { ...(await documentedCredentials(dir)), ...(example.workspaceId ? { ANTHROPIC_WORKSPACE_ID: example.workspaceId } : {}) };
        const env = projectEngineEnv(path.join(dir, "engine"), credentials);
        const config = Object.entries(example.config ?? {}).flatMap(([key, value]) => ["--config", `${key}=${value}`]);
        const driver = async (operation: string) => JSON.parse((await run(process.execPath, ["driver.cjs", operation, ...config], { cwd: project, env })).stdout) as Record<string, unknown>;

        const up = (await driver("up")) as { outputs: Record<string, unknown> };
        const tunnelId = up.outputs.tunnelId as string;
        expect(tunnelId).toMatch(/^tnl_/);
        expect(await activeTunnelIds(example.workspaceId)).toContain(tunnelId);

        const preview = (await driver("preview-no-changes")) as { changeSummary: Record<string, number> };
        expect(Object.keys(preview.changeSummary)).toEqual(["same"]);

        await driver("destroy");
        expect(await activeTunnelIds(example.workspaceId)).not.toContain(tunnelId);

        if (languageHost) {
          // The path a user takes: the CLI in the project directory, through the language host.
          // Fresh identity tokens: the driver's runs spent theirs (each is good for one exchange).
          const cliEnv = projectEngineEnv(path.join(dir, "engine-cli"), { ...(await documentedCredentials(dir)), ...(example.workspaceId ? { ANTHROPIC_WORKSPACE_ID: example.workspaceId } : {}) });
          const cli = (args: string[]) => run("pulumi", [...args, "--non-interactive"], { cwd: project, env: cliEnv });
          await cli(["stack", "init", "cli"]);
          for (const [key, value] of Object.entries(example.config ?? {})) await cli(["config", "set", key, value]);
          await cli(["up", "--yes", "--skip-preview"]);
          await cli(["preview", "--expect-no-changes"]);
          await cli(["destroy", "--yes"]);
          await cli(["stack", "rm", "--yes", "cli"]);
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
