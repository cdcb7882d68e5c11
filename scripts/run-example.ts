#!/usr/bin/env node
/**
 * Runs an example (examples/<name>) on the real engine, with its state in a file backend under
 * .demo/: as a project directory through `pulumi` when pulumi-language-nodejs is installed, else
 * as an Automation API inline program that calls the same `program.ts` function (the Go module
 * proxy does not serve the language host, so that is the path on machines without a Pulumi
 * install).
 */
import * as fs from "node:fs";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { parseArgs, promisify } from "node:util";
import { LocalWorkspace, PulumiCommand, type ConfigMap, type LocalWorkspaceOptions, type Stack } from "@pulumi/pulumi/automation";

const execFileAsync = promisify(execFile);

const OPERATIONS = ["up", "preview", "refresh", "destroy", "outputs"] as const;
type Operation = (typeof OPERATIONS)[number];

const USAGE = `usage: node dist/scripts/run-example.js <example> <${OPERATIONS.join("|")}> [options]
  --config key=value    set stack config (repeatable); for preview, only for that preview
  --json                preview: print the \`pulumi preview --json\` document; outputs: print JSON
  --diff                preview: show property-level diffs
  --expect-no-changes   preview: fail if the preview plans any change
  --stack <name>        stack name (default: demo)
environment: PULUMI_CONFIG_PASSPHRASE (default: a fixed demo passphrase), MCP_TUNNELS_DEMO_DIR
  (default: <repo>/.demo), and the ANTHROPIC_* credentials the providers read.`;

/** Not a secret worth keeping: it only guards the demo's throwaway state. */
const DEMO_PASSPHRASE = "mcp-tunnels-demo";
const DEFAULT_STACK = "demo";

class UsageError extends Error {}

interface Invocation {
  example: string;
  operation: Operation;
  config: Record<string, string>;
  json: boolean;
  diff: boolean;
  expectNoChanges: boolean;
  stackName: string;
}

function parseInvocation(argv: string[]): Invocation {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: "string", multiple: true },
        json: { type: "boolean" },
        diff: { type: "boolean" },
        "expect-no-changes": { type: "boolean" },
        stack: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const [example, operation, ...rest] = positionals;
  if (!example || !operation || rest.length > 0) throw new UsageError("expected an example and an operation");
  if (!(OPERATIONS as readonly string[]).includes(operation)) throw new UsageError(`unknown operation ${operation}`);
  const config: Record<string, string> = {};
  for (const pair of values.config ?? []) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new UsageError(`--config takes key=value, got a value without "="`);
    config[pair.slice(0, at)] = pair.slice(at + 1);
  }
  if (values.diff && values.json) throw new UsageError("--diff and --json do not combine: the JSON document has the diffs");
  if ((values.diff || values["expect-no-changes"]) && operation !== "preview") throw new UsageError("--diff and --expect-no-changes are preview options");
  if (values.json && operation !== "preview" && operation !== "outputs") throw new UsageError("--json is an option of preview and outputs");
  return {
    example,
    operation: operation as Operation,
    config,
    json: values.json ?? false,
    diff: values.diff ?? false,
    expectNoChanges: values["expect-no-changes"] ?? false,
    stackName: values.stack ?? DEFAULT_STACK,
  };
}

/** The repository: the first directory up from this file with the package's package.json. */
function repoRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, "utf8")).name === "pulumi-mcp-tunnels") return dir;
    if (path.dirname(dir) === dir) throw new Error("run-example must run from inside the pulumi-mcp-tunnels repository");
  }
}

function exampleDir(root: string, example: string): string {
  const examples = path.join(root, "examples");
  const available = fs.readdirSync(examples).filter((name) => fs.existsSync(path.join(examples, name, "program.ts")));
  if (!available.includes(example)) throw new UsageError(`no example named "${example}"; available: ${available.join(", ")}`);
  return path.join(examples, example);
}

function onPath(command: string, extraDirs: string[]): boolean {
  const dirs = [...extraDirs, ...(process.env.PATH ?? "").split(path.delimiter).filter(Boolean)];
  return dirs.some((dir) => {
    try {
      fs.accessSync(path.join(dir, command), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * What the engine and every provider process it starts get: the file backend and passphrase, no
 * update checks or plugin downloads, and module resolution from the repository's node_modules (the
 * serialized dynamic providers require `pulumi-mcp-tunnels` and `@pulumi/pulumi` at run time).
 */
function engineEnv(root: string, demoDir: string): Record<string, string> {
  const toolDirs = [path.join(root, ".tools", "pulumi", "bin"), path.join(root, ".tools", "node", "bin")].filter((dir) => fs.existsSync(dir));
  const stateDir = path.join(demoDir, "state");
  fs.mkdirSync(stateDir, { recursive: true });
  return {
    PATH: [...toolDirs, process.env.PATH ?? ""].join(path.delimiter),
    PULUMI_HOME: process.env.PULUMI_HOME ?? path.join(demoDir, "pulumi-home"),
    PULUMI_BACKEND_URL: `file://${stateDir}`,
    PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? DEMO_PASSPHRASE,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_CREDENTIAL_STORE: "plaintext",
    NODE_PATH: path.join(root, "node_modules"),
    // Provider processes run in another directory: a relative cache path would split the cache.
    MCP_TUNNELS_CACHE_DIR: path.resolve(process.env.MCP_TUNNELS_CACHE_DIR ?? path.join(demoDir, "cache")),
  };
}

/**
 * Lets `require` load the examples' TypeScript the way Pulumi's Node.js runtime does for a
 * project directory: transpiled to CommonJS on load (the typecheck is `make lint`'s job).
 */
function loadTypeScriptFrom(dir: string): void {
  // Resolved from the repository: TypeScript is a development dependency, like the examples.
  const ts: typeof import("typescript") = require("typescript");
  const prefix = dir + path.sep;
  const previous = require.extensions[".ts"];
  require.extensions[".ts"] = (module, filename) => {
    if (!filename.startsWith(prefix)) {
      if (!previous) throw new Error(`no loader for ${filename}`);
      return previous(module, filename);
    }
    const { outputText } = ts.transpileModule(fs.readFileSync(filename, "utf8"), {
      fileName: filename,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, inlineSourceMap: true },
    });
    (module as unknown as { _compile(code: string, filename: string): void })._compile(outputText, filename);
  };
}

async function openStack(root: string, demoDir: string, invocation: Invocation, dir: string): Promise<Stack> {
  const envVars = engineEnv(root, demoDir);
  fs.mkdirSync(envVars.PULUMI_HOME!, { recursive: true });
  const toolchain = path.join(root, ".tools", "pulumi");
  const options: LocalWorkspaceOptions = { pulumiHome: envVars.PULUMI_HOME!, envVars, secretsProvider: "passphrase" };

  if (onPath("pulumi-language-nodejs", [path.join(toolchain, "bin")])) {
    // A project directory, exactly as `pulumi up` in examples/<name> would run it.
    process.env.PATH = envVars.PATH;
    return LocalWorkspace.createOrSelectStack({ stackName: invocation.stackName, workDir: dir }, { ...options, pulumiCommand: await PulumiCommand.get() });
  }

  const pulumiCommand = await PulumiCommand.get({ root: toolchain });
  // The example's own Pulumi.yaml, read by the Automation API; the stack's config file lives under
  // the demo directory so that running the demo never writes into the source tree.
  const projectSettings = await (await LocalWorkspace.create({ workDir: dir, pulumiCommand })).projectSettings();
  const workDir = path.join(demoDir, "projects", invocation.example);
  fs.mkdirSync(workDir, { recursive: true });
  loadTypeScriptFrom(path.dirname(dir));
  const program = async () => {
    const build = require(path.join(dir, "program.ts")).default as () => Record<string, unknown>;
    return build();
  };
  return LocalWorkspace.createOrSelectStack(
    { stackName: invocation.stackName, projectName: projectSettings.name, program },
    { ...options, workDir, projectSettings, pulumiCommand },
  );
}

/** Config keys as the engine stores them: unqualified keys belong to the project. */
function qualified(projectName: string, key: string): string {
  return key.includes(":") ? key : `${projectName}:${key}`;
}

/** Sets `overrides`, runs `operation`, and puts the previous values back, also on failure. */
async function withConfigFor<T>(stack: Stack, projectName: string, overrides: Record<string, string>, operation: () => Promise<T>): Promise<T> {
  if (Object.keys(overrides).length === 0) return operation();
  const before: ConfigMap = await stack.getAllConfig();
  await stack.setAllConfig(Object.fromEntries(Object.entries(overrides).map(([key, value]) => [key, { value }])));
  try {
    return await operation();
  } finally {
    for (const key of Object.keys(overrides)) {
      const previous = before[qualified(projectName, key)];
      if (previous) await stack.setConfig(key, previous);
      else await stack.removeConfig(key);
    }
  }
}

/** `pulumi stack output --json` as the CLI prints it: every secret, also a nested one, masked. */
async function maskedOutputs(stack: Stack): Promise<Record<string, unknown>> {
  const workspace = stack.workspace as LocalWorkspace;
  const env = { ...workspace.envVars, ...(workspace.pulumiHome ? { PULUMI_HOME: workspace.pulumiHome } : {}) };
  const { stdout } = await execFileAsync(workspace.pulumiCommand.command, ["stack", "output", "--json", "--stack", stack.name], {
    cwd: workspace.workDir,
    env: { ...process.env, ...env },
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

function printOutputs(title: string, outputs: Record<string, unknown>): void {
  const lines = [`${title} (secrets masked):`];
  for (const [name, value] of Object.entries(outputs).sort(([a], [b]) => a.localeCompare(b))) {
    const text = typeof value === "string" ? value.replace(/\n$/, "") : JSON.stringify(value, null, 2);
    const [first, ...more] = text.split("\n");
    lines.push(`  ${name}: ${first}`, ...more.map((line) => `    ${line}`));
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

async function main(): Promise<void> {
  const invocation = parseInvocation(process.argv.slice(2));
  const root = repoRoot();
  const dir = exampleDir(root, invocation.example);
  const demoDir = path.resolve(process.env.MCP_TUNNELS_DEMO_DIR ?? path.join(root, ".demo"));
  const stack = await openStack(root, demoDir, invocation, dir);
  const projectName = (await stack.workspace.projectSettings()).name;
  const streams = {
    onOutput: (text: string) => process.stdout.write(text),
    onError: (text: string) => process.stderr.write(text),
    color: process.stdout.isTTY ? ("always" as const) : ("never" as const),
  };

  switch (invocation.operation) {
    case "preview": {
      if (invocation.json) {
        // The Automation API reads the engine's event log, not stdout, so the CLI's own JSON
        // document can go to stdout unchanged.
        stack.workspace.serializeArgsForOp = async () => ["--json"];
      }
      await withConfigFor(stack, projectName, invocation.config, () =>
        stack.preview({ ...streams, diff: invocation.diff, expectNoChanges: invocation.expectNoChanges }),
      );
      return;
    }
    case "outputs": {
      const outputs = await maskedOutputs(stack);
      if (invocation.json) process.stdout.write(`${JSON.stringify(outputs, null, 2)}\n`);
      else printOutputs(`Outputs of ${projectName}/${stack.name}`, outputs);
      return;
    }
  }

  if (Object.keys(invocation.config).length > 0) {
    await stack.setAllConfig(Object.fromEntries(Object.entries(invocation.config).map(([key, value]) => [key, { value }])));
  }
  if (invocation.operation === "up") await stack.up(streams);
  else if (invocation.operation === "refresh") await stack.refresh(streams);
  else await stack.destroy(streams);
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`run-example: ${error.message}\n${USAGE}\n`);
    process.exit(2);
  }
  // A failed CLI run already printed its own output; its CommandError repeats all of it.
  const result = (error as { commandResult?: { code?: number } }).commandResult;
  process.stderr.write(result ? `run-example: pulumi exited with code ${result.code}\n` : `run-example: ${(error as Error).message}\n`);
  process.exit(1);
});
