import { dnsNameCovers } from "./dns-name-match";
import { PkiError } from "./errors";
import { fingerprintOfDer } from "./fingerprint";
import { publicKeyStrength, signatureHashStrength } from "./key-and-signature-strength";
import { parseCaCertificatePem, parseLeafCertificate, type ParsedCertificate } from "./parsed-certificate";
import { x509 } from "./x509-library";

export type ServerCertificateFailure =
  | "unknown_ca"
  | "archived_ca"
  | "expired"
  | "not_yet_valid"
  | "name_mismatch"
  | "bad_key_usage"
  | "weak_key"
  | "weak_signature"
  | "missing_aki"
  | "malformed";

export type ServerCertificateCheck =
  | { ok: true; caFingerprint: string }
  | { ok: false; reason: ServerCertificateFailure; message: string };

export interface ServerCertificateCheckOptions {
  /** The leaf: PEM (the first block is taken, as in a chain file) or DER. */
  certificate: string | Uint8Array;
  /** The tunnel's active CAs. Whether a CA is archived is the caller's business. */
  trustedCaPems: string[];
  hostname: string;
  now: Date;
}

const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const MAX_NAMES_IN_MESSAGE = 5;
const MAX_NAME_CHARS = 253;

/**
 * The API's server-certificate rules (docs/tunnels-api.md), as the tunnel's inner TLS applies them, reporting the
 * first broken: malformed, weak_signature, unknown_ca, missing_aki, name_mismatch,
 * bad_key_usage, expired / not_yet_valid (leaf, then CA), weak_key. The signature hash comes
 * before the issuer because a weak hash cannot show who signed. Never returns archived_ca:
 * only the caller knows which CAs were archived.
 */
export async function checkServerCertificate(options: ServerCertificateCheckOptions): Promise<ServerCertificateCheck> {
  const { hostname, now } = options;
  const cas = options.trustedCaPems.map(parseCaCertificatePem);

  let leaf: ParsedCertificate;
  try {
    leaf = parseLeafCertificate(options.certificate);
  } catch (error) {
    if (!(error instanceof PkiError)) throw error;
    return { ok: false, reason: "malformed", message: `the server certificate cannot be read: ${error.message}` };
  }
  const { certificate } = leaf;

  const signature = signatureHashStrength(certificate);
  if (!signature.acceptable) {
    return {
      ok: false,
      reason: "weak_signature",
      message: `the server certificate is signed with ${signature.description}; issue it again signed with SHA-256 or stronger`,
    };
  }

  const issuers = await issuersOf(leaf, cas);
  const issuer = issuers.find((ca) => keyIdentifiersMatch(leaf, ca)) ?? issuers[0];
  if (!issuer) {
    return {
      ok: false,
      reason: "unknown_ca",
      message:
        cas.length === 0
          ? "the tunnel has no active CA certificate; register the CA that issues the server certificate"
          : "the server certificate is not signed directly by any active CA of the tunnel; issue it from a registered CA (no intermediates)",
    };
  }
  if (certificate.issuer !== issuer.certificate.subject) {
    return {
      ok: false,
      reason: "unknown_ca",
      message: "the server certificate's issuer name differs from the subject of the CA whose key signed it; issue it again from that CA",
    };
  }

  if (!leaf.authorityKeyIdentifier?.keyId) {
    return {
      ok: false,
      reason: "missing_aki",
      message: "the server certificate has no AuthorityKeyIdentifier key id; issue it again with authorityKeyIdentifier=keyid",
    };
  }
  if (!keyIdentifiersMatch(leaf, issuer)) {
    return {
      ok: false,
      reason: "missing_aki",
      message: "the server certificate's AuthorityKeyIdentifier differs from its CA's SubjectKeyIdentifier; issue it again from the registered CA",
    };
  }

  const dnsNames = (leaf.subjectAlternativeName?.names.items ?? []).filter((name) => name.type === "dns").map((name) => name.value);
  if (!dnsNames.some((name) => dnsNameCovers(name, hostname))) {
    return { ok: false, reason: "name_mismatch", message: nameMismatchMessage(hostname, dnsNames) };
  }

  if (leaf.extendedKeyUsage && !leaf.extendedKeyUsage.usages.map(String).includes(SERVER_AUTH)) {
    return {
      ok: false,
      reason: "bad_key_usage",
      message: "the server certificate's ExtendedKeyUsage lacks serverAuth; issue it again with extendedKeyUsage=serverAuth",
    };
  }
  if (leaf.keyUsage && (leaf.keyUsage.usages & x509.KeyUsageFlags.digitalSignature) === 0) {
    return {
      ok: false,
      reason: "bad_key_usage",
      message: "the server certificate's KeyUsage lacks digitalSignature, which TLS 1.3 needs; issue it again with keyUsage=digitalSignature",
    };
  }

  const validity =
    validityFailure(certificate, now, "the server certificate", "issue a new server certificate") ??
    validityFailure(issuer.certificate, now, "its CA", "register a new CA and issue the server certificate from it");
  if (validity) return validity;

  const key = publicKeyStrength(certificate);
  if (!key.acceptable) {
    return {
      ok: false,
      reason: "weak_key",
      message: `the server certificate's key is ${key.description}; use RSA of 2048 bits or more, or ECDSA P-256 or P-384`,
    };
  }

  return { ok: true, caFingerprint: fingerprintOfDer(issuer.der) };
}

/** The CAs whose key verifies the leaf's signature. */
async function issuersOf(leaf: ParsedCertificate, cas: ParsedCertificate[]): Promise<ParsedCertificate[]> {
  const verdicts = await Promise.all(
    cas.map((ca) => leaf.certificate.verify({ publicKey: ca.certificate.publicKey, signatureOnly: true }).catch(() => false)),
  );
  return cas.filter((_, index) => verdicts[index] === true);
}

function keyIdentifiersMatch(leaf: ParsedCertificate, ca: ParsedCertificate): boolean {
  const aki = leaf.authorityKeyIdentifier?.keyId?.toLowerCase();
  const ski = ca.subjectKeyIdentifier?.keyId.toLowerCase();
  return aki !== undefined && aki === ski;
}

function validityFailure(
  certificate: x509.X509Certificate,
  now: Date,
  what: string,
  renewal: string,
): ServerCertificateCheck | undefined {
  if (now < certificate.notBefore) {
    return {
      ok: false,
      reason: "not_yet_valid",
      message: `${what} is not valid before ${certificate.notBefore.toISOString()}; check the issuing machine's clock`,
    };
  }
  if (now > certificate.notAfter) {
    return {
      ok: false,
      reason: "expired",
      message: `${what} expired at ${certificate.notAfter.toISOString()}; ${renewal}`,
    };
  }
  return undefined;
}

function nameMismatchMessage(hostname: string, dnsNames: string[]): string {
  const host = hostname.slice(0, MAX_NAME_CHARS);
  if (dnsNames.length === 0) {
    return `the server certificate has no SubjectAlternativeName DNS names, so it cannot cover ${host}; issue it with SAN DNS *.<domain> and <domain>`;
  }
  const shown = dnsNames.slice(0, MAX_NAMES_IN_MESSAGE).map((name) => name.slice(0, MAX_NAME_CHARS));
  const more = dnsNames.length > shown.length ? ` and ${dnsNames.length - shown.length} more` : "";
  return `the server certificate's SAN DNS names (${shown.join(", ")}${more}) do not cover ${host}; issue it with SAN DNS *.<domain> and <domain>`;
}
