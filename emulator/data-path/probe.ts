import { z } from "zod";
import type { ServerCertificateFailure } from "../../core/pki";
import { PROBE_TIMEOUT_MS } from "../decided/constants";
import { notFound } from "../http/errors";
import type { Clock } from "../state/clock";
import type { State } from "../state/store";
import { innerTlsHandshake, InnerTlsHandshakeError, verifyServerCertificate } from "./inner-tls";

export const probeBody = z.strictObject({
  tunnel_id: z.string().min(1).max(64),
  host: z.string().min(1).max(253),
  port: z.number().int().min(1).max(65_535),
  route: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "must be one lowercase DNS label"),
});

export type ProbeResult =
  | { ok: true; ca_fingerprint: string }
  | { ok: false; reason: ServerCertificateFailure | "handshake_error" | "tunnel_archived"; message: string };

/**
 * Anthropic's side of the inner TLS: the leaf must be signed directly by one of the tunnel's
 * active CAs and cover `<route>.<domain>`.
 */
export async function probeTunnel(state: State, clock: Clock, input: z.output<typeof probeBody>): Promise<ProbeResult> {
  const tunnel = state.tunnels.find((candidate) => candidate.id === input.tunnel_id);
  if (!tunnel) throw notFound("tunnel not found");
  if (tunnel.archived_at !== null) return { ok: false, reason: "tunnel_archived", message: "the tunnel is archived and accepts no connections" };
  const hostname = `${input.route}.${tunnel.domain}`;
  let der: Buffer;
  try {
    const { socket, certificate } = await innerTlsHandshake({ host: input.host, port: input.port }, hostname, PROBE_TIMEOUT_MS);
    socket.end();
    socket.destroy();
    der = certificate;
  } catch (error) {
    if (!(error instanceof InnerTlsHandshakeError)) throw error;
    return { ok: false, reason: "handshake_error", message: error.message };
  }
  return verifyServerCertificate(state, clock, tunnel, der, hostname);
}
