import { describe, expect, test } from "vitest";
import { dnsNameCovers } from "./dns-name-match";

describe("dnsNameCovers", () => {
  test.each([
    ["abc.example.com", "abc.example.com", true],
    ["ABC.example.com", "abc.EXAMPLE.com.", true],
    ["*.abc.example.com", "mcp.abc.example.com", true],
    ["*.abc.example.com", "abc.example.com", false],
    ["*.abc.example.com", "a.mcp.abc.example.com", false],
    ["*.abc.example.com", ".abc.example.com", false],
    ["m*.abc.example.com", "mcp.abc.example.com", false],
    ["mcp.*.example.com", "mcp.abc.example.com", false],
    ["*.", "mcp", false],
    ["abc.example.com", "*.example.com", false],
    ["other.example.com", "abc.example.com", false],
  ])("SAN %s covering %s is %s", (sanName, hostname, covers) => {
    expect(dnsNameCovers(sanName, hostname)).toBe(covers);
  });
});
