import { defineConfig } from "vitest/config";

// Unit tests live beside the code; e2e tests (real engine, real emulator) live under test/.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["core/**/*.test.ts", "sdk/**/*.test.ts", "provider/**/*.test.ts", "native/**/*.test.ts", "emulator/**/*.test.ts", "twin/**/*.test.ts", "scripts/**/*.test.ts"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/**/*.test.ts"],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          // Each file starts its own engine processes; two cores are the budget.
          maxWorkers: 2,
          // A scratch directory per run, where the package tests share one packed tarball.
          globalSetup: ["test/package/run-dir.ts"],
        },
      },
    ],
  },
});
