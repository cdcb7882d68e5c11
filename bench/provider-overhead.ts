import type { TestEmulator } from "../test/harness/emulator";
import { benchStack, type BenchStack } from "./bench-stack";
import { engineOptions, OPERATIONS, runOperations, type Operation, type OperationsRun } from "./engine-operations";
import { STACK_KINDS, type StackKind } from "./stack-programs";
import type { CpuSplit } from "./cpu-time";
import type { StateCost } from "./state-cost";
import { median, summarize, type Summary } from "./stats";

export interface StackMeasurement {
  kind: StackKind;
  count: number;
  resources: number;
  ms: Record<Operation, Summary>;
  /** Median CPU ms per process kind. */
  cpu: Record<Operation, CpuSplit>;
  state: StateCost;
  unexpectedChanges: string[];
}

export interface OverheadOptions {
  emulator: TestEmulator;
  sizes: number[];
  repetitions: number;
  /** Directory of pulumi-resource-benchnoop; without it the native floor is left out. */
  nativeDir: string | undefined;
  log: (line: string) => void;
}

/**
 * Every kind at every size, repeated; the kinds are interleaved and their order rotates per
 * repetition, so a change in machine load lands on all of them alike.
 */
export async function measureProviderOverhead(options: OverheadOptions): Promise<StackMeasurement[]> {
  const kinds = STACK_KINDS.filter((kind) => kind !== "nativeFloor" || options.nativeDir !== undefined);
  const stacks: BenchStack[] = [];
  for (const count of options.sizes) {
    for (const kind of kinds) stacks.push(await benchStack(kind, count, options.emulator, options.nativeDir));
  }

  // Untimed: the first run of each kind loads modules into this process (the inline program's host).
  for (const kind of kinds) {
    const first = stacks.find((s) => s.kind === kind)!;
    await first.prepare();
    await first.stack.up(engineOptions());
    await first.stack.destroy(engineOptions());
  }

  const runs = new Map<BenchStack, OperationsRun[]>(stacks.map((s) => [s, []]));
  for (let rep = 0; rep < options.repetitions; rep++) {
    for (const count of options.sizes) {
      const group = stacks.filter((s) => s.count === count);
      const rotated = [...group.slice(rep % group.length), ...group.slice(0, rep % group.length)];
      for (const bench of rotated) {
        await bench.prepare();
        const run = await runOperations(bench.stack, bench.workDir, bench.cpuDir);
        runs.get(bench)!.push(run);
        options.log(`  rep ${rep + 1} N=${count} ${bench.kind}: ${OPERATIONS.map((op) => `${op} ${Math.round(run.ms[op])}`).join(", ")} ms; provider CPU ${OPERATIONS.map((op) => Math.round(run.cpu[op].providerMs)).join("/")} ms`);
      }
    }
  }

  return stacks.map((bench) => {
    const list = runs.get(bench)!;
    const last = list.at(-1)!;
    return {
      kind: bench.kind,
      count: bench.count,
      resources: last.resources,
      ms: Object.fromEntries(OPERATIONS.map((op) => [op, summarize(list.map((run) => run.ms[op]))])) as Record<Operation, Summary>,
      cpu: Object.fromEntries(
        OPERATIONS.map((op) => [
          op,
          {
            hostMs: median(list.map((run) => run.cpu[op].hostMs)),
            engineMs: median(list.map((run) => run.cpu[op].engineMs)),
            providerMs: median(list.map((run) => run.cpu[op].providerMs)),
          },
        ]),
      ) as Record<Operation, CpuSplit>,
      state: last.state,
      unexpectedChanges: [...new Set(list.flatMap((run) => run.unexpectedChanges))],
    };
  });
}
