import * as fs from "node:fs";
import * as path from "node:path";
import { it } from "vitest";
import { TestEmulator } from "../../test/harness/emulator";
import { REPO_ROOT } from "../../test/harness/engine";
import { benchStack } from "../bench-stack";
import { OPERATIONS } from "../engine-operations";
import type { StackKind } from "../stack-programs";
import { selfTimeByOwner } from "./summarize-profile";

// BENCH_PROFILE=1 [BENCH_PROFILE_KIND=ours|dynamicFloor] [BENCH_PROFILE_N=10] npx vitest run --config bench/vitest.bench.config.mts
// Profiles the dynamic-provider process through up, preview, refresh and destroy: CPU profile
// chunks (open any in Chrome DevTools) and package load times land in bench/profile/out/<op>/.
const KIND = (process.env.BENCH_PROFILE_KIND ?? "ours") as StackKind;
const COUNT = Number(process.env.BENCH_PROFILE_N ?? 10);
const OUT = path.join(REPO_ROOT, "bench", "profile", "out");

it(`profiles the provider process of ${COUNT} × ${KIND}`, async () => {
  const emulator = await TestEmulator.start();
  try {
    fs.rmSync(OUT, { recursive: true, force: true });
    const bench = await benchStack(KIND, COUNT, emulator, undefined);
    await bench.prepare();
    const env = bench.stack.workspace.envVars;
    env.NODE_OPTIONS = `--require ${path.join(__dirname, "provider-preload.cjs")}`;
    for (const op of OPERATIONS) {
      const dir = path.join(OUT, op);
      fs.mkdirSync(dir, { recursive: true });
      env.BENCH_PROFILE_DIR = dir;
      const started = Date.now();
      await bench.stack[op]();
      const top = selfTimeByOwner(dir, REPO_ROOT).slice(0, 12);
      process.stdout.write(`\n${op}: ${Date.now() - started} ms wall; provider self time by package (ms):\n${top.map((t) => `  ${String(t.ms).padStart(6)}  ${t.owner}`).join("\n")}\n`);
      const loads = fs.readdirSync(dir).filter((n) => n.endsWith("-require.txt"));
      for (const name of loads) process.stdout.write(`  package loads (start, depth, duration): ${path.join(dir, name)}\n`);
    }
  } finally {
    await emulator.close();
  }
});
