import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** A directory for this test run only: the packed tarball, built once, is shared through it. */
    packageRunDir: string;
  }
}

/**
 * Global setup of the e2e project: one scratch directory per `vitest run`, removed at its end.
 * Creating it costs nothing; the package tests build into it on first use (test/package/packed-package.ts).
 */
export default function setup(project: TestProject): () => void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mcp-tunnels-package-run-"));
  project.provide("packageRunDir", dir);
  return () => fs.rmSync(dir, { recursive: true, force: true });
}
