/**
 * Scrubs credentials out of text that may reach an error message or a log line. Known values
 * (the bearer, identity token, minted access token, revealed tunnel tokens) are replaced
 * wherever they occur; shapes that look like credentials are replaced even when unknown.
 */
export class SecretRedactor {
  readonly #secrets = new Set<string>();

  /** Values shorter than this are ids or flags, not secrets, and would over-redact. */
  static readonly MIN_SECRET_LENGTH = 8;

  remember(secret: string | undefined | null): void {
    if (secret && secret.length >= SecretRedactor.MIN_SECRET_LENGTH) this.#secrets.add(secret);
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.#secrets) out = out.split(secret).join(REDACTED);
    return redactCredentialShapes(out);
  }
}

export const REDACTED = "[redacted]";

const CREDENTIAL_SHAPES: ReadonlyArray<[RegExp, string]> = [
  [/\b(Bearer)\s+[^\s"',;]+/gi, `$1 ${REDACTED}`],
  // JWTs (identity tokens, some access tokens): three base64url segments starting with "eyJ".
  [/\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, REDACTED],
  [/\bsk-ant-[A-Za-z0-9_-]+/g, REDACTED],
  [/("?(?:access_token|refresh_token|assertion|tunnel_token|api_key)"?\s*[:=]\s*"?)[^"\s,}]+/gi, `$1${REDACTED}`],
];

export function redactCredentialShapes(text: string): string {
  let out = text;
  for (const [pattern, replacement] of CREDENTIAL_SHAPES) out = out.replace(pattern, replacement);
  return out;
}
