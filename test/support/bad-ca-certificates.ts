// Fixtures for tests of anything that validates certificates (this package, the emulator's
// registration and probe, the bad-input tables). Not exported from index: product code has no
// use for broken certificates.
import { createPrivateKey } from "node:crypto";
import type { CaCertificateRule } from "../../core/contract/tunnels-api";
import { MAX_CA_CERTIFICATE_PEM_CHARS } from "../../core/contract/tunnels-api";
import { generateCertificateAuthority } from "../../core/pki/certificate-authority";
import { generateKeyPair, signingAlgorithmOf, type KeyAlgorithm, type SigningAlgorithm } from "../../core/pki/key-algorithm";
import type { GeneratedCertificate } from "../../core/pki/issuance";
import { parseCaCertificatePem } from "../../core/pki/parsed-certificate";
import { toPem } from "../../core/pki/pem";
import { issueServerCertificate } from "../../core/pki/server-certificate";
import type { ServerCertificateFailure } from "../../core/pki/server-certificate-rules";
import { exportPrivateKeyPem, importSigningKey } from "../../core/pki/signing-key";
import { webcrypto, x509 } from "../../core/pki/x509-library";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const DAY_MS = 24 * 60 * 60 * 1000;
const NETSCAPE_COMMENT = "2.16.840.1.113730.1.13";
const SHA256_WITH_RSA_OID_DER = Buffer.from("06092a864886f70d01010b", "hex");
const MD5_WITH_RSA_OID_DER = Buffer.from("06092a864886f70d010104", "hex");

interface SignSpec {
  subject: string;
  publicKey: CryptoKey;
  /** Self-signed when absent. */
  issuerName?: x509.Name;
  signingKey: CryptoKey;
  hash?: SigningAlgorithm["hash"];
  notBefore: Date;
  notAfter: Date;
  extensions: x509.Extension[];
}

async function sign(spec: SignSpec): Promise<x509.X509Certificate> {
  const algorithm = signingAlgorithmOf(spec.signingKey);
  return x509.X509CertificateGenerator.create({
    subject: spec.subject,
    issuer: spec.issuerName ?? spec.subject,
    publicKey: spec.publicKey,
    signingKey: spec.signingKey,
    signingAlgorithm: { ...algorithm, hash: spec.hash ?? algorithm.hash },
    notBefore: spec.notBefore,
    notAfter: spec.notAfter,
    extensions: spec.extensions,
  });
}

const pemOf = (certificate: x509.X509Certificate): string => toPem("CERTIFICATE", new Uint8Array(certificate.rawData));

interface CaChanges {
  basicConstraints?: x509.Extension | null;
  subjectKeyIdentifier?: null;
  keyUsage?: x509.Extension | null;
  extra?: x509.Extension[];
  notBefore?: Date;
  notAfter?: Date;
}

async function caCertificate(keys: CryptoKeyPair, now: Date, changes: CaChanges = {}): Promise<x509.X509Certificate> {
  const extensions = [
    changes.basicConstraints === undefined ? new x509.BasicConstraintsExtension(true, 0, true) : changes.basicConstraints,
    changes.subjectKeyIdentifier === null ? null : await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    changes.keyUsage === undefined
      ? new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)
      : changes.keyUsage,
    ...(changes.extra ?? []),
  ].filter((extension): extension is x509.Extension => extension !== null);
  return sign({
    subject: "CN=Fixture CA",
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    notBefore: changes.notBefore ?? new Date(now.getTime() - DAY_MS),
    notAfter: changes.notAfter ?? new Date(now.getTime() + 30 * DAY_MS),
    extensions,
  });
}

async function rsaKeyPair(modulusLength: number, hash: SigningAlgorithm["hash"]): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength, publicExponent: new Uint8Array([1, 0, 1]), hash },
    true,
    ["sign", "verify"],
  );
}

/** A DER IA5String of `length` characters: bulk that keeps the certificate well formed. */
function ia5String(length: number): Uint8Array {
  return Buffer.concat([Buffer.from([0x16, 0x82, length >> 8, length & 0xff]), Buffer.alloc(length, "x")]);
}

function replaceAll(der: Buffer, from: Buffer, to: Buffer): Buffer {
  const out = Buffer.from(der);
  for (let at = out.indexOf(from); at !== -1; at = out.indexOf(from, at + from.length)) to.copy(out, at);
  return out;
}

export interface BadCaCertificate {
  pem: string;
  rule: CaCertificateRule;
}

/**
 * The rule each fixture of makeBadCaCertificates breaks, available before the fixtures are
 * built so test tables can be declared from it.
 */
export const BAD_CA_CERTIFICATE_RULES = {
  publicKeyOnly: "singleCertificate",
  twoCertificates: "singleCertificate",
  pkcs8PrivateKeyAppended: "noPrivateKey",
  privateKeyInPlaceOfCertificate: "noPrivateKey",
  rsaPrivateKeyAppended: "noPrivateKey",
  ecPrivateKeyAppended: "noPrivateKey",
  encryptedPrivateKeyPrepended: "noPrivateKey",
  opensshPrivateKeyAppended: "noPrivateKey",
  oversize: "maxLength",
  garbageBase64: "parses",
  truncated: "parses",
  missingEndLine: "parses",
  notCa: "basicConstraintsCa",
  basicConstraintsNotCritical: "basicConstraintsCa",
  noBasicConstraints: "basicConstraintsCa",
  missingSki: "subjectKeyIdentifier",
  noKeyCertSign: "keyCertSign",
  noKeyUsage: "keyCertSign",
  expired: "validity",
  notYetValid: "validity",
  rsa1024: "keyStrength",
  ed25519: "keyStrength",
  sha1Signature: "signatureHash",
  md5Signature: "signatureHash",
} as const satisfies Record<string, CaCertificateRule>;

export type BadCaCertificateName = keyof typeof BAD_CA_CERTIFICATE_RULES;

/**
 * One PEM text per way of breaking a CA certificate rule. Each is otherwise valid at `now`, so
 * it fails exactly the rule BAD_CA_CERTIFICATE_RULES names.
 */
export async function makeBadCaCertificates(now: Date): Promise<Record<BadCaCertificateName, BadCaCertificate>> {
  const ec = await generateKeyPair("ECDSA_P256");
  const rsa = await generateKeyPair("RSA_2048");
  const rsaSha1 = await rsaKeyPair(2048, "SHA-1");
  const rsa1024 = await rsaKeyPair(1024, "SHA-256");
  const ed25519 = (await webcrypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;

  const good = pemOf(await caCertificate(ec, now));
  const goodDer = new Uint8Array((await caCertificate(ec, now)).rawData);
  const rsaDer = Buffer.from((await caCertificate(rsa, now)).rawData);
  const ecKey = createPrivateKey(await exportPrivateKeyPem(ec.privateKey));
  const rsaKey = createPrivateKey(await exportPrivateKeyPem(rsa.privateKey));
  const openssh = toPem("OPENSSH PRIVATE KEY", Buffer.concat([Buffer.from("openssh-key-v1\0"), Buffer.alloc(64, 7)]));
  const ca = async (changes: CaChanges, keys: CryptoKeyPair = ec) => pemOf(await caCertificate(keys, now, changes));
  const days = (n: number) => new Date(now.getTime() + n * DAY_MS);

  const pems: Record<BadCaCertificateName, Promise<string> | string> = {
    publicKeyOnly: toPem("PUBLIC KEY", new Uint8Array(await webcrypto.subtle.exportKey("spki", ec.publicKey))),
    twoCertificates: good + pemOf(await caCertificate(rsa, now)),
    pkcs8PrivateKeyAppended: good + ecKey.export({ type: "pkcs8", format: "pem" }),
    privateKeyInPlaceOfCertificate: ecKey.export({ type: "pkcs8", format: "pem" }) as string,
    rsaPrivateKeyAppended: good + rsaKey.export({ type: "pkcs1", format: "pem" }),
    ecPrivateKeyAppended: good + ecKey.export({ type: "sec1", format: "pem" }),
    encryptedPrivateKeyPrepended: ecKey.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "fixture" }) + good,
    opensshPrivateKeyAppended: good + openssh,
    oversize: ca({ extra: [new x509.Extension(NETSCAPE_COMMENT, false, ia5String(MAX_CA_CERTIFICATE_PEM_CHARS))] }),
    garbageBase64: "-----BEGIN CERTIFICATE-----\nThis is not base64!\n-----END CERTIFICATE-----\n",
    truncated: toPem("CERTIFICATE", goodDer.subarray(0, 201)),
    missingEndLine: good.replace("-----END CERTIFICATE-----", ""),
    notCa: ca({ basicConstraints: new x509.BasicConstraintsExtension(false, undefined, true) }),
    basicConstraintsNotCritical: ca({ basicConstraints: new x509.BasicConstraintsExtension(true, 0, false) }),
    noBasicConstraints: ca({ basicConstraints: null }),
    missingSki: ca({ subjectKeyIdentifier: null }),
    noKeyCertSign: ca({ keyUsage: new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.cRLSign, true) }),
    noKeyUsage: ca({ keyUsage: null }),
    expired: ca({ notBefore: days(-30), notAfter: days(-1) }),
    notYetValid: ca({ notBefore: days(1), notAfter: days(30) }),
    rsa1024: ca({}, rsa1024),
    ed25519: ca({}, ed25519),
    sha1Signature: ca({}, rsaSha1),
    // WebCrypto cannot sign with MD5; the algorithm identifier is rewritten instead, which the
    // rule reads without verifying the self-signature.
    md5Signature: toPem("CERTIFICATE", replaceAll(rsaDer, SHA256_WITH_RSA_OID_DER, MD5_WITH_RSA_OID_DER)),
  };

  const names = Object.keys(BAD_CA_CERTIFICATE_RULES) as BadCaCertificateName[];
  const built = await Promise.all(names.map(async (name) => ({ pem: await pems[name], rule: BAD_CA_CERTIFICATE_RULES[name] })));
  return Object.fromEntries(names.map((name, index) => [name, built[index]])) as Record<BadCaCertificateName, BadCaCertificate>;
}

export interface ServerCertificateScenario {
  /** The leaf PEM to present. */
  certificate: string;
  /** Its key, so a TLS server can present it (a fixture: not a secret). */
  privateKeyPem: string;
  /** The name the client asks for. */
  hostname: string;
  reason: ServerCertificateFailure;
}

/** The reason each bad scenario of makeServerCertificateScenarios fails with. */
export const BAD_SERVER_CERTIFICATE_REASONS = {
  otherCa: "unknown_ca",
  signedByIntermediate: "unknown_ca",
  missingAki: "missing_aki",
  akiOfAnotherKey: "missing_aki",
  wrongName: "name_mismatch",
  wildcardTwoLabelsDeep: "name_mismatch",
  noSubjectAlternativeName: "name_mismatch",
  clientAuthOnly: "bad_key_usage",
  keyUsageWithoutDigitalSignature: "bad_key_usage",
  expired: "expired",
  notYetValid: "not_yet_valid",
  rsa1024: "weak_key",
  sha1Signature: "weak_signature",
  malformed: "malformed",
} as const satisfies Record<string, ServerCertificateFailure>;

export type BadServerCertificateName = keyof typeof BAD_SERVER_CERTIFICATE_REASONS;

export interface ServerCertificateScenarios {
  ca: GeneratedCertificate;
  domain: string;
  /** From `issueServerCertificate`; passes for `hostname` = `mcp.<domain>`. */
  good: Omit<ServerCertificateScenario, "reason">;
  bad: Record<BadServerCertificateName, ServerCertificateScenario>;
}

type Leaf = Omit<ServerCertificateScenario, "reason" | "hostname">;

interface LeafChanges {
  dnsNames?: string[];
  notBefore?: Date;
  notAfter?: Date;
  extendedKeyUsage?: string[];
  keyUsage?: x509.KeyUsageFlags;
  authorityKeyId?: string | null;
  keys?: CryptoKeyPair;
  hash?: SigningAlgorithm["hash"];
  issuer?: { name: x509.Name; key: CryptoKey; keyId: string };
}

/**
 * A CA, a server certificate that passes for `mcp.<domain>`, and one leaf (or hostname) per
 * way of failing the server-certificate rules, each otherwise valid at `now`.
 */
export async function makeServerCertificateScenarios(options: {
  now: Date;
  domain?: string;
  caKeyAlgorithm?: KeyAlgorithm;
}): Promise<ServerCertificateScenarios> {
  const { now } = options;
  const domain = options.domain ?? "abcd1234.tunnel.anthropic.com";
  const hostname = `mcp.${domain}`;
  const keyAlgorithm = options.caKeyAlgorithm ?? "ECDSA_P256";
  const days = (n: number) => new Date(now.getTime() + n * DAY_MS);
  const ca = await generateCertificateAuthority({ commonName: "Scenario CA", keyAlgorithm, validityDays: 30, now });
  // Same subject as `ca`, as after a rotation: only the signature tells them apart.
  const otherCa = await generateCertificateAuthority({ commonName: "Scenario CA", keyAlgorithm, validityDays: 30, now });
  const issue = (from: GeneratedCertificate) =>
    issueServerCertificate({
      caCertificatePem: from.certificatePem,
      caPrivateKeyPem: from.privateKeyPem,
      domain,
      keyAlgorithm: "ECDSA_P256",
      validityDays: 7,
      now,
    });
  const good = await issue(ca);
  const fromOtherCa = await issue(otherCa);

  const caX509 = parseCaCertificatePem(ca.certificatePem).certificate;
  const caIssuer = {
    name: caX509.subjectName,
    key: await importSigningKey(ca.privateKeyPem),
    keyId: caX509.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId ?? "",
  };
  const leafKeys = await generateKeyPair("ECDSA_P256");
  const weakKeys = await rsaKeyPair(1024, "SHA-256");
  // Never sent: a leaf it signed fails whether or not the intermediate comes along.
  const intermediateKeys = await generateKeyPair("ECDSA_P256");
  const intermediate = {
    name: new x509.Name("CN=Scenario Intermediate"),
    key: intermediateKeys.privateKey,
    keyId: (await x509.SubjectKeyIdentifierExtension.create(intermediateKeys.publicKey)).keyId,
  };

  const leaf = async (changes: LeafChanges): Promise<Leaf> => {
    const keys = changes.keys ?? leafKeys;
    const issuer = changes.issuer ?? caIssuer;
    const signingKey = changes.hash && !changes.issuer ? await importSigningKey(ca.privateKeyPem, changes.hash) : issuer.key;
    const authorityKeyId = changes.authorityKeyId === undefined ? issuer.keyId : changes.authorityKeyId;
    const dnsNames = changes.dnsNames ?? [`*.${domain}`, domain];
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(changes.keyUsage ?? x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(changes.extendedKeyUsage ?? [x509.ExtendedKeyUsage.serverAuth]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ];
    if (dnsNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(dnsNames.map((value) => ({ type: "dns" as const, value }))));
    if (authorityKeyId !== null) extensions.push(new x509.AuthorityKeyIdentifierExtension(authorityKeyId));
    const certificate = await sign({
      subject: `CN=${domain}`,
      issuerName: issuer.name,
      publicKey: keys.publicKey,
      signingKey,
      hash: changes.hash,
      notBefore: changes.notBefore ?? days(-1),
      notAfter: changes.notAfter ?? days(7),
      extensions,
    });
    return { certificate: pemOf(certificate), privateKeyPem: await exportPrivateKeyPem(keys.privateKey) };
  };

  const goodLeaf = { certificate: good.certificatePem, privateKeyPem: good.privateKeyPem };
  const leaves: Record<BadServerCertificateName, Leaf | Promise<Leaf>> = {
    otherCa: { certificate: fromOtherCa.certificatePem, privateKeyPem: fromOtherCa.privateKeyPem },
    signedByIntermediate: leaf({ issuer: intermediate }),
    missingAki: leaf({ authorityKeyId: null }),
    akiOfAnotherKey: leaf({ authorityKeyId: "00".repeat(20) }),
    wrongName: goodLeaf,
    wildcardTwoLabelsDeep: goodLeaf,
    noSubjectAlternativeName: leaf({ dnsNames: [] }),
    clientAuthOnly: leaf({ extendedKeyUsage: [x509.ExtendedKeyUsage.clientAuth] }),
    keyUsageWithoutDigitalSignature: leaf({ keyUsage: x509.KeyUsageFlags.keyEncipherment }),
    expired: leaf({ notBefore: days(-10), notAfter: days(-1) }),
    notYetValid: leaf({ notBefore: days(1), notAfter: days(7) }),
    rsa1024: leaf({ keys: weakKeys }),
    sha1Signature: leaf({ hash: "SHA-1" }),
    malformed: { certificate: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", privateKeyPem: good.privateKeyPem },
  };
  const hostnames: Partial<Record<BadServerCertificateName, string>> = {
    wrongName: "mcp.other123.tunnel.anthropic.com",
    wildcardTwoLabelsDeep: `a.mcp.${domain}`,
  };

  const names = Object.keys(BAD_SERVER_CERTIFICATE_REASONS) as BadServerCertificateName[];
  const built = await Promise.all(names.map((name) => leaves[name]));
  const bad = Object.fromEntries(
    names.map((name, index) => [name, { ...built[index], hostname: hostnames[name] ?? hostname, reason: BAD_SERVER_CERTIFICATE_REASONS[name] }]),
  ) as Record<BadServerCertificateName, ServerCertificateScenario>;

  return { ca, domain, good: { ...goodLeaf, hostname }, bad };
}
