import { once } from "node:events";
import * as http from "node:http";
import { connect as tcpConnect, type AddressInfo } from "node:net";
import * as tls from "node:tls";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { afterEach } from "vitest";
import { createWebSocketStream, WebSocketServer, type WebSocket } from "ws";
import { z } from "zod";
import type { McpCallResult, PresentedConnection } from "../../emulator/index";
import { generateCertificateAuthority, issueServerCertificate, type GeneratedCertificate } from "../../core/pki";
import { ContainerFs, loopbackSubnet, NetworkNamespace, type RunningTwin } from "../../twin/container";
import { startConnector } from "../../twin/connector";
import { LogBook } from "../../twin/log-book.test-support";
import type { Conformance } from "./conformance-client";

// The pieces around the edge for data-path tests: a tunnel with its token and CA, a real MCP
// upstream, an origin standing in for mcp-proxy (plaintext WebSocket, inner TLS terminated
// there), and the connector twin. Everything listens on port 0 and is closed by `teardown`.

export type Teardown = Array<() => unknown>;

/** A teardown that empties itself after each test, last step first. */
export function teardownAfterEachTest(): Teardown {
  const teardown: Teardown = [];
  afterEach(async () => {
    for (const step of teardown.splice(0).reverse()) await step();
  });
  return teardown;
}

/** A fresh network namespace (loopback address) per call, so tests never share one by accident. */
export function freshNamespaces(): () => NetworkNamespace {
  const subnet = loopbackSubnet();
  let used = 0;
  return () => new NetworkNamespace(subnet(used++));
}

const CONNECTOR_USER = { uid: 65532, gid: 65532 };

export interface TestTunnel {
  id: string;
  domain: string;
  token: string;
  tokenId: string;
  ca: GeneratedCertificate;
}

export async function issueFor(ca: GeneratedCertificate, domain: string): Promise<GeneratedCertificate> {
  return issueServerCertificate({ caCertificatePem: ca.certificatePem, caPrivateKeyPem: ca.privateKeyPem, domain, keyAlgorithm: "ECDSA_P256", validityDays: 7, now: new Date() });
}

export function newCa(name = "Data path CA"): Promise<GeneratedCertificate> {
  return generateCertificateAuthority({ commonName: name, keyAlgorithm: "ECDSA_P256", validityDays: 30, now: new Date() });
}

/** A tunnel, its revealed token and (unless told otherwise) a CA registered through the API. */
export async function createTunnel(emu: Conformance, options: { registerCa?: boolean } = {}): Promise<TestTunnel> {
  const tunnel = (await emu.tunnels("POST", "/v1/tunnels", { body: { display_name: "data path" } })).body as { id: string; domain: string };
  const token = (await emu.tunnels("POST", `/v1/tunnels/${tunnel.id}/reveal_token`)).body as { id: string; tunnel_token: string };
  const ca = await newCa();
  if (options.registerCa !== false) {
    const registered = await emu.tunnels("POST", `/v1/tunnels/${tunnel.id}/certificates`, { body: { ca_certificate_pem: ca.certificatePem } });
    if (registered.status !== 200) throw new Error(`CA registration answered ${registered.status}`);
  }
  return { id: tunnel.id, domain: tunnel.domain, token: token.tunnel_token, tokenId: token.id, ca };
}

export async function rotateToken(emu: Conformance, tunnelId: string): Promise<{ token: string; tokenId: string }> {
  const rotated = (await emu.tunnels("POST", `/v1/tunnels/${tunnelId}/rotate_token`, { body: {} })).body as { id: string; tunnel_token: string };
  return { token: rotated.tunnel_token, tokenId: rotated.id };
}

export function connections(emu: Conformance, tunnelId: string): Promise<PresentedConnection[]> {
  return emu.control<{ data: PresentedConnection[] }>("GET", `/_emulator/edge/connections?tunnel_id=${tunnelId}`).then((body) => body.data);
}

export function mcpCall(emu: Conformance, body: Record<string, unknown>): Promise<McpCallResult> {
  return emu.control<McpCallResult>("POST", "/_emulator/mcp", body);
}

function listen(server: http.Server | WebSocketServer, host: string): Promise<number> {
  if (server instanceof WebSocketServer) return once(server, "listening").then(() => (server.address() as AddressInfo).port);
  return new Promise((resolve) => server.listen(0, host, () => resolve((server.address() as AddressInfo).port)));
}

/** Listens on a loopback port; at teardown, closes the server and the connections it still holds. */
async function listenOnLoopback(teardown: Teardown, server: http.Server): Promise<number> {
  const port = await listen(server, "127.0.0.1");
  teardown.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return port;
}

export interface McpUpstream {
  port: number;
  /** The `authorization` header of every request, as received. */
  authorizations: (string | undefined)[];
}

/**
 * A real MCP server (the SDK's McpServer, stateless Streamable HTTP on node:http) with an `add`
 * tool. With `requireBearer`, other bearers get 401 with a body that repeats what was presented,
 * as a careless server might, so tests can see the emulator redact it.
 */
export async function startMcpUpstream(teardown: Teardown, options: { requireBearer?: string } = {}): Promise<McpUpstream> {
  const authorizations: (string | undefined)[] = [];
  const server = http.createServer((request, response) => {
    authorizations.push(request.headers.authorization);
    if (options.requireBearer !== undefined && request.headers.authorization !== `Bearer ${options.requireBearer}`) {
      response.writeHead(401, { "content-type": "text/plain" }).end(`unauthorized: got ${request.headers.authorization ?? "no authorization"}`);
      return;
    }
    if (request.method !== "POST") {
      response.writeHead(405, { allow: "POST" }).end();
      return;
    }
    const mcp = new McpServer({ name: "data-path-upstream", version: "1.0.0" });
    mcp.registerTool("add", { description: "Adds two numbers", inputSchema: { a: z.number(), b: z.number() } }, ({ a, b }) => ({
      content: [{ type: "text", text: String(a + b) }],
    }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    response.once("close", () => {
      void transport.close();
      void mcp.close();
    });
    void mcp.connect(transport).then(() => transport.handleRequest(request, response));
  });
  const port = await listenOnLoopback(teardown, server);
  return { port, authorizations };
}

/** A plain HTTP server answering every request with one status and body (the proxy's own 502, say). */
export async function startFixedAnswer(teardown: Teardown, status: number, body: string): Promise<number> {
  const server = http.createServer((_request, response) => response.writeHead(status, { "content-type": "text/plain" }).end(body));
  return listenOnLoopback(teardown, server);
}

export interface TlsOrigin {
  port: number;
  /** WebSocket connections accepted so far. */
  accepted: number;
}

/**
 * The proxy's place on the data path, without its routing: a plaintext WebSocket listener on the
 * namespace's address whose binary messages are one inner-TLS connection, terminated here with
 * `certificate`, the decrypted bytes forwarded to `upstreamPort`. With `holdUntil`, the first
 * connections wait (no TLS byte is read) until that many are open at once.
 */
export async function startTlsOrigin(
  teardown: Teardown,
  namespace: NetworkNamespace,
  certificate: GeneratedCertificate,
  upstreamPort: number,
  options: { holdUntil?: number } = {},
): Promise<TlsOrigin> {
  const tlsServer = tls.createServer({ cert: certificate.certificatePem, key: certificate.privateKeyPem, ALPNProtocols: ["http/1.1"] });
  tlsServer.on("tlsClientError", () => {});
  tlsServer.on("secureConnection", (decrypted) => {
    const upstream = tcpConnect(upstreamPort, "127.0.0.1");
    upstream.on("error", () => decrypted.destroy());
    decrypted.on("error", () => upstream.destroy());
    decrypted.pipe(upstream).pipe(decrypted);
  });
  const server = new WebSocketServer({ host: namespace.address, port: 0, perMessageDeflate: false });
  const origin: TlsOrigin = { port: 0, accepted: 0 };
  const held: (() => void)[] = [];
  const hand = (socket: WebSocket) => {
    const stream = createWebSocketStream(socket);
    stream.on("error", () => stream.destroy());
    tlsServer.emit("connection", stream);
  };
  server.on("connection", (socket) => {
    origin.accepted += 1;
    socket.on("error", () => socket.terminate());
    if (options.holdUntil === undefined || origin.accepted > options.holdUntil) {
      hand(socket);
      return;
    }
    // Messages wait in the socket until the TLS server takes the stream over.
    socket.pause();
    held.push(() => {
      socket.resume();
      hand(socket);
    });
    if (held.length === options.holdUntil) for (const release of held.splice(0)) release();
  });
  origin.port = await listen(server, namespace.address);
  teardown.push(
    () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  );
  return origin;
}

export interface StartedConnector {
  twin: RunningTwin;
  logs: LogBook;
}

/** cloudflared's service as the documented compose file runs it, in `namespace`. */
export async function startConnectorTwin(
  teardown: Teardown,
  edgeUrl: string,
  namespace: NetworkNamespace,
  options: { token?: string; argv?: string[]; url?: string | null },
): Promise<StartedConnector> {
  const logs = new LogBook();
  const argv = options.argv ?? ["tunnel", "--no-autoupdate", "run", ...(options.url === null || options.url === undefined ? [] : ["--url", options.url])];
  const twin = await startConnector({
    argv,
    env: options.token === undefined ? {} : { TUNNEL_TOKEN: options.token },
    fs: new ContainerFs([], CONNECTOR_USER),
    net: namespace,
    outside: { edgeUrl, rewriteUrl: (url) => url },
    log: logs.write,
  });
  teardown.push(() => twin.stop());
  return { twin, logs };
}
