import { ComposeError } from "./compose-error";

/** A variable's value as Compose sees it: undefined when unset, which differs from "" for `-` and `?`. */
export type VariableLookup = (name: string) => string | undefined;

const NAME = /^[_a-z][_a-z0-9]*/i;

/** What `docker compose` prints, word for word, when a plain `${VAR}` or `$VAR` is unset. */
export function unsetVariableWarning(name: string): string {
  return `The "${name}" variable is not set. Defaulting to a blank string.`;
}

/**
 * Compose's variable substitution for one string: `$VAR`, `${VAR}`, `${VAR:-default}`,
 * `${VAR-default}`, `${VAR:?message}`, `${VAR?message}`, `${VAR:+alternative}`,
 * `${VAR+alternative}` and `$$`. Defaults, alternatives and messages are substituted in turn,
 * so `${A:-${B}}` works as in Compose v2. Unset plain variables become "" and are pushed onto
 * `unset`, for the warning. `where` names the place in the file for the error, as Compose does.
 */
export function interpolate(template: string, lookup: VariableLookup, where: string, unset: string[] = []): string {
  let out = "";
  let i = 0;
  while (i < template.length) {
    const ch = template[i]!;
    if (ch !== "$") {
      out += ch;
      i += 1;
      continue;
    }
    const next = template[i + 1];
    if (next === "$") {
      out += "$";
      i += 2;
      continue;
    }
    if (next === "{") {
      const close = closingBrace(template, i);
      if (close < 0) throw invalidTemplate(where);
      out += substituteBraced(template.slice(i + 2, close), lookup, where, unset);
      i = close + 1;
      continue;
    }
    const name = NAME.exec(template.slice(i + 1))?.[0];
    // Compose rejects a `$` that starts nothing (`$1`, `$(pwd)`, a trailing `$`) instead of keeping it.
    if (!name) throw invalidTemplate(where);
    out += plain(name, lookup, unset);
    i += 1 + name.length;
  }
  return out;
}

function substituteBraced(body: string, lookup: VariableLookup, where: string, unset: string[]): string {
  const name = NAME.exec(body)?.[0];
  if (!name) throw invalidTemplate(where);
  const rest = body.slice(name.length);
  if (rest === "") return plain(name, lookup, unset);
  const operator = /^:?[-?+]/.exec(rest)?.[0];
  if (!operator) throw invalidTemplate(where);
  const argument = () => interpolate(rest.slice(operator.length), lookup, where, unset);
  const value = lookup(name);
  const present = operator.startsWith(":") ? value !== undefined && value !== "" : value !== undefined;
  switch (operator.at(-1)) {
    case "-":
      return present ? value! : argument();
    case "+":
      return present ? argument() : "";
    default: {
      if (present) return value!;
      const message = argument();
      throw new ComposeError(
        "VARIABLE_REQUIRED",
        `error while interpolating ${where}: required variable ${name} is missing a value${message ? `: ${message}` : ""}`,
        `set ${name} in the shell or in the project's .env`,
      );
    }
  }
}

function plain(name: string, lookup: VariableLookup, unset: string[]): string {
  const value = lookup(name);
  if (value !== undefined) return value;
  unset.push(name);
  return "";
}

/** The `}` that closes the `${` at `start`, counting nested `${`; -1 when it is never closed. */
function closingBrace(template: string, start: number): number {
  let depth = 0;
  for (let i = start; i < template.length; i += 1) {
    if (template.startsWith("${", i)) {
      depth += 1;
      i += 1;
    } else if (template[i] === "}") {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function invalidTemplate(where: string): ComposeError {
  // The template is not quoted back: it may be a value from .env.
  return new ComposeError("INTERPOLATION_INVALID", `invalid interpolation format for ${where}. You may need to escape any $ with another $.`, "write a literal $ as $$");
}

/**
 * Substitutes every string value of a parsed compose document (keys stay as written), as
 * Compose does before it looks at any service, so `${VAR:?...}` in a service nobody starts
 * still fails the command. Returns the substituted copy and the warnings, one per unset name.
 */
export function interpolateDocument(document: unknown, lookup: VariableLookup): { document: unknown; warnings: string[] } {
  const unset: string[] = [];
  const walk = (value: unknown, where: string): unknown => {
    if (typeof value === "string") return interpolate(value, lookup, where, unset);
    if (Array.isArray(value)) return value.map((item) => walk(item, `${where}.[]`));
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walk(item, where === "" ? key : `${where}.${key}`)]));
    }
    return value;
  };
  const substituted = walk(document, "");
  return { document: substituted, warnings: [...new Set(unset)].map(unsetVariableWarning) };
}
