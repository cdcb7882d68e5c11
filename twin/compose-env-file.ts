import * as fs from "node:fs";
import { ComposeError } from "./compose-error";
import { interpolate, unsetVariableWarning, type VariableLookup } from "./compose-interpolation";

export interface EnvFile {
  /** In file order; a later line for the same name wins. */
  values: Map<string, string>;
  warnings: string[];
}

const KEY = /^[A-Za-z0-9_.-]+$/;

/**
 * Compose v2's dotenv dialect: `KEY=value`, `export KEY=value`, `#` comments (inline only after
 * whitespace on unquoted values), single quotes literal, double quotes with `\n`-style escapes,
 * `${VAR}` substituted in unquoted and double-quoted values (from `lookup`, then from earlier
 * lines), and a bare `KEY` that takes its value from `lookup` or is dropped when unset.
 * `source` names the file in errors, which give the line but never the value.
 */
export function parseEnvFile(text: string, lookup: VariableLookup, source: string): EnvFile {
  const values = new Map<string, string>();
  const unset: string[] = [];
  const resolve: VariableLookup = (name) => lookup(name) ?? values.get(name);
  let i = 0;
  let line = 1;
  const fail = (what: string) => new ComposeError("ENV_FILE_INVALID", `${source}:${line}: ${what}`, "one KEY=value per line; quote values that contain spaces or #");

  while (i < text.length) {
    const end = text.indexOf("\n", i);
    const lineEnd = end < 0 ? text.length : end;
    const raw = text.slice(i, lineEnd);
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) {
      i = lineEnd + 1;
      line += 1;
      continue;
    }
    const statement = trimmed.replace(/^export\s+/, "");
    const equals = statement.indexOf("=");
    const key = (equals < 0 ? statement : statement.slice(0, equals)).trim();
    if (!KEY.test(key)) throw fail("a variable name may only hold letters, digits, '_', '.' and '-'");
    if (equals < 0) {
      const inherited = lookup(key);
      if (inherited !== undefined) values.set(key, inherited);
      i = lineEnd + 1;
      line += 1;
      continue;
    }
    const valueStart = i + raw.indexOf(statement) + equals + 1;
    let j = valueStart;
    while (text[j] === " " || text[j] === "\t") j += 1;
    const quote = text[j];
    if (quote === "'" || quote === '"') {
      let k = j + 1;
      while (k < text.length && !(text[k] === quote && text[k - 1] !== "\\")) k += 1;
      if (k >= text.length) throw fail("unterminated quoted value");
      const body = text.slice(j + 1, k);
      line += (body.match(/\n/g) ?? []).length;
      values.set(key, quote === "'" ? body : interpolate(unescape(body), resolve, `${source}:${line} ${key}`, unset));
      const after = text.indexOf("\n", k);
      const rest = text.slice(k + 1, after < 0 ? text.length : after).trim();
      if (rest !== "" && !rest.startsWith("#")) throw fail("unexpected text after a quoted value");
      i = after < 0 ? text.length : after + 1;
      line += 1;
      continue;
    }
    const unquoted = text.slice(j, lineEnd).replace(/\s+#.*$/, "").trimEnd();
    values.set(key, interpolate(unquoted, resolve, `${source}:${line} ${key}`, unset));
    i = lineEnd + 1;
    line += 1;
  }
  return { values, warnings: [...new Set(unset)].map(unsetVariableWarning) };
}

function unescape(body: string): string {
  return body.replace(/\\(.)/gs, (match, ch: string) => {
    switch (ch) {
      case "n":
        return "\n";
      case "r":
        return "\r";
      case "t":
        return "\t";
      case '"':
      case "\\":
        return ch;
      default:
        return match;
    }
  });
}

/** Reads and parses an env file; a missing or unreadable one fails as `docker compose` does. */
export function readEnvFile(hostPath: string, lookup: VariableLookup, required = true): EnvFile | undefined {
  let text: string;
  try {
    text = fs.readFileSync(hostPath, "utf8");
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new ComposeError("ENV_FILE_INVALID", `env file ${hostPath} not found: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : (error as Error).message}`, "create the file, or remove it from env_file");
  }
  return parseEnvFile(text, lookup, hostPath);
}
