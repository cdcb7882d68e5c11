import { PkiError } from "./errors";
import { generateKeyPair, signingAlgorithmOf, type KeyAlgorithm } from "./key-algorithm";
import { randomSerialNumber, toGeneratedCertificate, validityWindow, type GeneratedCertificate } from "./issuance";
import { exportPrivateKeyPem } from "./signing-key";
import { x509 } from "./x509-library";

export interface CertificateAuthorityOptions {
  commonName: string;
  keyAlgorithm: KeyAlgorithm;
  validityDays: number;
  now: Date;
}

/** X.520 upper bound for a common name. */
const MAX_COMMON_NAME_CHARS = 64;

/**
 * A self-signed CA meeting every certificate rule of the API (docs/tunnels-api.md). pathLen 0: the tunnel accepts
 * only server certificates signed directly by a registered CA, so intermediates are useless.
 */
export async function generateCertificateAuthority(options: CertificateAuthorityOptions): Promise<GeneratedCertificate> {
  const { commonName, keyAlgorithm } = options;
  if (typeof commonName !== "string" || commonName.trim().length === 0 || commonName.length > MAX_COMMON_NAME_CHARS) {
    throw new PkiError(
      "INVALID_ARGUMENT",
      `commonName must be 1 to ${MAX_COMMON_NAME_CHARS} characters`,
      "name the CA after the tunnel it signs for",
    );
  }
  const { notBefore, notAfter } = validityWindow(options.now, options.validityDays);
  const keys = await generateKeyPair(keyAlgorithm);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: [{ CN: [commonName] }],
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: signingAlgorithmOf(keys.privateKey),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  return toGeneratedCertificate(certificate, await exportPrivateKeyPem(keys.privateKey));
}
