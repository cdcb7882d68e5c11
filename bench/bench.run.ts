import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, it } from "vitest";
import { TestEmulator } from "../test/harness/emulator";
import { REPO_ROOT } from "../test/harness/engine";
import { measureClientOverhead } from "./client-overhead";
import { measureLatencyHiding } from "./latency-hiding";
import { measureLocalCrypto } from "./local-crypto";
import { measureProviderOverhead } from "./provider-overhead";
import { checkTargets, formatReport, type BenchResults } from "./report";

// `make bench`: sizes, repetitions and sections can be narrowed while developing, e.g.
// BENCH_SIZES=1 BENCH_REPS=1 BENCH_SECTIONS=overhead (BENCH_NATIVE=0 leaves the native floor out).
const SIZES = (process.env.BENCH_SIZES ?? "1,5,10").split(",").map(Number);
const REPS = Number(process.env.BENCH_REPS ?? 3);
const SECTIONS = new Set((process.env.BENCH_SECTIONS ?? "overhead,latency,crypto,client").split(","));
const RESULTS_FILE = path.join(REPO_ROOT, "bench", "results.json");

const log = (line: string) => process.stdout.write(`${line}\n`);
const load = () => os.loadavg().map((value) => Math.round(value * 100) / 100);

const results: BenchResults = {
  startedAt: new Date().toISOString(),
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? "unknown", node: process.version, pulumi: "" },
  loadAverage: { start: load(), end: [] },
  sections: {},
};

let emulator: TestEmulator;
let nativeDir: string | undefined;

beforeAll(async () => {
  emulator = await TestEmulator.start();
  try {
    if (process.env.BENCH_NATIVE === "0") throw new Error("BENCH_NATIVE=0");
    nativeDir = execFileSync("bash", [path.join(REPO_ROOT, "bench", "native-noop", "build.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
    results.nativeFloor = { available: true, dir: nativeDir };
  } catch (error) {
    results.nativeFloor = { available: false, reason: (error as Error).message.split("\n")[0] ?? "build failed" };
  }
  results.machine.pulumi = execFileSync(path.join(REPO_ROOT, ".tools", "pulumi", "bin", "pulumi"), ["version"], { encoding: "utf8" }).trim();
});

afterAll(async () => {
  await emulator?.close();
  results.loadAverage.end = load();
  results.targets = checkTargets(results);
  fs.writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  log(`\n${formatReport(results)}\nresults written to ${path.relative(process.cwd(), RESULTS_FILE)}`);
});

it.runIf(SECTIONS.has("overhead"))("provider overhead and state cost against the floor", async () => {
  log(`provider overhead: N = ${SIZES.join(", ")}, ${REPS} repetitions (load ${load().join(" ")})`);
  const loadBefore = load();
  const stacks = await measureProviderOverhead({ emulator, sizes: SIZES, repetitions: REPS, nativeDir, log });
  results.sections.overhead = { repetitions: REPS, loadBefore, loadAfter: load(), stacks };
});

it.runIf(SECTIONS.has("latency"))("latency hiding: refresh and up with injected API latency", async () => {
  const count = Math.max(...SIZES);
  log(`latency hiding: N = ${count}, 100 ms per API response (load ${load().join(" ")})`);
  const loadBefore = load();
  const measurements = await measureLatencyHiding({ emulator, count, latencyMs: 100, repetitions: REPS, refreshParallel: [undefined, 64], log });
  results.sections.latency = { loadBefore, loadAfter: load(), measurements };
});

it.runIf(SECTIONS.has("crypto"))("local crypto: a CA and a server certificate per key algorithm", async () => {
  log(`local crypto (load ${load().join(" ")})`);
  const loadBefore = load();
  const measurements = await measureLocalCrypto();
  results.sections.crypto = { loadBefore, loadAfter: load(), measurements };
});

it.runIf(SECTIONS.has("client"))("client overhead: tunnels.retrieve through the client and through bare undici", async () => {
  log(`client overhead (load ${load().join(" ")})`);
  const loadBefore = load();
  const measurements = await measureClientOverhead({ calls: 2_000, concurrency: 16, repetitions: 9 });
  results.sections.client = { loadBefore, loadAfter: load(), measurements };
});
