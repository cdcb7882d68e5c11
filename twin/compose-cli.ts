#!/usr/bin/env node
import { edgeUrlFor } from "../emulator/index";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { ComposeError } from "./compose-error";
import { ComposeProject, type ComposeProjectOptions } from "./compose-runner";

const USAGE = `usage: compose-cli [-f FILE] [--emulator URL] [--name HOST=IPV4]... COMMAND
  config                       print the resolved project (values included, as docker compose config does)
  up [SERVICE...]              start the twins and print their logs until interrupted, then stop them
  run [--rm] SERVICE [ARGS...] run a one-off container and exit with its code
--emulator URL is the emulator's base URL: its edge for cloudflared, and https://api.anthropic.com for setup.`;

const API_URL = "https://api.anthropic.com";
const GLOBAL_VALUE_OPTIONS = new Set(["-f", "--file", "--emulator", "--name"]);
const COMMANDS = new Set(["config", "up", "run"]);

export interface CliIo {
  env: Record<string, string | undefined>;
  out(text: string): void;
  err(text: string): void;
  /** Resolves when the user interrupts an attached `up` (SIGINT/SIGTERM). */
  interrupted(): Promise<void>;
}

class UsageError extends Error {}

/** `docker compose` for twins, for a human at a terminal; returns the exit code. */
export async function composeCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const { globals, command, rest } = splitCommand(argv);
    const { values } = parseArgs({
      args: globals,
      options: { file: { type: "string", short: "f" }, emulator: { type: "string" }, name: { type: "string", multiple: true } },
      strict: true,
      allowPositionals: false,
    });
    if (command === undefined || !COMMANDS.has(command)) throw new UsageError(command === undefined ? "no command given" : `unknown command ${command}`);
    const file = path.resolve(values.file ?? "docker-compose.yml");
    const emulator = (values.emulator ?? "http://127.0.0.1:4000").replace(/\/$/, "");
    const options: ComposeProjectOptions = {
      env: io.env,
      file: path.basename(file),
      outside: {
        edgeUrl: edgeUrlFor(emulator),
        rewriteUrl: (url) => (url.replace(/\/$/, "") === API_URL ? emulator : url),
      },
      names: Object.fromEntries((values.name ?? []).map(parseName)),
      onLog: (service, line) => io.out(`${service.padEnd(12)} | ${line}\n`),
    };
    const project = ComposeProject.load(path.dirname(file), options);
    for (const warning of project.warnings.splice(0)) io.err(`WARN ${warning}\n`);

    switch (command) {
      case "config": {
        const model = project.config();
        io.out(stringify({ name: model.name, services: Object.fromEntries(model.services) }));
        return 0;
      }
      case "up": {
        await project.up(rest);
        await io.interrupted();
        await project.down();
        return 0;
      }
      case "run": {
        const rm = rest[0] === "--rm";
        const [service, ...args] = rm ? rest.slice(1) : rest;
        if (service === undefined) throw new UsageError("run needs a SERVICE");
        const result = await project.run(service, args, { rm });
        await project.down();
        return result.exitCode;
      }
    }
    return 2;
  } catch (error) {
    if (error instanceof UsageError || (error as NodeJS.ErrnoException).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      io.err(`${(error as Error).message}\n${USAGE}\n`);
      return 2;
    }
    if (error instanceof ComposeError) {
      io.err(`${error.message}\n${error.hint ? `hint: ${error.hint}\n` : ""}`);
      return 1;
    }
    throw error;
  }
}

/** Global options come before the command; everything after it belongs to the command (run's ARGS may look like options). */
function splitCommand(argv: readonly string[]): { globals: string[]; command: string | undefined; rest: string[] } {
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i]!;
    if (GLOBAL_VALUE_OPTIONS.has(arg)) i += 2;
    else if (arg.startsWith("-")) i += 1;
    else break;
  }
  return { globals: argv.slice(0, i), command: argv[i], rest: argv.slice(i + 1) };
}

function parseName(entry: string): [string, string] {
  const match = /^([^=]+)=(\d{1,3}(?:\.\d{1,3}){3})$/.exec(entry);
  if (!match) throw new UsageError(`--name takes HOST=IPV4, got ${entry}`);
  return [match[1]!, match[2]!];
}

if (require.main === module) {
  const io: CliIo = {
    env: process.env,
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    interrupted: () => new Promise((resolve) => ["SIGINT", "SIGTERM"].forEach((signal) => process.once(signal, () => resolve()))),
  };
  composeCli(process.argv.slice(2), io).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
