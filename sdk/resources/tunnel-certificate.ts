import type * as pulumi from "@pulumi/pulumi";
import { tunnelCertificateSchema } from "../schemas/tunnel-certificate";
import { TunnelsResource } from "./resource-options";

export interface TunnelCertificateArgs {
  tunnelId: pulumi.Input<string>;
  /** The CA certificate (PEM, no key), usually a CertificateAuthority's `certificatePem`. */
  caCertificatePem: pulumi.Input<string>;
  /** Seconds the replaced registration stays active while proxies pick up the new certificate (default 10). */
  archiveDelaySeconds?: pulumi.Input<number>;
}

/**
 * A CA registered on a tunnel. Destroying it archives ("revokes") the registration. A new PEM
 * registers the new CA before archiving the old one, so the two overlap.
 */
export class TunnelCertificate extends TunnelsResource {
  declare readonly certificateId: pulumi.Output<string>;
  declare readonly fingerprint: pulumi.Output<string>;
  declare readonly expiresAt: pulumi.Output<string | null>;
  declare readonly createdAt: pulumi.Output<string>;

  constructor(name: string, args: TunnelCertificateArgs, opts?: pulumi.CustomResourceOptions) {
    super("tunnel-certificate", tunnelCertificateSchema, name, args, opts);
  }
}
