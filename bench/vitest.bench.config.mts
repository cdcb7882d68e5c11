import { defineConfig } from "vitest/config";

// `make bench` only: one worker, so the engine runs measured here never compete with each other.
export default defineConfig({
  test: {
    include: ["bench/**/*.run.ts"],
    pool: "forks",
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 120_000,
    reporters: ["default"],
  },
});
