#!/usr/bin/env node
import { parseArgs } from "node:util";
import { startEmulator } from "./index";

const USAGE = "usage: mcp-tunnels-emulator --port <n> [--host 127.0.0.1] [--state <file>]";

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values: { port?: string; host?: string; state?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: { port: { type: "string" }, host: { type: "string" }, state: { type: "string" }, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) fail("--port must be an integer from 0 to 65535");

  const emulator = await startEmulator({ port, host: values.host ?? "127.0.0.1", ...(values.state ? { statePath: values.state } : {}) });
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.stdout.write(`listening on ${emulator.baseUrl}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`mcp-tunnels-emulator: ${(error as Error).message}\n`);
  process.exit(1);
});
