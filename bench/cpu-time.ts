import * as fs from "node:fs";
import * as path from "node:path";

/** Where an operation's CPU time went: the program host (this process), the engine, the provider. */
export interface CpuSplit {
  hostMs: number;
  engineMs: number;
  providerMs: number;
}

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU time of this process's finished children and their reaped descendants (cutime + cstime in
 * /proc/self/stat): the pulumi CLI and every plugin it ran.
 */
function childrenCpuMs(): number {
  try {
    const stat = fs.readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields after the command name start at field 3 (state); cutime and cstime are fields 16 and 17.
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

function providerCpuMs(dir: string): number {
  let total = 0;
  for (const name of fs.readdirSync(dir)) {
    const usage = JSON.parse(fs.readFileSync(path.join(dir, name), "utf8")) as { user: number; system: number };
    total += (usage.user + usage.system) / 1000;
  }
  return total;
}

/** Env that makes the engine's dynamic-provider processes report their CPU time into `dir`. */
export function providerCpuEnv(dir: string): Record<string, string> {
  fs.mkdirSync(dir, { recursive: true });
  return { NODE_OPTIONS: `--require ${path.join(__dirname, "profile", "provider-cpu.cjs")}`, BENCH_PROVIDER_CPU_DIR: dir };
}

/** Runs `work` and splits the CPU it cost; `dir` is the one given to providerCpuEnv. */
export async function withCpuSplit<T>(dir: string, work: () => Promise<T>): Promise<{ value: T; cpu: CpuSplit }> {
  for (const name of fs.readdirSync(dir)) fs.rmSync(path.join(dir, name));
  const host = process.cpuUsage();
  const children = childrenCpuMs();
  const value = await work();
  const hostUsage = process.cpuUsage(host);
  const provider = providerCpuMs(dir);
  return {
    value,
    cpu: { hostMs: (hostUsage.user + hostUsage.system) / 1000, engineMs: childrenCpuMs() - children - provider, providerMs: provider },
  };
}
