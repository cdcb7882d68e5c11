import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const REPO = resolve(__dirname, "../..");

/**
 * Compiles emulator/cli.ts with the project's tsconfig into a scratch folder under node_modules
 * (so the compiled files resolve the same packages), the way `npm run build` produces the bin.
 */
export function compileCli(): { cliPath: string; remove(): void } {
  const cache = join(REPO, "node_modules", ".cache");
  mkdirSync(cache, { recursive: true });
  const outDir = mkdtempSync(join(cache, "emulator-cli-"));
  const tsconfig = join(outDir, "tsconfig.json");
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: join(REPO, "tsconfig.json"),
      compilerOptions: { rootDir: REPO, outDir, declaration: false, sourceMap: false, incremental: false },
      include: [],
      files: [join(REPO, "emulator", "cli.ts")],
    }),
  );
  const result = spawnSync(process.execPath, [join(REPO, "node_modules", "typescript", "bin", "tsc"), "-p", tsconfig], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`tsc failed:\n${result.stdout}${result.stderr}`);
  return { cliPath: join(outDir, "emulator", "cli.js"), remove: () => rmSync(outDir, { recursive: true, force: true }) };
}

export interface CliProcess {
  child: ChildProcessWithoutNullStreams;
  baseUrl: string;
  /** Everything printed on stdout until ready. */
  firstLine: string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startCli(cliPath: string, args: string[]): Promise<CliProcess> {
  const child = spawn(process.execPath, [cliPath, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => child.once("exit", (code, signal) => resolveExit({ code, signal })));
  return new Promise((resolveStart, reject) => {
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /^listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(stdout);
      if (match) resolveStart({ child, baseUrl: match[1]!, firstLine: stdout, exit });
    });
    void exit.then(({ code }) => reject(new Error(`emulator exited with ${code} before listening: ${stderr}`)));
  });
}
