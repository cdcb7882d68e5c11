#!/usr/bin/env node
import { EXIT, runCommand, UsageError, type Command } from "../sdk/cli/command-line";
import { startEmulator } from "./index";

export const emulatorCommand: Command = {
  invocation: "mcp-tunnels-emulator",
  summary: "a local Tunnels API",
  synopsis: "[--port N] [--host ADDRESS] [--state FILE]",
  details: `Serves a faithful local Tunnels API (tunnels, certificates, tokens, the Workload Identity
Federation exchange, admin objects), the tunnel edge, and the /_emulator/ control plane, then
prints "listening on http://<host>:<port>" once it is ready. Stops on SIGINT or SIGTERM.

options:
  --port N         TCP port (default 0: any free port; the line printed says which)
  --host ADDRESS   address to bind (default 127.0.0.1; the control plane answers loopback only)
  --state FILE     keep every change in FILE (written atomically) and load it on start`,
  options: { port: { type: "string" }, host: { type: "string" }, state: { type: "string" } },
  positionals: { min: 0, max: 0 },
  async run({ values }, io) {
    const port = values.port === undefined ? 0 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError("--port must be an integer from 0 to 65535");
    const host = typeof values.host === "string" ? values.host : "127.0.0.1";
    const state = typeof values.state === "string" ? values.state : undefined;
    const emulator = await startEmulator({ port, host, ...(state ? { statePath: state } : {}) });
    let closing = false;
    const stop = () => {
      if (closing) return;
      closing = true;
      emulator.close().then(
        () => process.exit(EXIT.ok),
        () => process.exit(EXIT.failure),
      );
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
    io.stdout.write(`listening on ${emulator.baseUrl}\n`);
    return EXIT.ok;
  },
};

if (require.main === module) {
  runCommand(emulatorCommand, process.argv.slice(2), process).then((status) => {
    if (status !== EXIT.ok) process.exit(status);
  });
}
