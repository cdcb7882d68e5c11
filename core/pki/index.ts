export { PkiError, type PkiErrorCode } from "./errors";
export { KEY_ALGORITHMS, type KeyAlgorithm } from "./key-algorithm";
export { fingerprintOfPem } from "./fingerprint";
export {
  checkCaCertificatePem,
  type CaCertificateCheck,
  type CaCertificateCheckOptions,
  type CaCertificateRule,
} from "./ca-certificate-rules";
export {
  checkServerCertificate,
  type ServerCertificateCheck,
  type ServerCertificateCheckOptions,
  type ServerCertificateFailure,
} from "./server-certificate-rules";
export type { GeneratedCertificate } from "./issuance";
export { generateCertificateAuthority, type CertificateAuthorityOptions } from "./certificate-authority";
export {
  issueServerCertificate,
  type GeneratedServerCertificate,
  type ServerCertificateOptions,
} from "./server-certificate";
