import { parseArgs, type ParseArgsOptionsConfig } from "node:util";

/** Exit statuses every command of this package uses: 2 is a usage error, as in POSIX utilities. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export interface CommandIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

export interface ParsedCommandLine {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

export interface Command {
  /** The words that invoke it, e.g. `mcp-tunnels plan`. */
  invocation: string;
  /** One line, shown in the parent's command list. */
  summary: string;
  /** The synopsis after the invocation, e.g. `[FILE]`. */
  synopsis: string;
  /** Paragraphs after the synopsis: what it does, its options, an example. */
  details: string;
  options: ParseArgsOptionsConfig;
  positionals: { min: number; max: number };
  run(parsed: ParsedCommandLine, io: CommandIo): Promise<number> | number;
}

/** A usage mistake: reported with a pointer to `--help` and exit status 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

const HELP_OPTION = { help: { type: "boolean", short: "h" } } as const satisfies ParseArgsOptionsConfig;

export function helpText(command: Command): string {
  return `usage: ${command.invocation} ${command.synopsis}\n\n${command.details.trim()}\n\n  -h, --help   print this help and exit\n`;
}

/**
 * Parses `argv` strictly (unknown flags and surplus arguments are usage errors), answers `--help`
 * on stdout, and runs the command. Failures of the command itself are printed as one line, with
 * no stack trace: what a user can act on is the message.
 */
export async function runCommand(command: Command, argv: string[], io: CommandIo): Promise<number> {
  let parsed: ParsedCommandLine;
  try {
    parsed = parseArgs({ args: argv, options: { ...command.options, ...HELP_OPTION }, strict: true, allowPositionals: true });
    if (parsed.values.help === true) {
      io.stdout.write(helpText(command));
      return EXIT.ok;
    }
    const count = parsed.positionals.length;
    if (count < command.positionals.min) throw new UsageError(`missing argument: expected ${command.synopsis}`);
    if (count > command.positionals.max) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[command.positionals.max])}`);
  } catch (error) {
    return usageFailure(command.invocation, error, io);
  }
  try {
    return await command.run(parsed, io);
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(command.invocation, error, io);
    io.stderr.write(`${command.invocation}: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.failure;
  }
}

/** A program with subcommands: `<name> <command> …`, `<name> --help`, `<name> --version`. */
export interface CommandGroup {
  name: string;
  summary: string;
  version: string;
  commands: Command[];
}

export function groupHelpText(group: CommandGroup): string {
  const width = Math.max(...group.commands.map((c) => c.invocation.length - group.name.length - 1));
  const list = group.commands.map((c) => `  ${c.invocation.slice(group.name.length + 1).padEnd(width)}   ${c.summary}`).join("\n");
  return (
    `usage: ${group.name} <command> [options]\n\n${group.summary}\n\ncommands:\n${list}\n\n` +
    `  -h, --help      print this help and exit\n  -v, --version   print the version and exit\n\n` +
    `Run '${group.name} <command> --help' for a command's options.\n`
  );
}

export async function runCommandGroup(group: CommandGroup, argv: string[], io: CommandIo): Promise<number> {
  const [first, ...rest] = argv;
  const command = group.commands.find((c) => c.invocation === `${group.name} ${first}`);
  if (command) return runCommand(command, rest, io);
  if (first === "--help" || first === "-h" || first === "help") {
    if (rest.length > 0 && first !== "help") return usageFailure(group.name, new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`), io);
    const about = first === "help" && rest[0] ? group.commands.find((c) => c.invocation === `${group.name} ${rest[0]}`) : undefined;
    if (first === "help" && rest[0] && !about) return usageFailure(group.name, new UsageError(`unknown command ${JSON.stringify(rest[0])}`), io);
    io.stdout.write(about ? helpText(about) : groupHelpText(group));
    return EXIT.ok;
  }
  if ((first === "--version" || first === "-v") && rest.length === 0) {
    io.stdout.write(`${group.version}\n`);
    return EXIT.ok;
  }
  const problem =
    first === undefined ? "missing command" : first.startsWith("-") ? `unknown option ${JSON.stringify(first)}` : `unknown command ${JSON.stringify(first)}`;
  return usageFailure(group.name, new UsageError(problem), io);
}

function usageFailure(invocation: string, error: unknown, io: CommandIo): number {
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`${invocation}: ${message}\nRun '${invocation} --help' for usage.\n`);
  return EXIT.usage;
}
