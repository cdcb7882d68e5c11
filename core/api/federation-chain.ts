import { mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { resolveCredentialsFromConfig, type AccessTokenProvider, type AnthropicConfig } from "@anthropic-ai/sdk/lib/credentials";
import type { EnvSource, FederationCredentials } from "./credentials";
import { TunnelsApiError } from "./errors";
import { identityTokenValidity, type IdentityTokenValidity } from "./identity-token-validity";
import { writePrivateFile } from "./private-file";
import type { SecretRedactor } from "./redact";
import { redactingLogger } from "./redacting-logger";
import { accessTokenCachePath, cacheDirectory, identityTokenFilePath } from "./token-cache-path";
import type { Fetch } from "./transport";

export interface FederationChainOptions {
  env: EnvSource;
  baseUrl: string;
  credentials: FederationCredentials;
  fetch: Fetch;
  redactor: SecretRedactor;
}

export interface FederationChain {
  /** Mints (or reuses from the cache) the bearer for each request. */
  provider: AccessTokenProvider;
  /** The identity token's own dates, to explain a denied exchange. */
  identityToken: IdentityTokenValidity;
}

/**
 * The SDK's own federation chain, given a config with a credentials_path so it keeps the minted
 * token in its on-disk 0600 cache. That file is what lets preview, up and destroy (separate
 * processes) share one exchange of a single-use identity token.
 */
export async function federationChain({ env, baseUrl, credentials, fetch, redactor }: FederationChainOptions): Promise<FederationChain> {
  const cacheDir = cacheDirectory(env);
  const identityToken = await readIdentityToken(credentials);
  redactor.remember(identityToken);
  const identityTokenPath =
    credentials.identityToken.kind === "file"
      ? credentials.identityToken.path
      : await writeCacheFile(identityTokenFilePath(cacheDir, identityToken), identityToken);

  const config: AnthropicConfig = {
    base_url: baseUrl,
    organization_id: credentials.organizationId,
    workspace_id: credentials.workspaceId,
    authentication: {
      type: "oidc_federation",
      federation_rule_id: credentials.ruleId,
      service_account_id: credentials.serviceAccountId,
      identity_token: { source: "file", path: identityTokenPath },
      credentials_path: accessTokenCachePath(cacheDir, {
        baseUrl,
        ruleId: credentials.ruleId,
        organizationId: credentials.organizationId,
        workspaceId: credentials.workspaceId,
        identityToken,
      }),
    },
  };
  const logger = redactingLogger(redactor);
  const { provider } = resolveCredentialsFromConfig(config, {
    baseURL: baseUrl,
    fetch,
    // Without the cache file the next process would exchange the same single-use token again.
    onCacheWriteError: (error) => logger.warn("pulumi-mcp-tunnels: could not use the access-token cache file:", error),
    onSafetyWarning: (message) => logger.warn(`pulumi-mcp-tunnels: ${message}`),
  });
  return {
    provider: async (opts) => {
      const token = await provider(opts);
      redactor.remember(token.token);
      return token;
    },
    identityToken: identityTokenValidity(identityToken),
  };
}

async function readIdentityToken(credentials: FederationCredentials): Promise<string> {
  const source = credentials.identityToken;
  if (source.kind === "value") return source.value;
  let content: string;
  try {
    content = (await readFile(source.path, "utf8")).trim();
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new TunnelsApiError({
      code: "CONFIGURATION",
      summary: `the identity token file named by ${source.variable} cannot be read (${reason})`,
      hint: `Point ${source.variable} at a readable file holding the identity token (JWT).`,
    });
  }
  if (!content) {
    throw new TunnelsApiError({
      code: "CONFIGURATION",
      summary: `the identity token file named by ${source.variable} is empty`,
      hint: `Write the identity token (JWT) into that file, or point ${source.variable} elsewhere.`,
    });
  }
  return content;
}

/** Writes `content` to `path` (mode 0600, directory 0700) atomically; returns the path. */
async function writeCacheFile(path: string, content: string): Promise<string> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  try {
    await writePrivateFile(path, content);
  } catch (error) {
    throw new TunnelsApiError({
      code: "CONFIGURATION",
      summary: `the cache directory cannot be written (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      hint: "Set MCP_TUNNELS_CACHE_DIR to a writable directory private to this user.",
    });
  }
  return path;
}
