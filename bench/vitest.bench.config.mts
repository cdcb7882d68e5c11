import { defineConfig } from "vitest/config";

// `make bench` only: one worker, so the engine runs measured here never compete with each other.
// BENCH_PROFILE=1 runs the provider profile instead of the bench.
export default defineConfig({
  test: {
    include: process.env.BENCH_PROFILE ? ["bench/profile/*.profile.ts"] : ["bench/**/*.run.ts"],
    disableConsoleIntercept: true,
    pool: "forks",
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 120_000,
    reporters: ["default"],
  },
});
