import { X509Certificate as OpenSslCertificate } from "node:crypto";
import { PkiError } from "./errors";
import { decodeCertificateBlocks, decodeSingleCertificate } from "./pem";
import { x509 } from "./x509-library";

/**
 * A certificate whose fields were all decoded up front. The library decodes lazily, so a
 * malformed extension would otherwise surface as an exception in the middle of a rule check.
 */
export interface ParsedCertificate {
  der: Buffer;
  certificate: x509.X509Certificate;
  extensions: x509.Extension[];
  basicConstraints: x509.BasicConstraintsExtension | null;
  subjectKeyIdentifier: x509.SubjectKeyIdentifierExtension | null;
  authorityKeyIdentifier: x509.AuthorityKeyIdentifierExtension | null;
  keyUsage: x509.KeyUsagesExtension | null;
  extendedKeyUsage: x509.ExtendedKeyUsageExtension | null;
  subjectAlternativeName: x509.SubjectAlternativeNameExtension | null;
  /** Whether OpenSSL reads BasicConstraints as CA:TRUE: it drops an extension it cannot decode as DER. */
  openSslReadsCa: boolean;
}

export function parseCertificateDer(der: Buffer): ParsedCertificate {
  try {
    if (!isOneDerSequence(der)) throw new Error("not one DER value");
    // OpenSSL is stricter about DER than the library (e.g. BIT STRING padding), and the API's
    // side is no more lenient than OpenSSL: what it cannot parse must fail here, at preview.
    const strict = new OpenSslCertificate(der);
    if (Number.isNaN(Date.parse(strict.validFrom)) || Number.isNaN(Date.parse(strict.validTo))) throw new Error("malformed validity time");
    const certificate = new x509.X509Certificate(der);
    const extensions = certificate.extensions;
    const types = extensions.map((extension) => extension.type);
    if (new Set(types).size !== types.length) throw new Error("duplicate extension");
    // Touch every lazily decoded field so a malformed one fails here.
    void [certificate.subject, certificate.issuer, certificate.notBefore, certificate.notAfter];
    void [certificate.signatureAlgorithm, certificate.publicKey.algorithm, certificate.serialNumber];
    const subjectAlternativeName = certificate.getExtension(x509.SubjectAlternativeNameExtension);
    void subjectAlternativeName?.names.items;
    return {
      der,
      certificate,
      extensions,
      basicConstraints: certificate.getExtension(x509.BasicConstraintsExtension),
      subjectKeyIdentifier: certificate.getExtension(x509.SubjectKeyIdentifierExtension),
      authorityKeyIdentifier: certificate.getExtension(x509.AuthorityKeyIdentifierExtension),
      keyUsage: certificate.getExtension(x509.KeyUsagesExtension),
      extendedKeyUsage: certificate.getExtension(x509.ExtendedKeyUsageExtension),
      subjectAlternativeName,
      openSslReadsCa: strict.ca,
    };
  } catch {
    throw new PkiError(
      "CERTIFICATE_INVALID",
      "the decoded bytes are not a well-formed X.509 certificate",
      "export the certificate again in PEM form (openssl x509 -outform PEM)",
    );
  }
}

/** The first certificate of a PEM text (a leaf comes first in a chain file), or DER bytes. */
export function parseLeafCertificate(input: string | Uint8Array): ParsedCertificate {
  if (typeof input !== "string") return parseCertificateDer(Buffer.from(input));
  const [first] = decodeCertificateBlocks(input);
  if (first === undefined) {
    throw new PkiError("PEM_INVALID", "found no CERTIFICATE block", "pass the certificate in PEM or DER form");
  }
  return parseCertificateDer(first);
}

/** A CA the caller vouches for (registered or generated); an unreadable one is a caller bug. */
export function parseCaCertificatePem(pem: string): ParsedCertificate {
  try {
    return parseCertificateDer(decodeSingleCertificate(pem));
  } catch (error) {
    if (!(error instanceof PkiError)) throw error;
    throw new PkiError("CA_INVALID", `a CA certificate cannot be read: ${error.message}`, error.hint);
  }
}

// The X.509 parser accepts trailing bytes after the certificate; a fingerprint over such input
// would differ from the one every other tool reports, so the outer length must cover it exactly.
function isOneDerSequence(der: Uint8Array): boolean {
  if (der.length < 2 || der[0] !== 0x30) return false;
  const first = der[1] ?? 0;
  if (first < 0x80) return 2 + first === der.length;
  const lengthBytes = first & 0x7f;
  if (lengthBytes === 0 || lengthBytes > 4 || der.length < 2 + lengthBytes) return false;
  let length = 0;
  for (let i = 0; i < lengthBytes; i++) length = length * 256 + (der[2 + i] ?? 0);
  return 2 + lengthBytes + length === der.length;
}
