import { createHash, createPrivateKey, generateKeyPairSync, type JsonWebKey } from "node:crypto";
import { OIDC_ISSUER_PATH } from "../decided/constants";

export interface IdTokenClaims {
  sub: string;
  aud: string | string[];
  iat: number;
  exp: number;
  jti: string | null;
  extra: Record<string, unknown>;
}

/** The emulator's built-in OIDC identity provider: one ES256 key, discovery and JWKS. */
export class OidcIssuer {
  readonly publicJwk: Record<string, string>;
  readonly kid: string;

  private constructor(readonly privateJwk: JsonWebKey) {
    const { kty, crv, x, y } = privateJwk as Record<string, string>;
    if (kty !== "EC" || crv !== "P-256" || !x || !y) throw new Error("the OIDC signing key must be an EC P-256 JWK");
    // RFC 7638 thumbprint: members in lexicographic order, no whitespace.
    this.kid = createHash("sha256").update(JSON.stringify({ crv, kty, x, y })).digest("base64url");
    this.publicJwk = { kty, crv, x, y, kid: this.kid, alg: "ES256", use: "sig" };
  }

  static generate(): OidcIssuer {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    return new OidcIssuer(privateKey.export({ format: "jwk" }));
  }

  static fromPrivateJwk(jwk: JsonWebKey): OidcIssuer {
    createPrivateKey({ key: jwk, format: "jwk" });
    return new OidcIssuer(jwk);
  }

  static issuerUrl(baseUrl: string): string {
    return baseUrl + OIDC_ISSUER_PATH;
  }

  jwks(): { keys: Record<string, string>[] } {
    return { keys: [this.publicJwk] };
  }

  openidConfiguration(baseUrl: string) {
    const issuer = OidcIssuer.issuerUrl(baseUrl);
    return {
      issuer,
      jwks_uri: `${issuer}/jwks`,
      token_endpoint: `${issuer}/token`,
      response_types_supported: ["id_token"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["ES256"],
      claims_supported: ["iss", "sub", "aud", "iat", "exp", "jti"],
    };
  }

  async mint(baseUrl: string, claims: IdTokenClaims): Promise<string> {
    const { SignJWT, importJWK } = await import("jose");
    const key = await importJWK({ ...this.privateJwk, alg: "ES256" } as Parameters<typeof importJWK>[0], "ES256");
    const payload: Record<string, unknown> = { ...claims.extra };
    if (claims.jti !== null) payload["jti"] = claims.jti;
    return new SignJWT(payload)
      .setProtectedHeader({ alg: "ES256", kid: this.kid, typ: "JWT" })
      .setIssuer(OidcIssuer.issuerUrl(baseUrl))
      .setSubject(claims.sub)
      .setAudience(claims.aud)
      .setIssuedAt(claims.iat)
      .setExpirationTime(claims.exp)
      .sign(key);
  }
}
