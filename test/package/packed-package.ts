import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { promisify } from "node:util";
import { inject } from "vitest";
import { REPO_ROOT, TOOLCHAIN_ROOT } from "../harness/engine";

const execFileAsync = promisify(execFile);

/** What `npm pack --json` reports for the tarball `make package` wrote. */
export interface PackedPackage {
  tarball: string;
  /** The clean copy of the working tree it was packed from, with its fresh build. */
  tree: string;
  files: string[];
  /** Bytes of the .tgz. */
  size: number;
  unpackedSize: number;
}

const NODE_BIN = path.join(REPO_ROOT, ".tools", "node", "bin");

/**
 * The environment an npm, npx or node command gets in these tests: Node 22 and the Pulumi CLI first
 * on PATH, and nothing of the npm that started vitest (its npm_* variables would leak settings such
 * as `yes` into the commands under test) nor the repository's NODE_PATH, so a project resolves
 * packages from its own node_modules only.
 */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const inherited = Object.entries(process.env).filter(
    (entry): entry is [string, string] => entry[1] !== undefined && !/^npm_/i.test(entry[0]) && entry[0] !== "NODE_PATH" && entry[0] !== "NODE_OPTIONS",
  );
  return {
    ...Object.fromEntries(inherited),
    PATH: [NODE_BIN, path.join(TOOLCHAIN_ROOT, "bin"), process.env.PATH ?? ""].join(path.delimiter),
    npm_config_audit: "false",
    npm_config_fund: "false",
    npm_config_update_notifier: "false",
    ...extra,
  };
}

/**
 * What the engine and the provider processes it starts get when a test runs a copied project:
 * its own PULUMI_HOME, file backend and passphrase, no update checks or plugin downloads, and the
 * Tunnels API credentials given. Unlike the repository's harness, no NODE_PATH: the project and
 * its dynamic providers resolve everything from the project's node_modules.
 */
export function projectEngineEnv(dir: string, credentials: Record<string, string>): Record<string, string> {
  const home = path.join(dir, "pulumi-home");
  const backend = path.join(dir, "backend");
  fs.mkdirSync(home, { recursive: true });
  fs.mkdirSync(backend, { recursive: true });
  return cleanEnv({
    PULUMI_HOME: home,
    PULUMI_BACKEND_URL: `file://${backend}`,
    PULUMI_CONFIG_PASSPHRASE: "copied-project",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_CREDENTIAL_STORE: "plaintext",
    MCP_TUNNELS_CACHE_DIR: path.join(dir, "token-cache"),
    ...credentials,
  });
}

/** An npm registry URL on a loopback port that was free a moment ago: whatever asks it is refused at once. */
export async function closedRegistryUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/`;
}

export interface Ran {
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; a failure carries both streams, so the test output says why. */
export async function run(command: string, args: string[], options: { cwd: string; env?: Record<string, string>; input?: string; timeoutMs?: number }): Promise<Ran> {
  const child = execFileAsync(command, args, {
    cwd: options.cwd,
    env: options.env ?? cleanEnv(),
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
  });
  if (options.input !== undefined) {
    child.child.stdin?.end(options.input);
  }
  try {
    return await child;
  } catch (error) {
    const failed = error as Error & { stdout?: string; stderr?: string; code?: number | string; killed?: boolean };
    throw new Error(
      `${command} ${args.join(" ")} (in ${options.cwd}) ${failed.killed ? "was killed" : `exited with ${failed.code}`}\n--- stdout\n${failed.stdout ?? ""}\n--- stderr\n${failed.stderr ?? ""}`,
    );
  }
}

/**
 * Runs `make` at most once per vitest run across test files: the first caller takes the step's
 * directory and does the work; the others wait for its result (or its failure) in the run directory.
 */
async function oncePerRun<T>(step: string, make: (dir: string) => Promise<T>): Promise<T> {
  const root = inject("packageRunDir");
  const dir = path.join(root, step);
  const done = path.join(root, `${step}.json`);
  const failed = path.join(root, `${step}.failed`);
  try {
    fs.mkdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    for (;;) {
      if (fs.existsSync(done)) return JSON.parse(fs.readFileSync(done, "utf8")) as T;
      if (fs.existsSync(failed)) throw new Error(`${step} failed in another test file:\n${fs.readFileSync(failed, "utf8")}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    const value = await make(dir);
    fs.writeFileSync(`${done}.tmp`, JSON.stringify(value));
    fs.renameSync(`${done}.tmp`, done);
    return value;
  } catch (error) {
    fs.writeFileSync(failed, (error as Error).stack ?? String(error));
    throw error;
  }
}

/**
 * The package as it would be published: `make package` (a fresh build of a clean copy of the
 * working tree, packed with package.json's "files"), once per test run.
 */
export function packedPackage(): Promise<PackedPackage> {
  return oncePerRun("package", async (dir) => {
    // -o: never reinstall the repository's node_modules from inside a test run.
    await run("make", ["-s", "-o", "node_modules/.installed", "package", `PACKAGE_DIR=${dir}`], { cwd: REPO_ROOT });
    const [report] = JSON.parse(fs.readFileSync(path.join(dir, "pack.json"), "utf8")) as { filename: string; files: { path: string }[]; size: number; unpackedSize: number }[];
    if (!report) throw new Error("npm pack reported no tarball");
    return {
      tarball: path.join(dir, report.filename),
      tree: path.join(dir, "tree"),
      files: report.files.map((file) => file.path).sort(),
      size: report.size,
      unpackedSize: report.unpackedSize,
    };
  });
}

/** Every physical directory of `name` in a project's node_modules tree, by real path. */
export function physicalCopies(projectDir: string, name: string): string[] {
  const found = new Set<string>();
  const visited = new Set<string>();
  const walk = (nodeModules: string): void => {
    if (!fs.existsSync(nodeModules)) return;
    const real = fs.realpathSync(nodeModules);
    if (visited.has(real)) return;
    visited.add(real);
    for (const entry of fs.readdirSync(nodeModules)) {
      if (entry.startsWith(".")) continue;
      const names = entry.startsWith("@") ? fs.readdirSync(path.join(nodeModules, entry)).map((scoped) => `${entry}/${scoped}`) : [entry];
      for (const packageName of names) {
        const dir = path.join(nodeModules, packageName);
        if (packageName === name && fs.existsSync(path.join(dir, "package.json"))) found.add(fs.realpathSync(dir));
        walk(path.join(dir, "node_modules"));
      }
    }
  };
  walk(path.join(projectDir, "node_modules"));
  return [...found].sort();
}

/** The versions `npm ls` reports for `name` anywhere in the tree; `npm ls` itself fails on an unmet range. */
export async function listedVersions(projectDir: string, name: string): Promise<string[]> {
  const { stdout } = await run("npm", ["ls", name, "--all", "--json"], { cwd: projectDir });
  const versions = new Set<string>();
  const visit = (node: { version?: string; dependencies?: Record<string, unknown> }): void => {
    for (const [dependency, child] of Object.entries(node.dependencies ?? {})) {
      const typed = child as { version?: string; dependencies?: Record<string, unknown> };
      if (dependency === name && typed.version) versions.add(typed.version);
      visit(typed);
    }
  };
  visit(JSON.parse(stdout));
  return [...versions].sort();
}

/** The copy of the driver a project runs its compiled program with (see inline-driver.cjs). */
export const INLINE_DRIVER = path.join(__dirname, "inline-driver.cjs");
