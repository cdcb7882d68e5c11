import * as fs from "node:fs";

export interface ProcessInfo {
  pid: number;
  ppid: number;
  commandLine: string;
}

function processTable(): ProcessInfo[] {
  const table: ProcessInfo[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      // Fields after the parenthesised command name: state, ppid, ...
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const commandLine = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ").trim();
      table.push({ pid: Number(entry), ppid, commandLine });
    } catch {
      // The process ended while the table was read.
    }
  }
  return table;
}

function descendantsIn(table: ProcessInfo[], root: number): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const child of table) {
      if (child.ppid === parent) {
        found.push(child);
        queue.push(child.pid);
      }
    }
  }
  return found;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
  } catch {
    return false;
  }
}

function workingDirectory(pid: number): string {
  try {
    return fs.readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return "";
  }
}

/**
 * The `pulumi` CLI processes the Automation API started from this test process for the stack in
 * `stackDir` (an inline program runs the CLI as `pulumi <op> ... --exec-kind auto.inline`, in the
 * stack's work directory), with the plugins each one started.
 */
export function runningEngines(stackDir: string): { engine: ProcessInfo; plugins: ProcessInfo[] }[] {
  const table = processTable();
  return descendantsIn(table, process.pid)
    .filter((p) => p.commandLine.includes("--exec-kind auto.inline") && workingDirectory(p.pid).startsWith(stackDir))
    .map((engine) => ({ engine, plugins: descendantsIn(table, engine.pid) }));
}

export type KillMode =
  /** Only the CLI, as `kill -9 <pid>` does: its provider processes live on and finish what they were doing. */
  | "engine"
  /** The CLI and every process it started, as when the machine or the CI job's container dies. */
  | "engine-and-plugins";

export interface KilledEngine {
  engine: number;
  /** Provider processes the engine had started; with mode "engine" they are still running. */
  plugins: number[];
}

/** SIGKILLs the engine running for the stack in `stackDir` (there must be exactly one). */
export function killEngine(stackDir: string, mode: KillMode): KilledEngine {
  const running = runningEngines(stackDir);
  if (running.length !== 1) throw new Error(`expected one running engine, found ${running.length}`);
  const { engine, plugins } = running[0]!;
  process.kill(engine.pid, "SIGKILL");
  if (mode === "engine-and-plugins") for (const plugin of plugins) killQuietly(plugin.pid);
  return { engine: engine.pid, plugins: plugins.map((p) => p.pid) };
}

/** Ends what an engine-only kill left running, once the test has seen what it wanted to see. */
export async function reapPlugins(killed: KilledEngine): Promise<void> {
  for (const pid of killed.plugins) killQuietly(pid);
  await waitFor(() => killed.plugins.every((pid) => !isAlive(pid)), "the killed engine's plugins to exit", 10_000);
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

/** Polls `condition` every 25 ms; fails naming what it waited for after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
