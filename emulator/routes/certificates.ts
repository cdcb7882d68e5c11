import { z } from "zod";
import { CONFLICT_MESSAGE_PREFIX, ID_PREFIX, MAX_ACTIVE_CERTIFICATES_PER_TUNNEL, TUNNEL_LIST_LIMIT } from "../../core/contract/tunnels-api";
import { loadPki } from "../data-path/pki-loader";
import { conflict, invalidRequest, notFound } from "../http/errors";
import { paginate, parseListQuery } from "../http/pagination";
import { principalOf, type Route } from "../http/router";
import { parseWith, requireNoFields } from "../http/validation";
import { recordAudit } from "../state/audit";
import * as ids from "../state/ids";
import type { CertificateRecord, State, TunnelRecord } from "../state/store";
import { findTunnel, refuseArchivedTunnel } from "./tunnels";

export function presentCertificate(certificate: CertificateRecord) {
  return {
    type: "tunnel_certificate" as const,
    id: certificate.id,
    tunnel_id: certificate.tunnel_id,
    fingerprint: certificate.fingerprint,
    expires_at: certificate.expires_at,
    created_at: certificate.created_at,
    archived_at: certificate.archived_at,
  };
}

const createBody = z.strictObject({ ca_certificate_pem: z.string() });

function findCertificate(state: State, tunnel: TunnelRecord, certificateId: string): CertificateRecord {
  const certificate = state.certificates.find((candidate) => candidate.id === certificateId && candidate.tunnel_id === tunnel.id);
  if (!certificate) throw notFound("certificate not found");
  return certificate;
}

export const activeCertificatesOf = (state: State, tunnelId: string) =>
  state.certificates.filter((certificate) => certificate.tunnel_id === tunnelId && certificate.archived_at === null);

export function certificateRoutes(): Route[] {
  return [
    {
      method: "POST",
      pattern: "/v1/tunnels/:tunnel_id/certificates",
      access: "tunnels",
      async handle(request, { store, clock }) {
        const body = parseWith(createBody, request.body ?? {});
        const principal = principalOf(request);
        const tunnelId = request.params["tunnel_id"]!;
        refuseArchivedTunnel(findTunnel(store.state, principal, tunnelId));
        const { checkCaCertificatePem } = await loadPki();
        const check = await checkCaCertificatePem(body.ca_certificate_pem, clock.now(), { field: "ca_certificate_pem" });
        if (!check.ok) throw invalidRequest(`${check.message} [rule: ${check.rule}]`);
        // The check above awaited: everything the limits depend on is read again here, synchronously.
        const certificate = store.mutate((state) => {
          const tunnel = findTunnel(state, principal, tunnelId);
          refuseArchivedTunnel(tunnel);
          const active = activeCertificatesOf(state, tunnel.id);
          if (active.some((candidate) => candidate.fingerprint === check.fingerprint)) {
            throw conflict(`${CONFLICT_MESSAGE_PREFIX.duplicateCertificate}: a certificate with this fingerprint is already active on the tunnel`);
          }
          if (active.length >= MAX_ACTIVE_CERTIFICATES_PER_TUNNEL) {
            throw conflict(
              `${CONFLICT_MESSAGE_PREFIX.certificateLimit}: a tunnel may have at most ${MAX_ACTIVE_CERTIFICATES_PER_TUNNEL} active certificates; archive one first`,
            );
          }
          const record: CertificateRecord = {
            id: ids.objectId(ID_PREFIX.certificate),
            tunnel_id: tunnel.id,
            fingerprint: check.fingerprint,
            expires_at: check.notAfter.toISOString(),
            pem: body.ca_certificate_pem,
            created_at: clock.now().toISOString(),
            archived_at: null,
            seq: store.nextSeq(),
          };
          state.certificates.push(record);
          recordAudit(state, clock, {
            action: "certificate.create",
            actor: principal.serviceAccountId,
            tunnel_id: tunnel.id,
            detail: { certificate_id: record.id, fingerprint: record.fingerprint, subject: check.subject, expires_at: record.expires_at },
          });
          return record;
        });
        return { body: presentCertificate(certificate) };
      },
    },
    {
      method: "GET",
      pattern: "/v1/tunnels/:tunnel_id/certificates",
      access: "tunnels",
      handle(request, { store }) {
        const tunnel = findTunnel(store.state, principalOf(request), request.params["tunnel_id"]!);
        const query = parseListQuery(request.query, "tunnel_certificates", TUNNEL_LIST_LIMIT, { archivable: true });
        const visible = store.state.certificates.filter(
          (certificate) => certificate.tunnel_id === tunnel.id && (query.includeArchived || certificate.archived_at === null),
        );
        return { body: paginate("tunnel_certificates", visible, query, presentCertificate) };
      },
    },
    {
      method: "GET",
      pattern: "/v1/tunnels/:tunnel_id/certificates/:certificate_id",
      access: "tunnels",
      handle(request, { store }) {
        const tunnel = findTunnel(store.state, principalOf(request), request.params["tunnel_id"]!);
        return { body: presentCertificate(findCertificate(store.state, tunnel, request.params["certificate_id"]!)) };
      },
    },
    {
      method: "POST",
      pattern: "/v1/tunnels/:tunnel_id/certificates/:certificate_id/archive",
      access: "tunnels",
      handle(request, { store, clock }) {
        requireNoFields(request.body);
        const principal = principalOf(request);
        const certificate = store.mutate((state) => {
          const tunnel = findTunnel(state, principal, request.params["tunnel_id"]!);
          const record = findCertificate(state, tunnel, request.params["certificate_id"]!);
          if (record.archived_at !== null) return record;
          record.archived_at = clock.now().toISOString();
          recordAudit(state, clock, {
            action: "certificate.archive",
            actor: principal.serviceAccountId,
            tunnel_id: tunnel.id,
            detail: { certificate_id: record.id, fingerprint: record.fingerprint, cause: "request" },
          });
          return record;
        });
        return { body: presentCertificate(certificate) };
      },
    },
  ];
}
