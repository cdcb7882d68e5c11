import type { Duplex } from "node:stream";
import { connect, type PeerCertificate, type TLSSocket } from "node:tls";
import type { ServerCertificateFailure } from "../../core/pki";
import type { Clock } from "../state/clock";
import type { State, TunnelRecord } from "../state/store";
import { loadPki } from "./pki-loader";

/**
 * Anthropic's side of the inner TLS, shared by the probe (a TCP dial) and the MCP call (a TLS
 * session inside a tunnel stream): the handshake, then the server-certificate rules of the API
 * contract (docs/tunnels-api.md) against the tunnel's CAs.
 */

export type ServerCertificateVerdict =
  | { ok: true; ca_fingerprint: string }
  | { ok: false; reason: ServerCertificateFailure; message: string };

export class InnerTlsHandshakeError extends Error {
  override readonly name = "InnerTlsHandshakeError";
  readonly reason = "handshake_error";
  constructor(message: string) {
    super(message);
  }
}

export type InnerTlsTarget = { host: string; port: number } | { socket: Duplex };

/**
 * Completes a TLS handshake with SNI `hostname` and ALPN http/1.1, and returns the connected
 * socket and the leaf's DER. Trust is decided afterwards by `verifyServerCertificate`, from the
 * tunnel's CAs, never by the system store. Rejects with InnerTlsHandshakeError.
 */
export function innerTlsHandshake(target: InnerTlsTarget, hostname: string, timeoutMs: number, signal?: AbortSignal): Promise<{ socket: TLSSocket; certificate: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ ...target, servername: hostname, ALPNProtocols: ["http/1.1"], rejectUnauthorized: false });
    const timer = setTimeout(() => fail(new InnerTlsHandshakeError(`no TLS handshake within ${timeoutMs} ms`)), timeoutMs);
    const onAbort = () => fail(new InnerTlsHandshakeError(`the TLS handshake was abandoned: ${(signal?.reason as Error | undefined)?.message ?? "aborted"}`));
    signal?.addEventListener("abort", onAbort, { once: true });
    function settle(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      socket.off("error", onError);
    }
    function fail(error: Error): void {
      settle();
      socket.destroy();
      reject(error);
    }
    function onError(error: NodeJS.ErrnoException): void {
      fail(new InnerTlsHandshakeError(`${error.code ? `${error.code}: ` : ""}${error.message}`));
    }
    socket.once("error", onError);
    socket.once("secureConnect", () => {
      const peer: PeerCertificate | undefined = socket.getPeerCertificate(false);
      if (!peer?.raw) {
        fail(new InnerTlsHandshakeError("the server presented no certificate"));
        return;
      }
      settle();
      resolve({ socket, certificate: peer.raw });
    });
    if (signal?.aborted) onAbort();
  });
}

/** CA PEMs of `tunnel`, split by whether they are active. */
function tunnelCas(state: State, tunnel: TunnelRecord): { active: string[]; archived: string[] } {
  const certificates = state.certificates.filter((certificate) => certificate.tunnel_id === tunnel.id);
  return {
    active: certificates.filter((certificate) => certificate.archived_at === null).map((certificate) => certificate.pem),
    archived: certificates.filter((certificate) => certificate.archived_at !== null).map((certificate) => certificate.pem),
  };
}

export function hasActiveCa(state: State, tunnel: TunnelRecord): boolean {
  return tunnelCas(state, tunnel).active.length > 0;
}

/**
 * The leaf must be signed directly by one of the tunnel's active CAs and cover `hostname`. A leaf
 * from a CA that was archived on this tunnel is named as such (`archived_ca`), since that is the
 * mistake to fix.
 */
export async function verifyServerCertificate(state: State, clock: Clock, tunnel: TunnelRecord, der: Buffer, hostname: string): Promise<ServerCertificateVerdict> {
  const { active, archived } = tunnelCas(state, tunnel);
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
