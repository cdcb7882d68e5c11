import type * as pulumi from "@pulumi/pulumi";
import type { KeyAlgorithm } from "../pki/key-algorithm";
import { certificateAuthoritySchema } from "../schemas/certificate-authority";
import { TunnelsResource } from "./resource-options";

export interface CertificateAuthorityArgs {
  commonName?: pulumi.Input<string>;
  keyAlgorithm?: pulumi.Input<KeyAlgorithm>;
  validityDays?: pulumi.Input<number>;
  renewBeforeDays?: pulumi.Input<number>;
  /** Change to issue a new CA now (e.g. a date or a counter). */
  rotation?: pulumi.Input<string | number>;
}

/** A local CA for the tunnel proxy's TLS. Replaced when `rotation` changes or renewal is due. */
export class CertificateAuthority extends TunnelsResource {
  declare readonly certificatePem: pulumi.Output<string>;
  declare readonly privateKeyPem: pulumi.Output<string>;
  declare readonly fingerprint: pulumi.Output<string>;
  declare readonly notAfter: pulumi.Output<string>;
  declare readonly renewAt: pulumi.Output<string>;

  constructor(name: string, args: CertificateAuthorityArgs = {}, opts?: pulumi.CustomResourceOptions) {
    super("certificate-authority", certificateAuthoritySchema, name, args, opts);
  }
}
