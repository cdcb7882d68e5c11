#!/usr/bin/env node
// Copied into a user's (or a copied example's) project and run there with plain `node`, so the
// @pulumi/pulumi it requires is the project's own and the only copy in play. It runs the project's
// compiled program (bin/index.js, what `main` builds to) as an Automation API inline program:
// no pulumi-language-nodejs is needed for that. The workspace is the project directory, so the
// engine reads its Pulumi.yaml and the dynamic-provider plugin resolves @pulumi/pulumi and
// pulumi-mcp-tunnels from its node_modules. Backend, passphrase and PULUMI_HOME come from the
// environment; `pulumi` from PATH.
//
//   node driver.cjs <up|preview-no-changes|preview-json|destroy> [--config key=value ...]
//
// up and preview-no-changes print one JSON line; preview-json prints `pulumi preview --json`'s document.
"use strict";
const path = require("node:path");
const { parseArgs } = require("node:util");
const { LocalWorkspace, PulumiCommand } = require("@pulumi/pulumi/automation");

const STACK = "copied";
const projectDir = __dirname;
const entry = path.join(projectDir, "bin", "index.js");

async function main() {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { config: { type: "string", multiple: true } } });
  const [operation] = positionals;
  const pulumiCommand = await PulumiCommand.get();
  const { name: projectName } = await (await LocalWorkspace.create({ workDir: projectDir, pulumiCommand })).projectSettings();
  // A fresh require per operation: the module registers the resources as it loads, as in a new process.
  const program = async () => {
    delete require.cache[entry];
    return require(entry);
  };
  const stack = await LocalWorkspace.createOrSelectStack({ stackName: STACK, projectName, program }, { workDir: projectDir, pulumiCommand, secretsProvider: "passphrase" });
  for (const pair of values.config ?? []) {
    const at = pair.indexOf("=");
    await stack.setConfig(pair.slice(0, at), { value: pair.slice(at + 1) });
  }

  switch (operation) {
    case "up": {
      const result = await stack.up();
      const outputs = Object.fromEntries(Object.entries(result.outputs).map(([key, output]) => [key, output.secret ? "[secret]" : output.value]));
      process.stdout.write(`${JSON.stringify({ projectName, outputs, resourceChanges: result.summary.resourceChanges })}\n`);
      return;
    }
    case "preview-no-changes": {
      const result = await stack.preview({ expectNoChanges: true });
      process.stdout.write(`${JSON.stringify({ changeSummary: result.changeSummary })}\n`);
      return;
    }
    case "preview-json": {
      // The Automation API follows the engine's event log, so the CLI's own document reaches stdout.
      stack.workspace.serializeArgsForOp = async () => ["--json"];
      process.stdout.write((await stack.preview()).stdout);
      return;
    }
    case "destroy": {
      await stack.destroy();
      await stack.workspace.removeStack(STACK);
      process.stdout.write(`${JSON.stringify({ destroyed: STACK })}\n`);
      return;
    }
    default:
      throw new Error(`unknown operation ${operation}`);
  }
}

main().catch((error) => {
  process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
