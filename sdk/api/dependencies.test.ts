import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// The API client knows HTTP, not Pulumi: it sits below the providers and beside pki, and nothing
// in the product imports the emulator.
const FORBIDDEN = [/^@pulumi\//, /\/pki(\/|$)/, /\/emulator(\/|$)/, /\/provider(\/|$)/, /\/resources(\/|$)/];

describe("sdk/api dependencies", () => {
  const sources = readdirSync(__dirname).filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts"));

  it.each(sources)("%s imports neither Pulumi, pki, providers nor the emulator", (file) => {
    const text = readFileSync(join(__dirname, file), "utf8");
    const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)].map((match) => match[1]!);
    expect(specifiers.filter((specifier) => FORBIDDEN.some((pattern) => pattern.test(specifier)))).toEqual([]);
  });
});
