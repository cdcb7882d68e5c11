import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { Stack } from "@pulumi/pulumi/automation";
import { pulumiCommand } from "../test/harness/engine";
import { withCpuSplit, type CpuSplit } from "./cpu-time";
import { stateCost, type StateCost } from "./state-cost";
import { timed } from "./stats";

export const OPERATIONS = ["up", "preview", "refresh", "destroy"] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface OperationsRun {
  ms: Record<Operation, number>;
  cpu: Record<Operation, CpuSplit>;
  /** Resources in the engine's `up` summary. */
  resources: number;
  state: StateCost;
  /** Steps other than `same` in the no-change preview and the refresh: must be none. */
  unexpectedChanges: string[];
}

/** No engine operation here takes a minute on a quiet machine; one that hangs fails instead of eating the run. */
const OPERATION_TIMEOUT_MS = 180_000;

/** Options for one engine operation: a fresh deadline each time, and --parallel when given. */
export function engineOptions(parallel?: number): { parallel?: number; signal: AbortSignal } {
  return { ...(parallel === undefined ? {} : { parallel }), signal: AbortSignal.timeout(OPERATION_TIMEOUT_MS) };
}

function changesBesidesSame(changes: Record<string, number> | undefined, operation: string): string[] {
  return Object.entries(changes ?? {})
    .filter(([op, count]) => op !== "same" && count > 0)
    .map(([op, count]) => `${operation}: ${count} ${op}`);
}

function total(changes: Record<string, number> | undefined): number {
  return Object.values(changes ?? {}).reduce((a, b) => a + b, 0);
}

/** `pulumi stack export` as a user runs it: secrets stay encrypted, as they rest in state. */
export async function exportedState(stack: Stack, workDir: string, env: Record<string, string>): Promise<string> {
  const { command } = await pulumiCommand();
  const { stdout } = await promisify(execFile)(command, ["stack", "export", "--stack", stack.name], { cwd: workDir, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/**
 * up → (export) → no-change preview → refresh → destroy, each timed as a user would wait for it,
 * with the CPU it cost split by process.
 */
export async function runOperations(stack: Stack, workDir: string, cpuDir: string): Promise<OperationsRun> {
  const measure = <T>(work: () => Promise<T>) => withCpuSplit(cpuDir, () => timed(work));
  const up = await measure(() => stack.up(engineOptions()));
  if (up.value.value.summary.result !== "succeeded") throw new Error(`up ${up.value.value.summary.result}:\n${up.value.value.stderr}`);
  const resources = total(up.value.value.summary.resourceChanges);
  const state = stateCost(await exportedState(stack, workDir, stack.workspace.envVars), resources);
  const preview = await measure(() => stack.preview(engineOptions()));
  const refresh = await measure(() => stack.refresh(engineOptions()));
  const destroy = await measure(() => stack.destroy(engineOptions()));
  if (destroy.value.value.summary.result !== "succeeded") throw new Error(`destroy ${destroy.value.value.summary.result}:\n${destroy.value.value.stderr}`);
  return {
    ms: { up: up.value.ms, preview: preview.value.ms, refresh: refresh.value.ms, destroy: destroy.value.ms },
    cpu: { up: up.cpu, preview: preview.cpu, refresh: refresh.cpu, destroy: destroy.cpu },
    resources,
    state,
    unexpectedChanges: [...changesBesidesSame(preview.value.value.changeSummary, "preview"), ...changesBesidesSame(refresh.value.value.summary.resourceChanges, "refresh")],
  };
}
