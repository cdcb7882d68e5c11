import { PkiError } from "./errors";

const BEGIN_CERTIFICATE = "-----BEGIN CERTIFICATE-----";
const END_CERTIFICATE = "-----END CERTIFICATE-----";
const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

// Any PEM label ending in PRIVATE KEY (PKCS#8, ENCRYPTED, RSA, EC, DSA, OPENSSH, PGP "PRIVATE
// KEY BLOCK") and PuTTY key files. Matched case-insensitively because the check exists to stop
// a key reaching the API, not to judge whether the PEM is well formed.
const PRIVATE_KEY_MARKERS = [/PRIVATE KEY/i, /PuTTY-User-Key-File/i, /^Private-Lines:/im];

export function countCertificateBlocks(text: string): number {
  return text.split(BEGIN_CERTIFICATE).length - 1;
}

export function containsPrivateKeyMaterial(text: string): boolean {
  return PRIVATE_KEY_MARKERS.some((marker) => marker.test(text));
}

/**
 * The DER of every CERTIFICATE block, in order. Text outside the blocks is ignored, as openssl
 * does (it often writes `subject=` lines above them).
 */
export function decodeCertificateBlocks(text: string): Buffer[] {
  const unpaired = new PkiError(
    "PEM_INVALID",
    "a BEGIN CERTIFICATE line has no matching END CERTIFICATE line",
    "copy the whole block, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----",
  );
  const count = countCertificateBlocks(text);
  // OpenSSL finds a block only where its BEGIN line starts a line; text before it on the line hides it.
  if (/[^\n]-----BEGIN CERTIFICATE-----/.test(text)) {
    throw new PkiError("PEM_INVALID", "a BEGIN CERTIFICATE line does not start at the beginning of its line", "remove what stands before -----BEGIN CERTIFICATE----- on that line (spaces included)");
  }
  // Counted before matching: a lazy match from many unpaired BEGIN lines would be quadratic.
  if (count !== text.split(END_CERTIFICATE).length - 1) throw unpaired;
  const bodies = [...text.matchAll(CERTIFICATE_BLOCK)].map((match) => match[1] ?? "");
  if (bodies.length !== count) throw unpaired;
  return bodies.map(decodeBase64Body);
}

/** The DER of the only CERTIFICATE block in `text`. */
export function decodeSingleCertificate(text: string): Buffer {
  const blocks = decodeCertificateBlocks(text);
  const [der] = blocks;
  if (der === undefined || blocks.length > 1) {
    throw new PkiError(
      "PEM_INVALID",
      `expected exactly one CERTIFICATE block, found ${blocks.length}`,
      "pass a single certificate in PEM form",
    );
  }
  return der;
}

export function toPem(label: string, der: Uint8Array): string {
  const lines = Buffer.from(der).toString("base64").match(/.{1,64}/g) ?? [];
  return [`-----BEGIN ${label}-----`, ...lines, `-----END ${label}-----`, ""].join("\n");
}

function decodeBase64Body(body: string): Buffer {
  const base64 = body.replace(/\s+/g, "");
  if (base64.length === 0 || base64.length % 4 !== 0 || !BASE64.test(base64)) {
    throw new PkiError(
      "PEM_INVALID",
      "the text between the BEGIN and END lines is not valid base64",
      "export the certificate again in PEM form (openssl x509 -outform PEM)",
    );
  }
  return Buffer.from(base64, "base64");
}
