import { randomUUID } from "node:crypto";
import { STATUS_CODES, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { HA_CONNECTIONS, REGISTRATION_HEADER, TunnelMux, type TunnelWireErrorCode } from "./tunnel-wire";
import { EDGE_CONNECT_PATH, EDGE_LOCATION } from "../decided/constants";
import { errorBody } from "../http/errors";
import { isLoopbackPeer } from "../http/loopback";
import { checkTunnelToken } from "../routes/tunnels";
import type { Clock } from "../state/clock";
import * as ids from "../state/ids";
import type { Store } from "../state/store";
import type { EdgeConnection, EdgeConnections } from "./edge-connections";

/** cloudflared's own words for a refused registration; the connector logs what the edge says. */
export const INVALID_TUNNEL_SECRET = "Unauthorized: Invalid tunnel secret";

/**
 * What the edge answers its caller when a stream fails, by the failure's code: the troubleshooting
 * guide's 500 without ingress rules, 502 when the connector cannot reach the origin.
 */
export const STREAM_FAILURE_STATUS: Record<TunnelWireErrorCode, number> = {
  no_ingress: 500,
  origin_unreachable: 502,
  origin_rejected: 502,
  origin_failed: 502,
  cancelled: 502,
  protocol_error: 502,
  connection_closed: 502,
  malformed_frame: 502,
};

/** Cloudflare answers 530 (error 1033) for a hostname whose tunnel has no connector connected. */
export const NO_CONNECTION_STATUS = 530;

export class EdgeError extends Error {
  override readonly name = "EdgeError";
  constructor(
    readonly code: "no_connection",
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const CONNECTOR_ID = /^[A-Za-z0-9-]{1,64}$/;


function refuse(socket: Duplex, status: number, message: string): void {
  const requestId = ids.requestId();
  const body = JSON.stringify(errorBody(status, message, requestId));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nrequest-id: ${requestId}\r\nconnection: close\r\n\r\n${body}`,
  );
}

function singleHeader(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === "string" ? value : undefined;
}

/**
 * The tunnel edge (Cloudflare's role): connectors register WebSocket connections with the
 * tunnel token, and streams for a tunnel's hostnames go over one of its connections.
 */
export class Edge {
  private readonly server = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  private readonly connectionIds = new WeakMap<IncomingMessage, string>();

  constructor(
    readonly connections: EdgeConnections,
    private readonly store: Store,
    private readonly clock: Clock,
  ) {
    this.server.on("headers", (headers, request) => {
      headers.push(`${REGISTRATION_HEADER.connectionId}: ${this.connectionIds.get(request)}`, `${REGISTRATION_HEADER.location}: ${EDGE_LOCATION}`);
    });
  }

  /** Takes the upgrade when it is a registration; false when the path is not the edge's. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const path = new URL(request.url ?? "/", "http://edge.invalid").pathname;
    if (path !== EDGE_CONNECT_PATH) return false;
    socket.on("error", () => socket.destroy());
    if (!isLoopbackPeer(request.socket.remoteAddress)) {
      refuse(socket, 403, "the edge answers loopback clients only");
      return true;
    }
    const connIndex = Number(singleHeader(request, REGISTRATION_HEADER.connIndex));
    if (!Number.isInteger(connIndex) || connIndex < 0 || connIndex >= HA_CONNECTIONS) {
      refuse(socket, 400, `${REGISTRATION_HEADER.connIndex} must be an integer from 0 to ${HA_CONNECTIONS - 1}`);
      return true;
    }
    const connectorId = singleHeader(request, REGISTRATION_HEADER.connectorId);
    if (connectorId === undefined || !CONNECTOR_ID.test(connectorId)) {
      refuse(socket, 400, `${REGISTRATION_HEADER.connectorId} must be 1-64 letters, digits or dashes`);
      return true;
    }
    const bearer = /^Bearer (\S+)$/.exec(singleHeader(request, "authorization") ?? "");
    const check = bearer ? checkTunnelToken(this.store.state, bearer[1]!) : undefined;
    if (!check?.ok) {
      refuse(socket, 401, INVALID_TUNNEL_SECRET);
      return true;
    }
    const id = randomUUID();
    this.connectionIds.set(request, id);
    this.server.handleUpgrade(request, socket, head, (webSocket) => {
      const connection: EdgeConnection = {
        id,
        tunnelId: check.tunnel_id,
        connectorId,
        connIndex,
        tokenId: check.token_id,
        registeredAt: this.clock.now().toISOString(),
        mux: new TunnelMux(webSocket),
        streamsOpened: 0,
        peakOpenStreams: 0,
      };
      webSocket.on("error", () => webSocket.terminate());
      webSocket.once("close", () => this.connections.remove(connection));
      this.connections.add(connection);
    });
    return true;
  }

  /**
   * A stream to the origin behind `tunnelId`, over its least busy connection, once the connector
   * accepted it. Rejects with EdgeError (no connection) or the connector's TunnelWireError.
   */
  async openStream(tunnelId: string, host: string, signal?: AbortSignal): Promise<{ stream: Duplex; connection: EdgeConnection }> {
    const connection = this.connections.pick(tunnelId);
    if (!connection) {
      throw new EdgeError("no_connection", NO_CONNECTION_STATUS, "the tunnel has no connector connection registered at the edge (Cloudflare error 1033); start cloudflared with the tunnel's current token");
    }
    connection.streamsOpened += 1;
    const opening = connection.mux.open({ host }, signal);
    connection.peakOpenStreams = Math.max(connection.peakOpenStreams, connection.mux.openStreams);
    return { stream: await opening, connection };
  }

  close(): void {
    this.connections.closeAll();
    this.server.close();
  }
}
