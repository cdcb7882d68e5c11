export type PkiErrorCode =
  /** The text is not exactly one well-formed `CERTIFICATE` PEM block. */
  | "PEM_INVALID"
  /** The DER inside the block is not an X.509 certificate. */
  | "CERTIFICATE_INVALID"
  /** The private key PEM cannot be read, or is of an unsupported type. */
  | "PRIVATE_KEY_INVALID"
  /** The private key does not belong to the certificate it was given with. */
  | "KEY_MISMATCH"
  /** A certificate used as a CA cannot act as one (not a CA, no SubjectKeyIdentifier). */
  | "CA_INVALID"
  /** The CA expires before the certificate it should issue would start. */
  | "CA_EXPIRED"
  | "INVALID_ARGUMENT";

/**
 * Every failure thrown by pki. Messages describe the problem without repeating the input, so
 * they are safe to log even when the input held key material; `hint` says how to fix it.
 */
export class PkiError extends Error {
  override readonly name = "PkiError";

  constructor(
    readonly code: PkiErrorCode,
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}
