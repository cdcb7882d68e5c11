import { CLOSE_CODE, type TunnelMux } from "./tunnel-wire";
import type { State } from "../state/store";

/** One registered connector connection (one of a connector's HA connections). */
export interface EdgeConnection {
  readonly id: string;
  readonly tunnelId: string;
  readonly connectorId: string;
  readonly connIndex: number;
  /** The id (never the value) of the token it registered with; a rotation leaves it in place. */
  readonly tokenId: string;
  readonly registeredAt: string;
  readonly mux: TunnelMux;
  streamsOpened: number;
  /** The most streams it carried at once. */
  peakOpenStreams: number;
}

export function presentConnection(connection: EdgeConnection) {
  return {
    connection_id: connection.id,
    tunnel_id: connection.tunnelId,
    connector_id: connection.connectorId,
    conn_index: connection.connIndex,
    token_id: connection.tokenId,
    registered_at: connection.registeredAt,
    open_streams: connection.mux.openStreams,
    streams_opened: connection.streamsOpened,
    peak_open_streams: connection.peakOpenStreams,
  };
}

export type PresentedConnection = ReturnType<typeof presentConnection>;

/**
 * The edge's registry of live connections. A connection leaves it when its WebSocket closes, when
 * the same connector registers the same index again (the newer one wins, as after a reconnect
 * the edge has not noticed yet), or when its tunnel is archived or gone.
 */
export class EdgeConnections {
  private readonly live = new Map<string, EdgeConnection>();

  add(connection: EdgeConnection): void {
    for (const existing of this.live.values()) {
      if (existing.tunnelId === connection.tunnelId && existing.connectorId === connection.connectorId && existing.connIndex === connection.connIndex) {
        this.live.delete(existing.id);
        existing.mux.close(CLOSE_CODE.superseded, "superseded by a newer registration of this connection index");
      }
    }
    this.live.set(connection.id, connection);
  }

  remove(connection: EdgeConnection): void {
    if (this.live.get(connection.id) === connection) this.live.delete(connection.id);
  }

  /** Oldest registration first; a connection whose close has begun is gone already. */
  list(tunnelId?: string): EdgeConnection[] {
    return [...this.live.values()].filter((connection) => connection.mux.isOpen && (tunnelId === undefined || connection.tunnelId === tunnelId));
  }

  /** The connection a new stream of `tunnelId` goes over: the least busy, then the least used. */
  pick(tunnelId: string): EdgeConnection | undefined {
    let best: EdgeConnection | undefined;
    for (const connection of this.list(tunnelId)) {
      if (
        !best ||
        connection.mux.openStreams < best.mux.openStreams ||
        (connection.mux.openStreams === best.mux.openStreams && connection.streamsOpened < best.streamsOpened)
      ) {
        best = connection;
      }
    }
    return best;
  }

  /**
   * After every committed change: archiving a tunnel severs its connections at once (a reset
   * drops those whose tunnel no longer exists). A rotation does not: established connections
   * drain naturally, only new registrations need the new token.
   */
  sweep(state: State): void {
    for (const connection of [...this.live.values()]) {
      const tunnel = state.tunnels.find((candidate) => candidate.id === connection.tunnelId);
      if (tunnel && tunnel.archived_at === null) continue;
      this.live.delete(connection.id);
      connection.mux.close(tunnel ? CLOSE_CODE.tunnelArchived : CLOSE_CODE.dropped, tunnel ? "tunnel archived" : "tunnel no longer exists");
    }
  }

  /** Closes the matching connections as a network failure would; returns how many. */
  drop(tunnelId: string, connIndex?: number): number {
    const matching = this.list(tunnelId).filter((connection) => connIndex === undefined || connection.connIndex === connIndex);
    for (const connection of matching) {
      this.live.delete(connection.id);
      connection.mux.close(CLOSE_CODE.dropped, "dropped by the emulator");
    }
    return matching.length;
  }

  closeAll(): void {
    for (const connection of [...this.live.values()]) connection.mux.close(CLOSE_CODE.goingAway, "edge shutting down");
    this.live.clear();
  }
}
