import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { accessTokenCachePath, cacheDirectory, identityTokenFilePath, sha256Hex } from "./token-cache-path";

const key = {
  baseUrl: "http://127.0.0.1:8080",
  ruleId: "fdrl_tunnels",
  organizationId: "6f1c7a52-0000-4000-8000-00000000e001",
  workspaceId: "wrkspc_default",
  identityToken: "eyJ.identity.token",
};

describe("accessTokenCachePath", () => {
  it("is sha256(baseUrl|rule|organization|workspace|sha256(identity token)) under <cacheDir>/credentials", () => {
    const material = [key.baseUrl, key.ruleId, key.organizationId, key.workspaceId, sha256Hex(key.identityToken)].join("|");
    expect(accessTokenCachePath("/cache", key)).toBe(join("/cache", "credentials", `${sha256Hex(material)}.json`));
  });

  it("is the same for the same inputs, so a second process finds the first one's token", () => {
    expect(accessTokenCachePath("/cache", { ...key })).toBe(accessTokenCachePath("/cache", key));
    expect(accessTokenCachePath("/cache", { ...key, baseUrl: `${key.baseUrl}/` })).toBe(accessTokenCachePath("/cache", key));
  });

  it.each([
    ["base URL", { baseUrl: "http://127.0.0.1:9090" }],
    ["rule", { ruleId: "fdrl_other" }],
    ["organization", { organizationId: "6f1c7a52-0000-4000-8000-00000000e002" }],
    ["workspace", { workspaceId: "wrkspc_platform" }],
    ["no workspace", { workspaceId: undefined }],
    ["identity token", { identityToken: "eyJ.other.token" }],
  ])("changes when the %s changes", (_, change) => {
    expect(accessTokenCachePath("/cache", { ...key, ...change })).not.toBe(accessTokenCachePath("/cache", key));
  });

  it("never contains the identity token", () => {
    expect(accessTokenCachePath("/cache", key)).not.toContain(key.identityToken);
    expect(identityTokenFilePath("/cache", key.identityToken)).not.toContain(key.identityToken);
  });
});

describe("cacheDirectory", () => {
  it("is MCP_TUNNELS_CACHE_DIR when set, else ~/.cache/pulumi-mcp-tunnels", () => {
    expect(cacheDirectory({ MCP_TUNNELS_CACHE_DIR: "/tmp/c", HOME: "/home/u" })).toBe("/tmp/c");
    expect(cacheDirectory({ HOME: "/home/u" })).toBe(join("/home/u", ".cache", "pulumi-mcp-tunnels"));
  });
});
