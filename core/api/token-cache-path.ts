import { createHash } from "node:crypto";
import { homedir } from "node:os";
import { join } from "node:path";
import { readSetting, type EnvSource } from "./credentials";

export const CACHE_DIR_VARIABLE = "MCP_TUNNELS_CACHE_DIR";

/** Per-user cache root: MCP_TUNNELS_CACHE_DIR, else ~/.cache/pulumi-mcp-tunnels. */
export function cacheDirectory(env: EnvSource): string {
  const explicit = readSetting(env, CACHE_DIR_VARIABLE);
  if (explicit !== undefined) return explicit;
  return join(readSetting(env, "HOME") ?? homedir(), ".cache", "pulumi-mcp-tunnels");
}

export interface AccessTokenCacheKey {
  baseUrl: string;
  ruleId: string;
  organizationId: string;
  workspaceId: string | undefined;
  /** The identity token itself; only its hash enters the key. */
  identityToken: string;
}

/**
 * The file the SDK's on-disk exchange cache uses. Keyed by everything that changes which token
 * the exchange would mint (the spec's keying), so a changed workspace or a rotated identity token
 * never re-serves a token minted for something else, and two processes given the same inputs
 * share one exchange.
 */
export function accessTokenCachePath(cacheDir: string, key: AccessTokenCacheKey): string {
  const material = [
    key.baseUrl.replace(/\/+$/, ""),
    key.ruleId,
    key.organizationId,
    key.workspaceId ?? "",
    sha256Hex(key.identityToken),
  ].join("|");
  return join(cacheDir, "credentials", `${sha256Hex(material)}.json`);
}

/**
 * Where an identity token given by value is written so the SDK can read it as a file. The SDK
 * reads a by-value token only from process.env, which would ignore an explicit `env` map.
 */
export function identityTokenFilePath(cacheDir: string, identityToken: string): string {
  return join(cacheDir, "identity-tokens", `${sha256Hex(identityToken)}.jwt`);
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
