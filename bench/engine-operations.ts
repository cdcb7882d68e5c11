import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { Stack } from "@pulumi/pulumi/automation";
import { pulumiCommand } from "../test/harness/engine";
import { stateCost, type StateCost } from "./state-cost";
import { timed } from "./stats";

export const OPERATIONS = ["up", "preview", "refresh", "destroy"] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface OperationsRun {
  ms: Record<Operation, number>;
  /** Resources in the engine's `up` summary. */
  resources: number;
  state: StateCost;
  /** Steps other than `same` in the no-change preview and the refresh: must be none. */
  unexpectedChanges: string[];
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

/** up → (export) → no-change preview → refresh → destroy, each timed as a user would wait for it. */
export async function runOperations(stack: Stack, workDir: string, options: { parallel?: number } = {}): Promise<OperationsRun> {
  const parallel = options.parallel === undefined ? {} : { parallel: options.parallel };
  const up = await timed(() => stack.up(parallel));
  if (up.value.summary.result !== "succeeded") throw new Error(`up ${up.value.summary.result}:\n${up.value.stderr}`);
  const resources = total(up.value.summary.resourceChanges);
  const state = stateCost(await exportedState(stack, workDir, stack.workspace.envVars), resources);
  const preview = await timed(() => stack.preview(parallel));
  const refresh = await timed(() => stack.refresh(parallel));
  const destroy = await timed(() => stack.destroy(parallel));
  if (destroy.value.summary.result !== "succeeded") throw new Error(`destroy ${destroy.value.summary.result}:\n${destroy.value.stderr}`);
  return {
    ms: { up: up.ms, preview: preview.ms, refresh: refresh.ms, destroy: destroy.ms },
    resources,
    state,
    unexpectedChanges: [...changesBesidesSame(preview.value.changeSummary, "preview"), ...changesBesidesSame(refresh.value.summary.resourceChanges, "refresh")],
  };
}
