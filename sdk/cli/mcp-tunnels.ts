#!/usr/bin/env node
import * as fs from "node:fs";
import { parsePreviewJson } from "../plan/preview-json";
import { summarizePlan } from "../plan/plan-summary";

const USAGE = `usage: mcp-tunnels plan [FILE]
  Reads \`pulumi preview --json\` (from FILE, or standard input) and prints a Markdown summary of
  what the plan does to MCP tunnels, tokens, CA registrations, certificates and federation bindings.
  e.g. pulumi preview --json | mcp-tunnels plan >> "$GITHUB_STEP_SUMMARY"`;

function main(argv: string[]): number {
  const [command, file, ...rest] = argv;
  if (command !== "plan" || rest.length > 0) {
    process.stderr.write(`${USAGE}\n`);
    return command === "--help" || command === "-h" ? 0 : 2;
  }
  try {
    const text = fs.readFileSync(file && file !== "-" ? file : 0, "utf8");
    process.stdout.write(summarizePlan(parsePreviewJson(text)));
    return 0;
  } catch (error) {
    process.stderr.write(`mcp-tunnels plan: ${(error as Error).message}\n`);
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
