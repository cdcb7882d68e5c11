import type { JWTVerifyGetKey } from "jose";
import { REMOTE_JWKS_CACHE_MS, REMOTE_JWKS_TIMEOUT_MS } from "../decided/constants";
import type { IssuerRecord } from "../state/store";

export class JwksUnavailableError extends Error {
  override readonly name = "JwksUnavailableError";
}

interface CachedKeys {
  configKey: string;
  getKey: JWTVerifyGetKey;
  until: number;
}

/** Turns an issuer's `jwks` setting into jose's key lookup: inline keys, OIDC discovery, or a JWKS URL. */
export class JwksResolver {
  private readonly cache = new Map<string, CachedKeys>();

  async keysFor(issuer: IssuerRecord): Promise<JWTVerifyGetKey> {
    const configKey = JSON.stringify([issuer.issuer_url, issuer.jwks]);
    const cached = this.cache.get(issuer.id);
    if (cached && cached.configKey === configKey && cached.until > Date.now()) return cached.getKey;
    const jose = await import("jose");
    let getKey: JWTVerifyGetKey;
    let until = Number.POSITIVE_INFINITY;
    try {
      switch (issuer.jwks.type) {
        case "inline":
          getKey = jose.createLocalJWKSet({ keys: issuer.jwks.keys as unknown as Parameters<typeof jose.createLocalJWKSet>[0]["keys"] });
          break;
        case "explicit_url":
          getKey = jose.createRemoteJWKSet(new URL(issuer.jwks.url), { timeoutDuration: REMOTE_JWKS_TIMEOUT_MS });
          until = Date.now() + REMOTE_JWKS_CACHE_MS;
          break;
        case "discovery": {
          const base = (issuer.jwks.discovery_base ?? issuer.issuer_url).replace(/\/+$/, "");
          const response = await fetch(`${base}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(REMOTE_JWKS_TIMEOUT_MS) });
          if (!response.ok) throw new JwksUnavailableError(`discovery answered ${response.status}`);
          const document = (await response.json()) as { jwks_uri?: unknown };
          if (typeof document.jwks_uri !== "string") throw new JwksUnavailableError("discovery document has no jwks_uri");
          getKey = jose.createRemoteJWKSet(new URL(document.jwks_uri), { timeoutDuration: REMOTE_JWKS_TIMEOUT_MS });
          until = Date.now() + REMOTE_JWKS_CACHE_MS;
          break;
        }
      }
    } catch (error) {
      if (error instanceof JwksUnavailableError) throw error;
      throw new JwksUnavailableError(error instanceof Error ? error.message : "cannot load the issuer's keys");
    }
    this.cache.set(issuer.id, { configKey, getKey, until });
    return getKey;
  }
}
