import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { onTestFinished } from "vitest";
import type { TestEmulator } from "../test/harness/emulator";
import { TOOLCHAIN_ROOT } from "../test/harness/engine";
import { createHermeticStack } from "../test/harness/stack";
import { providerCpuEnv } from "./cpu-time";
import { stackProgram, type StackKind } from "./stack-programs";

export interface BenchStack {
  kind: StackKind;
  count: number;
  stack: Stack;
  workDir: string;
  /** Where the stack's provider processes report their CPU time (see cpu-time.ts). */
  cpuDir: string;
  /** Makes the next `up` start from nothing: a reset emulator (its 10-tunnel cap), fresh credentials, no cached token. */
  prepare(): Promise<void>;
}

/**
 * A hermetic stack for one kind and size. Every kind gets the same environment — the native
 * no-op plugin's directory on PATH included — so only the provider differs between them.
 */
export async function benchStack(kind: StackKind, count: number, emulator: TestEmulator, nativeDir: string | undefined): Promise<BenchStack> {
  const pathEntries = [nativeDir, path.join(TOOLCHAIN_ROOT, "bin"), process.env.PATH].filter(Boolean);
  const cpuDir = fs.mkdtempSync(path.join(os.tmpdir(), "mcp-tunnels-bench-cpu-"));
  const hermetic = await createHermeticStack({
    program: stackProgram(kind, count),
    projectName: "mcp-tunnels-bench",
    stackName: "bench",
    env: { PATH: pathEntries.join(path.delimiter), ...providerCpuEnv(cpuDir), ...(await emulator.engineEnv()) },
  });
  onTestFinished(() => fs.rmSync(cpuDir, { recursive: true, force: true }));
  const envVars = hermetic.stack.workspace.envVars;
  return {
    kind,
    count,
    stack: hermetic.stack,
    workDir: path.join(hermetic.dir, "work"),
    cpuDir,
    async prepare() {
      if (kind !== "ours") return;
      await emulator.control("POST", "/_emulator/reset");
      Object.assign(envVars, await emulator.engineEnv());
      fs.rmSync(envVars.MCP_TUNNELS_CACHE_DIR!, { recursive: true, force: true });
    },
  };
}
