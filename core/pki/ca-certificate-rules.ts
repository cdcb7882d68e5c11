import { CA_CERTIFICATE_RULES, MAX_CA_CERTIFICATE_PEM_CHARS } from "../contract/tunnels-api";
import type { CaCertificateRule } from "../contract/tunnels-api";
import { PkiError } from "./errors";
import { fingerprintOfDer } from "./fingerprint";
import { publicKeyStrength, signatureHashStrength } from "./key-and-signature-strength";
import { parseCertificateDer, type ParsedCertificate } from "./parsed-certificate";
import { containsPrivateKeyMaterial, countCertificateBlocks, decodeSingleCertificate } from "./pem";
import { x509 } from "./x509-library";

export type { CaCertificateRule };

export type CaCertificateCheck =
  | { ok: true; fingerprint: string; notAfter: Date; subject: string }
  | { ok: false; rule: CaCertificateRule; message: string };

export interface CaCertificateCheckOptions {
  /** The name messages give the input: the SDK property by default, the API field in the emulator. */
  field?: string;
}

type Failure = Extract<CaCertificateCheck, { ok: false }>;
type Fail = (rule: CaCertificateRule, finding: string, fix: string) => Failure;

const REISSUE = "reissue the CA";

/**
 * Applies the API's certificate rules and reports the first one broken, private-key material
 * first (it is the one finding that means a secret may have leaked).
 * Messages name the rule and the fix and never repeat the input: it may hold a private key.
 */
export async function checkCaCertificatePem(
  pem: string,
  now: Date,
  options: CaCertificateCheckOptions = {},
): Promise<CaCertificateCheck> {
  const field = options.field ?? "caCertificatePem";
  const fail: Fail = (rule, finding, fix) => ({
    ok: false,
    rule,
    message: `${field} fails "${CA_CERTIFICATE_RULES[rule]}": ${finding}; ${fix}`,
  });
  const text = typeof pem === "string" ? pem : "";

  const blocks = countCertificateBlocks(text);
  // Checked before the block count: a key pasted in place of the certificate would otherwise be
  // answered "no CERTIFICATE block", as if it were only the wrong file.
  if (containsPrivateKeyMaterial(text)) {
    return fail(
      "noPrivateKey",
      blocks === 0 ? "the text is private-key material, not a certificate" : "the text contains private-key material",
      "private-key material must never be pasted here (whoever holds the CA's key can issue server certificates Anthropic trusts for the tunnel): " +
        "register only the CA's CERTIFICATE block, and if the key has left your secret store, replace the CA",
    );
  }
  if (blocks !== 1) {
    return blocks === 0
      ? fail("singleCertificate", "found no -----BEGIN CERTIFICATE----- block", "paste the CA certificate in PEM form")
      : fail(
          "singleCertificate",
          `found ${blocks} -----BEGIN CERTIFICATE----- blocks`,
          "register one CA per TunnelCertificate and leave out intermediate and server certificates",
        );
  }
  if (text.length > MAX_CA_CERTIFICATE_PEM_CHARS) {
    return fail(
      "maxLength",
      `the text is ${text.length} characters`,
      "remove text around the PEM block, or issue a CA with fewer or smaller extensions",
    );
  }

  let parsed: ParsedCertificate;
  try {
    parsed = parseCertificateDer(decodeSingleCertificate(text));
  } catch (error) {
    if (!(error instanceof PkiError)) throw error;
    return fail("parses", error.message, error.hint);
  }

  return checkParsedCa(parsed, now, fail);
}

function checkParsedCa(parsed: ParsedCertificate, now: Date, fail: Fail): CaCertificateCheck {
  const { certificate, basicConstraints, subjectKeyIdentifier, keyUsage } = parsed;
  const basicConstraintsFix = `${REISSUE} with basicConstraints=critical,CA:TRUE`;
  if (!basicConstraints) return fail("basicConstraintsCa", "the certificate has no BasicConstraints extension", basicConstraintsFix);
  if (!basicConstraints.ca) {
    return fail(
      "basicConstraintsCa",
      "BasicConstraints says CA:FALSE, so this is not a CA (perhaps the server certificate)",
      `register the CA that issued it, or ${REISSUE} with basicConstraints=critical,CA:TRUE`,
    );
  }
  if (!basicConstraints.critical) return fail("basicConstraintsCa", "BasicConstraints is not marked critical", basicConstraintsFix);

  if (!subjectKeyIdentifier) {
    return fail("subjectKeyIdentifier", "the certificate has no SubjectKeyIdentifier extension", `${REISSUE} with subjectKeyIdentifier=hash`);
  }

  const keyUsageFix = `${REISSUE} with keyUsage=critical,keyCertSign,cRLSign`;
  if (!keyUsage) return fail("keyCertSign", "the certificate has no KeyUsage extension", keyUsageFix);
  if ((keyUsage.usages & x509.KeyUsageFlags.keyCertSign) === 0) return fail("keyCertSign", "KeyUsage lacks keyCertSign", keyUsageFix);
  // OpenSSL's own reading, after the rules it also applies: it drops an extension it cannot decode as DER.
  if (!parsed.openSslReadsCa) {
    return fail("basicConstraintsCa", "BasicConstraints is not valid DER, so OpenSSL (and the API) do not read it as CA:TRUE", basicConstraintsFix);
  }

  if (now < certificate.notBefore) {
    return fail(
      "validity",
      `the certificate is not valid before ${certificate.notBefore.toISOString()}`,
      "register it once it is valid, or check the clock of the machine that issued it",
    );
  }
  if (now > certificate.notAfter) {
    return fail(
      "validity",
      `the certificate expired at ${certificate.notAfter.toISOString()}`,
      "issue a new CA and register it (a tunnel holds two active CAs so the new one can overlap)",
    );
  }

  const key = publicKeyStrength(certificate);
  if (!key.acceptable) {
    return fail("keyStrength", `the key is ${key.description}`, `${REISSUE} with an RSA key of 2048 bits or more, or ECDSA P-256 or P-384`);
  }

  const signature = signatureHashStrength(certificate);
  if (!signature.acceptable) {
    return fail("signatureHash", `the certificate is signed with ${signature.description}`, `${REISSUE} signed with SHA-256 or stronger`);
  }

  return { ok: true, fingerprint: fingerprintOfDer(parsed.der), notAfter: certificate.notAfter, subject: certificate.subject };
}
