/** When an identity token (a JWT) says it was issued and expires: read, never verified. */
export interface IdentityTokenValidity {
  issuedAt?: Date;
  expiresAt?: Date;
}

/**
 * The validity claims of a JWT, to explain a denied exchange (an expired token reads differently
 * from a spent one). Only the dates leave this function; the token never does.
 */
export function identityTokenValidity(jwt: string): IdentityTokenValidity {
  const payload = jwt.split(".")[1];
  if (!payload) return {};
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { iat?: unknown; exp?: unknown };
    const date = (seconds: unknown) => (typeof seconds === "number" && Number.isFinite(seconds) ? new Date(seconds * 1000) : undefined);
    const issuedAt = date(claims.iat);
    const expiresAt = date(claims.exp);
    return { ...(issuedAt ? { issuedAt } : {}), ...(expiresAt ? { expiresAt } : {}) };
  } catch {
    return {};
  }
}
