import * as fs from "node:fs";
import { LocalWorkspace, type PulumiFn, type Stack } from "@pulumi/pulumi/automation";
import { onTestFinished } from "vitest";
import { hermeticEngineEnv, makeTempDir, pulumiCommand } from "./engine";

export interface HermeticStackOptions {
  program: PulumiFn;
  /** Extra environment for the engine and every provider process it starts. */
  env?: Record<string, string>;
  /** Directories put first on the engine's PATH, where it finds resource plugins (`pulumi-resource-<name>`). */
  pluginDirs?: string[];
  /** Stack config (`mcpTunnels:baseUrl`, ...), set before the first operation. */
  config?: Record<string, { value: string; secret?: boolean }>;
  projectName?: string;
  stackName?: string;
  /** Keep the stack after the test (for tests that hand it to the next step themselves). */
  keep?: boolean;
}

export interface HermeticStack {
  stack: Stack;
  dir: string;
  env: Record<string, string>;
  /** Every file the backend wrote (checkpoints, history, backups): state as it rests on disk. */
  stateAtRest(): string;
  /** Shifts the clock the providers decide rotation and renewal with, for the next operations. */
  setProviderClockOffset(seconds: number): void;
  dispose(): Promise<void>;
}

function readTree(dir: string): string {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => fs.readFileSync(`${entry.parentPath}/${entry.name}`, "utf8"))
    .join("\n");
}

/**
 * A stack on the real engine with nothing shared: its own PULUMI_HOME, file backend and
 * passphrase secrets provider, driven through the Automation API with an inline program.
 * Removed after the test unless `keep` is set.
 */
export async function createHermeticStack(options: HermeticStackOptions): Promise<HermeticStack> {
  const dir = makeTempDir("mcp-tunnels-stack");
  const env = hermeticEngineEnv(dir, options.env, options.pluginDirs);
  const projectName = options.projectName ?? "mcp-tunnels-test";
  const workDir = `${dir}/work`;
  fs.mkdirSync(workDir);
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: options.stackName ?? "test", projectName, program: options.program },
    {
      workDir,
      pulumiHome: env.PULUMI_HOME,
      envVars: env,
      pulumiCommand: await pulumiCommand(),
      secretsProvider: "passphrase",
      projectSettings: { name: projectName, runtime: "nodejs", backend: { url: env.PULUMI_BACKEND_URL } },
    },
  );
  if (options.config) await stack.setAllConfig(options.config);

  const dispose = async (): Promise<void> => {
    fs.rmSync(dir, { recursive: true, force: true });
  };
  if (!options.keep) onTestFinished(dispose);
  const backendDir = env.PULUMI_BACKEND_URL!.slice("file://".length);
  return {
    stack,
    dir,
    env,
    dispose,
    stateAtRest: () => readTree(backendDir),
    setProviderClockOffset: (seconds) => {
      stack.workspace.envVars.MCP_TUNNELS_CLOCK_OFFSET_SECONDS = String(seconds);
    },
  };
}
