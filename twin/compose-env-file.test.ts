import { describe, expect, it } from "vitest";
import { parseEnvFile } from "./compose-env-file";

const host: Record<string, string> = { HOST_ONLY: "from-host" };
const parse = (text: string) => Object.fromEntries(parseEnvFile(text, (name) => host[name], ".env").values);

describe("parseEnvFile", () => {
  it.each([
    ["A=1", { A: "1" }],
    ["export A=1", { A: "1" }],
    ["  A = spaced  ", { A: "spaced" }],
    ["A=", { A: "" }],
    ["A=x # comment", { A: "x" }],
    ["A=x#not-a-comment", { A: "x#not-a-comment" }],
    ["A='single $HOST_ONLY # kept'", { A: "single $HOST_ONLY # kept" }],
    ['A="double ${HOST_ONLY}"', { A: "double from-host" }],
    ['A="line\\nbreak"', { A: "line\nbreak" }],
    ['A="quote \\" inside"', { A: 'quote " inside' }],
    ['A="x" # trailing comment', { A: "x" }],
    ["A=1\nB=${A}2", { A: "1", B: "12" }],
    ["A=1\nA=2", { A: "2" }],
    ["# only a comment\n\n", {}],
    ["HOST_ONLY", { HOST_ONLY: "from-host" }],
    ["NOT_IN_HOST", {}],
    ["A=tok==", { A: "tok==" }],
    ["A='multi\nline'", { A: "multi\nline" }],
  ])("reads %j", (text, expected) => {
    expect(parse(text)).toEqual(expected);
  });

  it.each([
    ["A='unterminated", /unterminated quoted value/],
    ["BAD KEY=1", /variable name/],
    ['A="x" junk', /unexpected text/],
  ])("rejects %j with the line and without the value", (text, pattern) => {
    expect(() => parse(text)).toThrow(pattern);
    expect(() => parse(text)).toThrow(/^\.env:1: /);
  });

  it("warns about unset variables it substitutes", () => {
    expect(parseEnvFile("A=${NOWHERE}", () => undefined, ".env").warnings).toEqual(['The "NOWHERE" variable is not set. Defaulting to a blank string.']);
  });
});
