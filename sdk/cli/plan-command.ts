import * as fs from "node:fs";
import { parsePreviewJson } from "../../core/plan/preview-json";
import { summarizePlan } from "../../core/plan/plan-summary";
import { EXIT, UsageError, type Command } from "./command-line";

export interface PlanInput {
  /** Whether standard input is a terminal: then nothing is piped in and reading it would wait forever. */
  stdinIsTerminal: boolean;
  readFile(path: string | 0): string;
}

const fromProcess: PlanInput = {
  get stdinIsTerminal() {
    return process.stdin.isTTY === true;
  },
  readFile: (path) => fs.readFileSync(path, "utf8"),
};

export function planCommand(input: PlanInput = fromProcess): Command {
  return {
    invocation: "mcp-tunnels plan",
    summary: "summarize `pulumi preview --json` for a pull request",
    synopsis: "[FILE]",
    details: `Reads the JSON document \`pulumi preview --json\` prints (from FILE, or standard input when
FILE is - or omitted) and prints a Markdown summary of what the plan does to MCP tunnels, tunnel
tokens, CA registrations, certificates and federation bindings: rotations with their reasons,
CA overlaps in the order they happen, archives that cannot be undone, and what updates with them.

example (run this package's installed bin, never one fetched from the registry):
  pulumi preview --json | npx --no --offline mcp-tunnels plan >> "$GITHUB_STEP_SUMMARY"`,
    options: {},
    positionals: { min: 0, max: 1 },
    run({ positionals }, io) {
      const file = positionals[0];
      const fromStdin = file === undefined || file === "-";
      if (fromStdin && input.stdinIsTerminal) {
        throw new UsageError("nothing to read: pipe `pulumi preview --json` into it, or name a file");
      }
      let text: string;
      try {
        text = input.readFile(fromStdin ? 0 : file);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new Error(code === "ENOENT" ? `no such file ${JSON.stringify(file)}` : `cannot read ${fromStdin ? "standard input" : JSON.stringify(file)}: ${(error as Error).message}`);
      }
      io.stdout.write(summarizePlan(parsePreviewJson(text)));
      return EXIT.ok;
    },
  };
}
