import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Edge } from "./data-path/edge";
import { EdgeConnections } from "./data-path/edge-connections";
import { edgeUrlFor, STATE_FILE_FORMAT, STATE_FILE_VERSION } from "./decided/constants";
import type { EmulatorContext } from "./http/emulator-context";
import { Faults } from "./http/faults";
import { RequestLog } from "./http/request-log";
import { Router } from "./http/router";
import { RequestHandler } from "./http/server";
import { JwksResolver } from "./identity/jwks-resolver";
import { OidcIssuer } from "./identity/oidc-issuer";
import { tokenExchangeRoutes } from "./identity/token-exchange";
import { certificateRoutes } from "./routes/certificates";
import { controlPlaneRoutes } from "./routes/control-plane";
import { federationIssuerRoutes } from "./routes/federation-issuers";
import { federationRuleRoutes } from "./routes/federation-rules";
import { membershipRoutes } from "./routes/memberships";
import { serviceAccountRoutes } from "./routes/service-accounts";
import { tunnelRoutes } from "./routes/tunnels";
import { OffsetClock } from "./state/clock";
import { refreshBuiltInIssuer, seedState } from "./state/fixture";
import { readStateFile, writeStateFileAtomic } from "./state/persistence";
import { Store, type State } from "./state/store";

// Shapes of what the control plane answers, and where connectors register, for tools beside the
// emulator (test harnesses, twins, the demo) that should not reach into its folders.
export { EMULATOR_FIXTURE } from "./state/fixture-ids";
export { edgeUrlFor } from "./decided/constants";
export type { McpCallResult } from "./data-path/mcp-call";
export type { PresentedConnection } from "./data-path/edge-connections";
export type { RequestLogEntry } from "./http/request-log";
export type { AuditEntry } from "./state/store";

export interface EmulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Defaults to 127.0.0.1; the control plane answers loopback clients only whatever the bind address. */
  host?: string;
  /** Persist every change here (atomically) and reload it on start. */
  statePath?: string;
  /** Base clock; the control plane's offset is added to it. */
  now?: () => Date;
}

export interface RunningEmulator {
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  /** `ws://127.0.0.1:<port>/_emulator/edge/connect`: where connectors register. */
  edgeUrl: string;
  port: number;
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function urlHost(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const host = options.host ?? "127.0.0.1";
  const clock = new OffsetClock(options.now);
  const server = createServer({ keepAliveTimeout: 5_000 });
  const port = await listen(server, options.port ?? 0, host);
  const baseUrl = `http://${urlHost(host)}:${port}`;

  let oidc: OidcIssuer;
  let state: State;
  try {
    const saved = options.statePath ? readStateFile(options.statePath) : undefined;
    oidc = saved ? OidcIssuer.fromPrivateJwk(saved.oidc_private_jwk) : OidcIssuer.generate();
    state = saved ? saved.state : seedState(clock.now(), baseUrl, oidc);
    refreshBuiltInIssuer(state, baseUrl, oidc);
  } catch (error) {
    server.close();
    throw error;
  }

  const statePath = options.statePath;
  const persist = statePath
    ? (current: State) => writeStateFileAtomic(statePath, { format: STATE_FILE_FORMAT, version: STATE_FILE_VERSION, oidc_private_jwk: oidc.privateJwk, state: current })
    : undefined;
  const connections = new EdgeConnections();
  const store = new Store(state, (current) => {
    try {
      persist?.(current);
    } finally {
      connections.sweep(current);
    }
  });
  store.replace(state);

  const faults = new Faults();
  const requestLog = new RequestLog();
  const context: EmulatorContext = {
    baseUrl,
    store,
    clock,
    oidc,
    faults,
    requestLog,
    jwks: new JwksResolver(),
    reset() {
      clock.offsetSeconds = 0;
      faults.clear();
      requestLog.clear();
      store.replace(seedState(clock.now(), baseUrl, oidc));
    },
  };
  const api = new Router([...tokenExchangeRoutes(), ...tunnelRoutes(), ...certificateRoutes(), ...federationIssuerRoutes(), ...federationRuleRoutes(), ...serviceAccountRoutes(), ...membershipRoutes()]);
  const edge = new Edge(connections, store, clock);
  const handler = new RequestHandler(context, api, new Router(controlPlaneRoutes(edge)));
  server.on("request", handler.handle);
  server.on("upgrade", (request, socket, head) => {
    if (!edge.handleUpgrade(request, socket, head)) socket.end("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
  });

  return {
    baseUrl,
    edgeUrl: edgeUrlFor(baseUrl),
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        edge.close();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
