import type * as pulumi from "@pulumi/pulumi";
import { serverCertificateSchema, type ServerCertificateOutputs } from "../core/schemas/server-certificate";
import type { Clock } from "./kit/clock";
import { inContext } from "./kit/errors";
import { checkInputs, diffInputs, engineInputs, inputsFrom, type Props } from "./kit/inputs";
import { configure, forEngine } from "./kit/provider-module";
import { issuedAtFor, withRenewAt } from "./kit/renewal";
import { pkiOnFirstUse } from "./kit/pki-on-first-use";
import { runtimeClock } from "./kit/runtime";

const RESOURCE = "ServerCertificate";
const shape = serverCertificateSchema.inputs.shape;

/** The proxy's TLS certificate, signed directly by the tunnel's CA. Local only. */
export class ServerCertificateProvider implements pulumi.dynamic.ResourceProvider {
  constructor(private readonly clock: Clock) {}

  async check(olds: Props, news: Props): Promise<pulumi.dynamic.CheckResult> {
    const checked = checkInputs(serverCertificateSchema, { ...news, renewAt: undefined });
    const failures = [...checked.failures];
    const caPem = checked.known.caCertificatePem;
    // Only a CA about to issue a certificate needs checking; an unchanged one issues nothing.
    if (typeof caPem === "string" && caPem !== olds.caCertificatePem) {
      const ca = await (await pkiOnFirstUse()).checkCaCertificatePem(caPem, this.clock.now());
      if (!ca.ok) failures.push({ property: "caCertificatePem", reason: `caCertificatePem: ${ca.message}` });
    }
    const caKey = checked.known.caPrivateKeyPem;
    if (typeof caKey === "string" && !/-----BEGIN PRIVATE KEY-----/.test(caKey)) {
      failures.push({ property: "caPrivateKeyPem", reason: "caPrivateKeyPem must be the CA's PKCS#8 key in PEM: pass the same CertificateAuthority's privateKeyPem" });
    }
    return { inputs: withRenewAt({ ...checked, failures }, olds, shape, this.clock), failures };
  }

  async diff(_id: string, olds: Props, news: Props): Promise<pulumi.dynamic.DiffResult> {
    return diffInputs(shape, olds, news);
  }

  async create(inputs: Props): Promise<pulumi.dynamic.CreateResult> {
    const args = engineInputs(serverCertificateSchema, "create", inputs, ["renewAt"]);
    return inContext(`${RESOURCE} for ${args.domain}`, "create", async () => {
      const issued = await (await pkiOnFirstUse()).issueServerCertificate({
        caCertificatePem: args.caCertificatePem,
        caPrivateKeyPem: args.caPrivateKeyPem,
        domain: args.domain,
        keyAlgorithm: args.keyAlgorithm,
        validityDays: args.validityDays,
        now: issuedAtFor(args.renewAt, args),
      });
      const outs: ServerCertificateOutputs = {
        certificatePem: issued.certificatePem,
        privateKeyPem: issued.privateKeyPem,
        dnsNames: issued.dnsNames,
        // notAfter never passes the CA's; the CA renews (and so re-issues this) well before that.
        notAfter: issued.notAfter.toISOString(),
        renewAt: args.renewAt,
        fingerprint: issued.fingerprint,
      };
      return { id: issued.fingerprint, outs: { ...inputs, ...outs } };
    });
  }

  async read(id: string, props: Props): Promise<pulumi.dynamic.ReadResult> {
    return { id, props, inputs: inputsFrom(shape, props) };
  }

  async update(_id: string, olds: Props, news: Props): Promise<pulumi.dynamic.UpdateResult> {
    return { outs: { ...olds, ...news } };
  }

  async delete(): Promise<void> {}
}

export const provider = forEngine(serverCertificateSchema, new ServerCertificateProvider(runtimeClock));
export { configure };
