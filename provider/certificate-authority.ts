import type * as pulumi from "@pulumi/pulumi";
import { certificateAuthoritySchema, type CertificateAuthorityOutputs } from "../core/schemas/certificate-authority";
import type { Clock } from "./kit/clock";
import { inContext } from "./kit/errors";
import { checkInputs, diffInputs, engineInputs, inputsFrom, type Props } from "./kit/inputs";
import { configure, forEngine } from "./kit/provider-module";
import { issuedAtFor, withRenewAt } from "./kit/renewal";
import { pkiOnFirstUse } from "./kit/pki-on-first-use";
import { runtimeClock } from "./kit/runtime";

const RESOURCE = "CertificateAuthority";
const shape = certificateAuthoritySchema.inputs.shape;

/** A local CA (never leaves this machine but for its certificate). Replaced on renewal or rotation. */
export class CertificateAuthorityProvider implements pulumi.dynamic.ResourceProvider {
  constructor(private readonly clock: Clock) {}

  async check(olds: Props, news: Props): Promise<pulumi.dynamic.CheckResult> {
    const checked = checkInputs(certificateAuthoritySchema, { ...news, renewAt: undefined });
    return { inputs: withRenewAt(checked, olds, shape, this.clock), failures: checked.failures };
  }

  async diff(_id: string, olds: Props, news: Props): Promise<pulumi.dynamic.DiffResult> {
    return diffInputs(shape, olds, news);
  }

  async create(inputs: Props): Promise<pulumi.dynamic.CreateResult> {
    const args = engineInputs(certificateAuthoritySchema, "create", inputs, ["renewAt"]);
    return inContext(`${RESOURCE} "${args.commonName}"`, "create", async () => {
      const ca = await (await pkiOnFirstUse()).generateCertificateAuthority({
        commonName: args.commonName,
        keyAlgorithm: args.keyAlgorithm,
        validityDays: args.validityDays,
        now: issuedAtFor(args.renewAt, args),
      });
      const outs: CertificateAuthorityOutputs = {
        certificatePem: ca.certificatePem,
        privateKeyPem: ca.privateKeyPem,
        fingerprint: ca.fingerprint,
        notAfter: ca.notAfter.toISOString(),
        renewAt: args.renewAt,
      };
      return { id: ca.fingerprint, outs: { ...inputs, ...outs } };
    });
  }

  async read(id: string, props: Props): Promise<pulumi.dynamic.ReadResult> {
    return { id, props, inputs: inputsFrom(shape, props) };
  }

  async update(_id: string, olds: Props, news: Props): Promise<pulumi.dynamic.UpdateResult> {
    // Every input replaces, so this only records inputs; the certificate stays as it is.
    return { outs: { ...olds, ...news } };
  }

  async delete(): Promise<void> {
    // Local only: forgetting the key is all there is to delete.
  }
}

export const provider = forEngine(certificateAuthoritySchema, new CertificateAuthorityProvider(runtimeClock));
export { configure };
