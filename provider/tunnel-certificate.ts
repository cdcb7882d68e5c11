import type * as pulumi from "@pulumi/pulumi";
import { MAX_ACTIVE_CERTIFICATES_PER_TUNNEL } from "../core/contract/tunnels-api";
import { isTunnelsApiError } from "../core/api/errors";
import type { TunnelCertificate as ApiCertificate } from "../core/api";
import { tunnelCertificateSchema, type TunnelCertificateOutputs } from "../core/schemas/tunnel-certificate";
import { clientsFrom, type ApiClients } from "./kit/clients";
import type { Clock } from "./kit/clock";
import { inContext, withCodes } from "./kit/errors";
import { checkInputs, diffInputs, engineInputs, inputsFrom, type Props } from "./kit/inputs";
import { configure, GONE, forEngine } from "./kit/provider-module";
import { pkiOnFirstUse } from "./kit/pki-on-first-use";
import { runtimeClock } from "./kit/runtime";

const RESOURCE = "TunnelCertificate";
/** The overlap before a replaced CA is archived, unless archiveDelaySeconds says otherwise. */
export const DEFAULT_ARCHIVE_DELAY_SECONDS = 10;
const shape = tunnelCertificateSchema.inputs.shape;

/**
 * A CA registered on a tunnel. create = register, delete = archive ("revoke"). A new PEM replaces
 * create-before-delete, so both CAs are active while dependents move over.
 */
export class TunnelCertificateProvider implements pulumi.dynamic.ResourceProvider {
  constructor(
    private readonly clients: ApiClients,
    private readonly clock: Clock,
  ) {}

  async check(olds: Props, news: Props): Promise<pulumi.dynamic.CheckResult> {
    const checked = checkInputs(tunnelCertificateSchema, news);
    const failures = [...checked.failures];
    const { tunnelId, caCertificatePem } = checked.known;
    // Only a CA about to be registered needs checking; an unchanged registration sends nothing.
    if (typeof caCertificatePem === "string" && registersNew(olds, checked.inputs)) {
      const verdict = await (await pkiOnFirstUse()).checkCaCertificatePem(caCertificatePem, this.clock.now());
      if (!verdict.ok) failures.push({ property: "caCertificatePem", reason: `caCertificatePem: ${verdict.message}` });
    }
    if (failures.length === 0 && typeof tunnelId === "string" && registersNew(olds, checked.inputs)) {
      failures.push(...(await this.slotFailures(tunnelId, olds, String(caCertificatePem))));
    }
    return { inputs: checked.inputs, failures };
  }

  async diff(_id: string, olds: Props, news: Props): Promise<pulumi.dynamic.DiffResult> {
    return diffInputs(shape, olds, news);
  }

  async create(inputs: Props): Promise<pulumi.dynamic.CreateResult> {
    const { tunnelId, caCertificatePem } = engineInputs(tunnelCertificateSchema, "create", inputs);
    return inContext(`${RESOURCE} on ${tunnelId}`, "create", async () => {
      let certificate: ApiCertificate;
      try {
        // Check counted the slots, but another registration can take the last one before this runs.
        certificate = await withCodes(this.clients.tunnels().certificates.create(tunnelId, { caCertificatePem }), { CERT_SLOTS_FULL: "CERTIFICATE_SLOTS_FULL" });
      } catch (error) {
        // Already active (e.g. registered by a run that crashed before recording it): take it over
        // instead of leaving it orphaned.
        if (!isTunnelsApiError(error, "CERT_ALREADY_ACTIVE")) throw error;
        certificate = (await this.activeWithFingerprint(tunnelId, (await pkiOnFirstUse()).fingerprintOfPem(caCertificatePem))) ?? rethrow(error);
      }
      return { id: certificate.id, outs: { ...inputs, ...outputsOf(certificate) } };
    });
  }

  async read(id: string, props: Props): Promise<pulumi.dynamic.ReadResult> {
    const tunnelId = String(props.tunnelId);
    return inContext(`${RESOURCE} ${id}`, "read", async () => {
      let certificate: ApiCertificate;
      try {
        certificate = await this.clients.tunnels().certificates.retrieve(tunnelId, id);
      } catch (error) {
        if (isTunnelsApiError(error, "TUNNELS_NOT_FOUND")) return GONE;
        throw error;
      }
      // Archived out of band ("revoked" in the console): gone, so the next `up` registers again.
      if (certificate.archivedAt) return GONE;
      const outs = { ...props, ...outputsOf(certificate) };
      return { id, props: outs, inputs: inputsFrom(shape, outs) };
    });
  }

  async update(_id: string, olds: Props, news: Props): Promise<pulumi.dynamic.UpdateResult> {
    return { outs: { ...olds, ...news } };
  }

  async delete(id: string, props: Props): Promise<void> {
    const delaySeconds = typeof props.archiveDelaySeconds === "number" ? props.archiveDelaySeconds : DEFAULT_ARCHIVE_DELAY_SECONDS;
    // The engine deletes a replaced registration after the new CA's dependents are updated; the
    // proxies reading them still need time to serve the new certificate before this CA goes.
    // Only an overlap waits: with no other active CA (a destroy), nothing could take over.
    if (delaySeconds > 0 && (await this.activeCertificates(String(props.tunnelId)).catch(() => [])).some((certificate) => certificate.id !== id)) {
      await new Promise((resolve) => setTimeout(resolve, delaySeconds * 1000));
    }
    await inContext(`${RESOURCE} ${id}`, "delete", async () => {
      try {
        await this.clients.tunnels().certificates.archive(String(props.tunnelId), id);
      } catch (error) {
        if (!isTunnelsApiError(error, "TUNNELS_NOT_FOUND")) throw error;
      }
    });
  }

  private async activeCertificates(tunnelId: string): Promise<ApiCertificate[]> {
    const active: ApiCertificate[] = [];
    for await (const certificate of this.clients.tunnels().certificates.list(tunnelId, {})) if (!certificate.archivedAt) active.push(certificate);
    return active;
  }

  private async activeWithFingerprint(tunnelId: string, fingerprint: string): Promise<ApiCertificate | undefined> {
    return (await this.activeCertificates(tunnelId)).find((c) => c.fingerprint === fingerprint);
  }

  /**
   * Never a third active certificate: registering needs a free slot, counting the registration
   * this resource already owns (it stays active until the replacement is done).
   */
  private async slotFailures(tunnelId: string, olds: Props, newPem: string): Promise<pulumi.dynamic.CheckFailure[]> {
    const active = await this.activeCertificates(tunnelId);
    if (active.length < MAX_ACTIVE_CERTIFICATES_PER_TUNNEL) return [];
    const { fingerprintOfPem } = await pkiOnFirstUse();
    const safeFingerprint = (pem: string): string | undefined => {
      try {
        return fingerprintOfPem(pem);
      } catch {
        return undefined;
      }
    };
    if (active.some((c) => c.fingerprint === safeFingerprint(newPem))) return [];
    const ownedFingerprint = typeof olds.caCertificatePem === "string" && olds.tunnelId === tunnelId ? safeFingerprint(olds.caCertificatePem) : undefined;
    const described = active.map((c) => `${c.id}${c.fingerprint === ownedFingerprint ? " (this resource's current registration)" : " (not managed by this resource)"}`);
    const foreign = active.filter((c) => c.fingerprint !== ownedFingerprint).map((c) => c.id);
    return [
      {
        property: "caCertificatePem",
        reason:
          `tunnel ${tunnelId} already has ${active.length} active CA certificates (${described.join(", ")}), the limit is ${MAX_ACTIVE_CERTIFICATES_PER_TUNNEL}, ` +
          `and registering this one would make a third. Archive ${foreign.length > 0 ? foreign.join(" or ") : "one of them"} first ` +
          "(console: Revoke, or POST /v1/tunnels/{id}/certificates/{cid}/archive), or let the resource that owns it finish its rotation, then preview again.",
      },
    ];
  }
}

function rethrow(error: unknown): never {
  throw error;
}

/** A registration is made when the resource is new or its tunnel or PEM changes. */
function registersNew(olds: Props, news: Props): boolean {
  return olds.tunnelId !== news.tunnelId || olds.caCertificatePem !== news.caCertificatePem;
}

function outputsOf(certificate: ApiCertificate): TunnelCertificateOutputs {
  return { certificateId: certificate.id, fingerprint: certificate.fingerprint, expiresAt: certificate.expiresAt, createdAt: certificate.createdAt };
}

export const provider = forEngine(tunnelCertificateSchema, new TunnelCertificateProvider(clientsFrom(), runtimeClock));
export { configure };
