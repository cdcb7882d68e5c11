import type * as pulumi from "@pulumi/pulumi";
import type { KeyAlgorithm } from "../pki/key-algorithm";
import { serverCertificateSchema } from "../schemas/server-certificate";
import { TunnelsResource } from "./resource-options";

export interface ServerCertificateArgs {
  caCertificatePem: pulumi.Input<string>;
  caPrivateKeyPem: pulumi.Input<string>;
  /** The Tunnel's domain; the certificate covers `*.<domain>` and `<domain>`. */
  domain: pulumi.Input<string>;
  keyAlgorithm?: pulumi.Input<KeyAlgorithm>;
  validityDays?: pulumi.Input<number>;
  renewBeforeDays?: pulumi.Input<number>;
  rotation?: pulumi.Input<string | number>;
}

/** The proxy's TLS certificate, signed directly by the tunnel's CA. Replaced on renewal. */
export class ServerCertificate extends TunnelsResource {
  declare readonly certificatePem: pulumi.Output<string>;
  declare readonly privateKeyPem: pulumi.Output<string>;
  declare readonly dnsNames: pulumi.Output<string[]>;
  declare readonly notAfter: pulumi.Output<string>;
  declare readonly renewAt: pulumi.Output<string>;
  declare readonly fingerprint: pulumi.Output<string>;

  constructor(name: string, args: ServerCertificateArgs, opts?: pulumi.CustomResourceOptions) {
    super("server-certificate", serverCertificateSchema, name, args, opts);
  }
}
