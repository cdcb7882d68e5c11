#!/usr/bin/env node
import { runCommandGroup, type CommandGroup } from "./command-line";
import { planCommand } from "./plan-command";

// The package's own manifest, by its name: the same file in the repository and once installed.
const { version } = require("pulumi-mcp-tunnels/package.json") as { version: string };

export const mcpTunnels: CommandGroup = {
  name: "mcp-tunnels",
  summary: "Tools for the MCP tunnels that pulumi-mcp-tunnels manages.",
  version,
  commands: [planCommand()],
};

if (require.main === module) {
  runCommandGroup(mcpTunnels, process.argv.slice(2), process).then((status) => {
    process.exitCode = status;
  });
}
