import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import { repoRoot, SCHEMA_FILE } from "./generate-files";
import { GENERATED_SDKS_DIR, generateSdks, SDK_LANGUAGES } from "./generate-sdks";

const run = promisify(execFile);
const ROOT = repoRoot(__dirname);
const PULUMI = path.join(ROOT, ".tools", "pulumi", "bin", "pulumi");
const CHECKED_IN = path.join(ROOT, GENERATED_SDKS_DIR);

/** Runs a compiler; on failure the error carries what it printed (tsc reports on stdout, go and python on stderr). */
async function compile(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<void> {
  try {
    await run(command, args, { ...options, maxBuffer: 16 << 20 });
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`${path.basename(command)} ${args.join(" ")} failed in ${options.cwd}:\n${stdout}${stderr}`);
  }
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((file) => fs.statSync(path.join(dir, file)).isFile())
    .sort();
}

function onPath(command: string): string | undefined {
  return (process.env.PATH ?? "")
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.join(dir, command))
    .find((file) => fs.existsSync(file));
}

/** A language whose compiler is missing is skipped with the reason in the output, not failed. */
function requireCompiler(context: TestContext, command: string, why: string): string {
  const found = onPath(command);
  if (!found) {
    console.warn(`skipped: ${command} is not on PATH, so ${why} is not checked`);
    context.skip();
  }
  return found!;
}

describe("the SDKs generated from schema.json", () => {
  let work: string;

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "mcp-tunnels-sdks-"));
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it("are checked in under generated-sdks/ byte for byte as Pulumi's code generators make them", { timeout: 600_000 }, async () => {
    if (!fs.existsSync(PULUMI)) throw new Error(`no Pulumi CLI at ${PULUMI}: run \`make toolchain\``);
    fs.mkdirSync(path.join(work, "home"));
    const fresh = path.join(work, "fresh");
    await generateSdks({ pulumi: PULUMI, schemaFile: path.join(ROOT, SCHEMA_FILE), outDir: fresh, home: path.join(work, "home") });
    const problems: string[] = [];
    for (const language of SDK_LANGUAGES) {
      const generated = filesUnder(path.join(fresh, language));
      const committed = filesUnder(path.join(CHECKED_IN, language));
      expect(generated.length, `${language}: the generator wrote no files`).toBeGreaterThan(0);
      for (const file of generated) {
        const target = path.join(CHECKED_IN, language, file);
        if (!fs.existsSync(target)) problems.push(`${language}/${file}: missing`);
        else if (!fs.readFileSync(target).equals(fs.readFileSync(path.join(fresh, language, file)))) problems.push(`${language}/${file}: differs`);
      }
      for (const file of committed.filter((f) => !generated.includes(f))) problems.push(`${language}/${file}: no longer generated`);
    }
    if (problems.length > 0) {
      expect.fail(`${GENERATED_SDKS_DIR}/ is out of date with schema.json:\n  ${problems.join("\n  ")}\nRun \`make generate-sdks\` and commit the result.`);
    }
  });

  it("compiles the Go SDK with `go build ./...` against github.com/pulumi/pulumi/sdk/v3 at the CLI's version", { timeout: 600_000 }, async (context) => {
    const go = requireCompiler(context, "go", "the Go SDK's build");
    const packages = fs.readdirSync(path.join(CHECKED_IN, "go"), { withFileTypes: true }).filter((entry) => entry.isDirectory());
    expect(packages.map((p) => p.name)).toEqual(["mcptunnels"]);
    // A copy: resolving the requirements writes go.sum, which is not checked in (the module cache decides it).
    const copy = path.join(work, "go");
    fs.cpSync(path.join(CHECKED_IN, "go", "mcptunnels"), copy, { recursive: true });
    await compile(go, ["build", "./..."], { cwd: copy, env: { ...process.env, GOFLAGS: "-mod=mod" } });
  });

  it("byte-compiles every file of the Python SDK with `python3 -m py_compile`", { timeout: 120_000 }, async (context) => {
    // Importing it needs the pulumi package from PyPI, which is out of reach offline; syntax only.
    const python = requireCompiler(context, "python3", "the Python SDK's syntax");
    const files = filesUnder(path.join(CHECKED_IN, "python")).filter((file) => file.endsWith(".py"));
    expect(files).toContain(path.join("pulumi_mcp_tunnels", "__init__.py"));
    await compile(python, ["-m", "py_compile", ...files], { cwd: path.join(CHECKED_IN, "python"), env: { ...process.env, PYTHONPYCACHEPREFIX: path.join(work, "pycache") } });
  });

  it("type-checks the Node.js SDK with tsc against the repository's @pulumi/pulumi", { timeout: 120_000 }, async () => {
    const tsc = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");
    await compile(process.execPath, [tsc, "--noEmit", "-p", path.join(CHECKED_IN, "nodejs", "tsconfig.json")], { cwd: ROOT });
  });
});
