import { describe, expect, it } from "vitest";
import { splitCommandLine } from "./compose-command-line";

describe("splitCommandLine", () => {
  it.each([
    ["tunnel --no-autoupdate run --url http://localhost:8080", ["tunnel", "--no-autoupdate", "run", "--url", "http://localhost:8080"]],
    ["  leading   and  trailing  ", ["leading", "and", "trailing"]],
    ["init '--flag=a b'", ["init", "--flag=a b"]],
    ['say "a \\"quoted\\" word"', ["say", 'a "quoted" word']],
    ['"" empty', ["", "empty"]],
    ["back\\ slash", ["back slash"]],
    ["'$NOT_EXPANDED'", ["$NOT_EXPANDED"]],
    ["", []],
  ])("splits %j", (line, words) => {
    expect(splitCommandLine(line, "services.x.command")).toEqual(words);
  });

  it("rejects an unterminated quote", () => {
    expect(() => splitCommandLine("run 'open", "services.x.command")).toThrow(/services\.x\.command: invalid command line string/);
  });
});
