import { ComposeError } from "./compose-error";

/**
 * Splits a string `command` or `entrypoint` into words as Compose does (shell-words rules, no
 * shell): blanks separate words, single quotes are literal, double quotes keep blanks and honour
 * `\"`, `\\`, `\$` and `` \` ``, a backslash outside quotes escapes the next character.
 * No variables are expanded here: interpolation already ran over the whole file.
 */
export function splitCommandLine(line: string, where: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i += 1) {
    const ch = line[i]!;
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else word += ch;
      continue;
    }
    if (quote === '"') {
      if (ch === '"') quote = undefined;
      else if (ch === "\\" && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!)) word += line[++i];
      else word += ch;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === "\\" && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote) throw new ComposeError("FILE_INVALID", `${where}: invalid command line string (unterminated ${quote === "'" ? "single" : "double"} quote)`, "close the quote, or write the command as a YAML list");
  if (inWord) words.push(word);
  return words;
}
