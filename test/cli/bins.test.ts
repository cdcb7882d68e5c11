import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TYPE_MODULE } from "../../core/schemas/field";

// The bins as `make build` compiles them and the package ships them.
const REPO = resolve(__dirname, "../..");
const BIN = {
  "mcp-tunnels": join(REPO, "dist/sdk/cli/mcp-tunnels.js"),
  "mcp-tunnels-emulator": join(REPO, "dist/emulator/cli.js"),
  "run-example": join(REPO, "dist/scripts/run-example.js"),
  "pulumi-resource-mcp-tunnels": join(REPO, "dist/native/provider-main.js"),
} as const;
const { version } = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string };

const scratch = mkdtempSync(join(tmpdir(), "mcp-tunnels-cli-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const previewFile = join(scratch, "preview.json");
writeFileSync(
  previewFile,
  JSON.stringify({
    steps: [{ op: "create", urn: `urn:pulumi:dev::p::pulumi-nodejs:dynamic/${TYPE_MODULE}:Tunnel::prod-tunnel`, newState: { inputs: { displayName: "prod-mcp" } } }],
  }),
);

function run(bin: keyof typeof BIN, args: string[], stdin = "") {
  const result = spawnSync(process.execPath, [BIN[bin], ...args], { input: stdin, encoding: "utf8", cwd: scratch, timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

type Stream = "stdout" | "stderr";
const USAGE_HINT = /Run '[^']+ --help' for usage\.\n$/;

describe("the package's commands answer --help on stdout and refuse what they do not know with exit 2", () => {
  const table: [string, keyof typeof BIN, string[], number, Stream, RegExp][] = [
    ["the program's help", "mcp-tunnels", ["--help"], 0, "stdout", /^usage: mcp-tunnels <command> \[options\][\s\S]*\n  plan   summarize `pulumi preview --json`/],
    ["the program's short help", "mcp-tunnels", ["-h"], 0, "stdout", /^usage: mcp-tunnels <command>/],
    ["help as a command", "mcp-tunnels", ["help"], 0, "stdout", /^usage: mcp-tunnels <command>/],
    ["help about a command", "mcp-tunnels", ["help", "plan"], 0, "stdout", /^usage: mcp-tunnels plan \[FILE\]/],
    ["plan's help, not a file named --help", "mcp-tunnels", ["plan", "--help"], 0, "stdout", /^usage: mcp-tunnels plan \[FILE\]\n[\s\S]*npx --no --offline mcp-tunnels plan/],
    ["plan's short help", "mcp-tunnels", ["plan", "-h"], 0, "stdout", /^usage: mcp-tunnels plan \[FILE\]/],
    ["the version", "mcp-tunnels", ["--version"], 0, "stdout", new RegExp(`^${version.replace(/\./g, "\\.")}\n$`)],
    ["no command", "mcp-tunnels", [], 2, "stderr", /^mcp-tunnels: missing command\n/],
    ["an unknown command", "mcp-tunnels", ["frobnicate"], 2, "stderr", /^mcp-tunnels: unknown command "frobnicate"\n/],
    ["an unknown option before the command", "mcp-tunnels", ["--frobnicate"], 2, "stderr", /^mcp-tunnels: unknown option "--frobnicate"\n/],
    ["help about an unknown command", "mcp-tunnels", ["help", "frobnicate"], 2, "stderr", /unknown command "frobnicate"/],
    ["an unknown option of plan", "mcp-tunnels", ["plan", "--frobnicate"], 2, "stderr", /^mcp-tunnels plan: Unknown option '--frobnicate'/],
    ["two files for plan", "mcp-tunnels", ["plan", "a.json", "b.json"], 2, "stderr", /^mcp-tunnels plan: unexpected argument "b.json"\n/],
    ["a missing file", "mcp-tunnels", ["plan", "missing.json"], 1, "stderr", /^mcp-tunnels plan: no such file "missing.json"\n$/],
    ["a file", "mcp-tunnels", ["plan", previewFile], 0, "stdout", /Tunnel \*\*prod-tunnel\*\* will be created \(`prod-mcp`\)/],
    ["the emulator's help", "mcp-tunnels-emulator", ["--help"], 0, "stdout", /^usage: mcp-tunnels-emulator \[--port N\] \[--host ADDRESS\] \[--state FILE\]\n/],
    ["the emulator's short help", "mcp-tunnels-emulator", ["-h"], 0, "stdout", /^usage: mcp-tunnels-emulator/],
    ["an unknown emulator option", "mcp-tunnels-emulator", ["--frobnicate"], 2, "stderr", /^mcp-tunnels-emulator: Unknown option '--frobnicate'/],
    ["an emulator argument", "mcp-tunnels-emulator", ["8787"], 2, "stderr", /^mcp-tunnels-emulator: unexpected argument "8787"\n/],
    ["a port that is not a number", "mcp-tunnels-emulator", ["--port", "http"], 2, "stderr", /^mcp-tunnels-emulator: --port must be an integer from 0 to 65535\n/],
    ["the resource plugin's help (the engine runs it; a person may still ask)", "pulumi-resource-mcp-tunnels", ["--help"], 0, "stdout", /^usage: pulumi-resource-mcp-tunnels \[ENGINE_ADDRESS\]\n/],
    ["the resource plugin's version", "pulumi-resource-mcp-tunnels", ["--version"], 0, "stdout", new RegExp(`^${version.replace(/\./g, "\\.")}\n$`)],
    ["the example runner's help", "run-example", ["--help"], 0, "stdout", /^usage: node dist\/scripts\/run-example\.js <example>/],
    ["an unknown example-runner option", "run-example", ["quickstart", "up", "--frobnicate"], 2, "stderr", /Unknown option '--frobnicate'/],
  ];

  it.each(table)("%s: %s %j exits %i with its text on %s", (_, bin, args, status, stream, text) => {
    const result = run(bin, args);
    expect(result.status).toBe(status);
    expect(result[stream]).toMatch(text);
    expect(result[stream === "stdout" ? "stderr" : "stdout"]).toBe("");
    if (status === 2 && bin !== "run-example" && bin !== "pulumi-resource-mcp-tunnels") expect(result.stderr).toMatch(USAGE_HINT);
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });

  it.each([["-"], []])("plan %j reads standard input", (...args: string[]) => {
    const result = run("mcp-tunnels", args.length ? ["plan", ...args] : ["plan"], readFileSync(previewFile, "utf8"));
    expect(result).toMatchObject({ status: 0, stderr: "" });
    expect(result.stdout).toContain("Tunnel **prod-tunnel** will be created");
  });

  it("plan answers input that is not a preview with one line and exit 1", () => {
    expect(run("mcp-tunnels", ["plan"], "not json")).toEqual({
      status: 1,
      stdout: "",
      stderr: "mcp-tunnels plan: the input is not JSON: pass the output of `pulumi preview --json`\n",
    });
  });

  it("the emulator started with --port 0 says where it listens and stops on SIGTERM", async () => {
    const child = spawn(process.execPath, [BIN["mcp-tunnels-emulator"], "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
    const firstLine = await new Promise<string>((resolveLine, reject) => {
      let seen = "";
      child.stdout.on("data", (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes("\n")) resolveLine(seen);
      });
      child.once("exit", (code) => reject(new Error(`exited ${code} before listening`)));
    });
    expect(firstLine).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+\n$/);
    const exit = new Promise<number | null>((resolveExit) => child.once("exit", resolveExit));
    child.kill("SIGTERM");
    expect(await exit).toBe(0);
  });
});
