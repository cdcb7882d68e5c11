import { connect, type PeerCertificate } from "node:tls";
import { z } from "zod";
import type { ServerCertificateFailure } from "../sdk/pki";
import type { Clock } from "./clock";
import { PROBE_TIMEOUT_MS } from "./constants";
import { notFound } from "./errors";
import { loadPki } from "./pki-loader";
import type { State } from "./store";

export const probeBody = z.strictObject({
  tunnel_id: z.string().min(1).max(64),
  host: z.string().min(1).max(253),
  port: z.number().int().min(1).max(65_535),
  route: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "must be one lowercase DNS label"),
});

export type ProbeResult =
  | { ok: true; ca_fingerprint: string }
  | { ok: false; reason: ServerCertificateFailure | "handshake_error" | "tunnel_archived"; message: string };

/** Completes a TLS handshake with SNI `hostname` and returns the leaf certificate's DER. */
function fetchServerCertificate(host: string, port: number, hostname: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // Trust is decided by the tunnel's CAs below, not by the system store.
    const socket = connect({ host, port, servername: hostname, rejectUnauthorized: false, timeout: PROBE_TIMEOUT_MS });
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.once("timeout", () => fail(new Error(`no TLS handshake within ${PROBE_TIMEOUT_MS} ms`)));
    socket.once("error", fail);
    socket.once("secureConnect", () => {
      const peer: PeerCertificate | undefined = socket.getPeerCertificate(false);
      socket.end();
      socket.destroy();
      if (!peer?.raw) reject(new Error("the server presented no certificate"));
      else resolve(peer.raw);
    });
  });
}

/**
 * Anthropic's side of the inner TLS: the leaf must be signed directly by one of the tunnel's
 * active CAs and cover `<route>.<domain>`.
 */
export async function probeTunnel(state: State, clock: Clock, input: z.output<typeof probeBody>): Promise<ProbeResult> {
  const tunnel = state.tunnels.find((candidate) => candidate.id === input.tunnel_id);
  if (!tunnel) throw notFound("tunnel not found");
  if (tunnel.archived_at !== null) return { ok: false, reason: "tunnel_archived", message: "the tunnel is archived and accepts no connections" };
  const hostname = `${input.route}.${tunnel.domain}`;
  const certificates = state.certificates.filter((certificate) => certificate.tunnel_id === tunnel.id);
  const active = certificates.filter((certificate) => certificate.archived_at === null).map((certificate) => certificate.pem);
  const archived = certificates.filter((certificate) => certificate.archived_at !== null).map((certificate) => certificate.pem);

  let der: Buffer;
  try {
    der = await fetchServerCertificate(input.host, input.port, hostname);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { ok: false, reason: "handshake_error", message: `${code ? `${code}: ` : ""}${(error as Error).message}` };
  }
  const { checkServerCertificate } = await loadPki();
  const now = clock.now();
  const check = await checkServerCertificate({ certificate: new Uint8Array(der), trustedCaPems: active, hostname, now });
  if (check.ok) return { ok: true, ca_fingerprint: check.caFingerprint };
  if (check.reason === "unknown_ca" && archived.length > 0) {
    const againstArchived = await checkServerCertificate({ certificate: new Uint8Array(der), trustedCaPems: archived, hostname, now });
    if (againstArchived.ok || againstArchived.reason !== "unknown_ca") {
      return { ok: false, reason: "archived_ca", message: "the server certificate is signed by a CA that was archived on this tunnel; issue it from an active CA" };
    }
  }
  return { ok: false, reason: check.reason, message: check.message };
}
