import { X509Certificate, createPrivateKey } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import { isIP } from "node:net";
import { Duplex } from "node:stream";
import * as tls from "node:tls";
import { WebSocketServer, type WebSocket } from "ws";
import { exitedTwin, type ContainerContext, type ContainerFs, type RunningTwin, type TwinMain } from "./container";
import { loadProxyConfig, type LogLevel, type ProxyConfig, type Route } from "./proxy-config";

/** Where the Compose stack mounts the config; `-config <path>` overrides it. */
export const DEFAULT_CONFIG_PATH = "/etc/mcp-gateway/config.yaml";

/** The proxy's own poll interval is not documented; small, so tests see a reload soon. */
export const DEFAULT_CERT_POLL_INTERVAL_MS = 100;

export interface ProxyTwinOptions {
  /** How often `tls.cert_file` is checked for a new certificate. */
  certPollIntervalMs?: number;
}

/**
 * The mcp-proxy container: plaintext WebSocket on `listen_addr`, each WebSocket carrying one
 * inner TLS connection from Anthropic's backend, terminated here with `tls.cert_file`, then
 * HTTP routed by hostname to an upstream MCP server.
 *
 * Log texts the public docs quote, and tests may rely on: `route configured` (one per route),
 * `no route for host`, `IP validation failed: <ip> is not a private address`, and load failures
 * (`open /data/tls.key: permission denied`, `cannot unmarshal !!seq into map[string]string`,
 * `invalid upstream (must be scheme://host:port)`). Other texts are the twin's; lines starting
 * `twin:` report what the proxy itself would pass over in silence.
 */
export function proxyTwin(options: ProxyTwinOptions = {}): TwinMain {
  return (context) => runProxy(context, options.certPollIntervalMs ?? DEFAULT_CERT_POLL_INTERVAL_MS);
}

export const startProxy: TwinMain = proxyTwin();

async function runProxy(context: ContainerContext, certPollIntervalMs: number): Promise<RunningTwin> {
  const log = new ProxyLog(context.log, "info");
  const flags = parseFlags(context.argv);
  if (typeof flags === "string") {
    log.error(flags);
    return exitedTwin(2);
  }

  let config: ProxyConfig;
  try {
    config = loadProxyConfig(context.fs.readFile(flags.configPath).toString("utf8"), { tunnelDomainFlag: flags.tunnelDomain });
  } catch (error) {
    log.error("failed to load config", { err: messageOf(error) });
    return exitedTwin(1);
  }
  log.level = config.logLevel;
  for (const warning of config.warnings) log.warn(warning.message);

  let certificate: ServerCertificate;
  let upstreamCas: string[];
  try {
    certificate = loadServerCertificate(context.fs, config.tls);
  } catch (error) {
    log.error("failed to load TLS certificate", { err: messageOf(error) });
    return exitedTwin(1);
  }
  try {
    upstreamCas = loadUpstreamTrust(context.fs, config.upstream.tls);
  } catch (error) {
    log.error("failed to load upstream CA bundle", { err: messageOf(error) });
    return exitedTwin(1);
  }

  const bind = context.net.bindAddress(config.listenAddr);
  if (!bind) {
    log.error("failed to listen", { err: `listen tcp: address ${config.listenAddr}: missing port in address` });
    return exitedTwin(1);
  }
  const proxy = new McpProxy(context, config, log, certificate, upstreamCas, certPollIntervalMs);
  try {
    await proxy.listen(bind.host, bind.port);
  } catch (error) {
    log.error("failed to listen", { err: `listen tcp ${bind.host}:${bind.port}: ${messageOf(error)}` });
    return exitedTwin(1);
  }
  for (const route of config.routes) {
    log.info("route configured", { route: route.key, host: routeHost(route, config.tunnelDomain), upstream: route.upstream.origin });
  }
  log.info("listening", { addr: config.listenAddr });
  return proxy;
}

interface Flags {
  configPath: string;
  tunnelDomain: string | undefined;
}

/** Go's flag package: `-name value`, `-name=value`, one or two dashes, stops at the first non-flag. */
function parseFlags(argv: readonly string[]): Flags | string {
  const flags: Flags = { configPath: DEFAULT_CONFIG_PATH, tunnelDomain: undefined };
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]!;
    if (argument === "--") break;
    const match = /^--?([^=]+)(?:=(.*))?$/.exec(argument);
    if (!match) break;
    const name = match[1]!;
    if (name !== "config" && name !== "tunnel-domain") return `flag provided but not defined: -${name}`;
    const value = match[2] ?? argv[++index];
    if (value === undefined) return `flag needs an argument: -${name}`;
    if (name === "config") flags.configPath = value;
    else flags.tunnelDomain = value;
  }
  return flags;
}

const routeHost = (route: Route, domain: string | undefined) => (route.form === "subdomain" && domain ? `${route.key}.${domain}` : route.key);

interface ServerCertificate {
  context: tls.SecureContext;
  /** The file's identity when read; a rename over it or a rewrite changes it. */
  version: string;
}

const fileVersion = (fs: ContainerFs, path: string): string => {
  const stats = fs.stat(path);
  return stats ? `${stats.ino}:${stats.size}:${stats.mtimeMs}` : "absent";
};

/** Cert first, then key, as Go's tls.LoadX509KeyPair reads them, with its texts for bad content. */
function loadServerCertificate(fs: ContainerFs, files: ProxyConfig["tls"]): ServerCertificate {
  const version = fileVersion(fs, files.certFile);
  const cert = fs.readFile(files.certFile);
  const key = fs.readFile(files.keyFile);
  try {
    new X509Certificate(cert);
  } catch {
    throw new Error("tls: failed to find any PEM data in certificate input");
  }
  try {
    createPrivateKey(key);
  } catch {
    throw new Error("tls: failed to find any PEM data in key input");
  }
  try {
    return { context: tls.createSecureContext({ cert, key }), version };
  } catch {
    throw new Error("tls: private key does not match public key");
  }
}

/**
 * The trust anchors for https upstreams: `ca_file`, the system CAs, both, or an empty list, which
 * trusts nothing (the reference's "no trust anchor"), so such a request fails verification.
 */
function loadUpstreamTrust(fs: ContainerFs, settings: ProxyConfig["upstream"]["tls"]): string[] {
  const anchors = settings.includeSystemCas ? [...tls.rootCertificates] : [];
  if (settings.caFile) {
    const bundle = fs.readFile(settings.caFile).toString("utf8");
    const pems = bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (pems.length === 0) throw new Error(`no certificates found in ${settings.caFile}`);
    anchors.push(...pems);
  }
  return anchors;
}

const LEVELS: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Lines in the shape of Go's slog text handler: `level=INFO msg="route configured" route=echo`. */
class ProxyLog {
  constructor(
    private readonly write: (line: string) => void,
    public level: LogLevel,
  ) {}

  debug = (msg: string, attributes?: Record<string, string>) => this.line("debug", msg, attributes);
  info = (msg: string, attributes?: Record<string, string>) => this.line("info", msg, attributes);
  warn = (msg: string, attributes?: Record<string, string>) => this.line("warn", msg, attributes);
  error = (msg: string, attributes?: Record<string, string>) => this.line("error", msg, attributes);

  private line(level: LogLevel, msg: string, attributes: Record<string, string> = {}): void {
    if (LEVELS[level] < LEVELS[this.level]) return;
    const pairs = Object.entries({ msg, ...attributes }).map(([key, value]) => `${key}=${quote(value)}`);
    this.write([`level=${level.toUpperCase()}`, ...pairs].join(" "));
  }
}

const quote = (value: string): string => (/^[^\s"=\\]+$/.test(value) ? value : JSON.stringify(value));

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * One WebSocket's binary messages as a byte stream, both ways: the shape the connector gives each
 * tunnel stream. A text message is not part of such a stream, so it ends the connection.
 */
export function webSocketStream(socket: WebSocket): Duplex {
  const stream = new Duplex({
    read: () => socket.resume(),
    write: (chunk: Buffer, _encoding, callback) => socket.send(chunk, { binary: true }, callback),
    final: (callback) => {
      socket.close(1000);
      callback();
    },
    destroy: (error, callback) => {
      socket.terminate();
      callback(error);
    },
  });
  socket.on("message", (data: Buffer, isBinary) => {
    if (!isBinary) {
      socket.close(1003, "binary messages only");
      return;
    }
    if (!stream.push(data)) socket.pause();
  });
  socket.on("close", () => stream.push(null));
  socket.on("error", (error) => stream.destroy(error));
  return stream;
}

/** One inner connection: the tunnel stream and the TLS session over it. */
interface InnerConnection {
  secure: tls.TLSSocket;
  /** Requests whose response is not finished; 0 means idle, safe to close during shutdown. */
  active: number;
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"]);

class McpProxy implements RunningTwin {
  readonly exited: Promise<number>;
  private exit!: (code: number) => void;
  private readonly listener: http.Server;
  private readonly webSockets = new WebSocketServer({ noServer: true });
  private readonly inner: http.Server;
  private readonly connections = new Set<InnerConnection>();
  private readonly bySocket = new WeakMap<object, InnerConnection>();
  private drained: (() => void) | undefined;
  private readonly agents = new Map<string, http.Agent>();
  private pollTimer: NodeJS.Timeout | undefined;
  private lastReloadError: string | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly context: ContainerContext,
    private readonly config: ProxyConfig,
    private readonly log: ProxyLog,
    private certificate: ServerCertificate,
    private readonly upstreamCas: string[],
    private readonly certPollIntervalMs: number,
  ) {
    this.exited = new Promise((resolve) => (this.exit = resolve));
    // Anything but a WebSocket upgrade is not a tunnel stream; a TLS ClientHello sent here
    // straight away fails in the HTTP parser, which is the documented `wrong version number`.
    this.listener = http.createServer((_request, response) => {
      response.writeHead(426, { upgrade: "websocket", connection: "Upgrade", "content-type": "text/plain; charset=utf-8" }).end("Upgrade Required\n");
    });
    this.listener.on("upgrade", (request, socket, head) => {
      if (this.stopping) return socket.destroy();
      this.webSockets.handleUpgrade(request, socket, head, (ws) => this.accept(ws));
    });
    // Go's http.Server keeps idle connections open by default; Node's 5 s idle close would race
    // a client reusing the connection.
    this.inner = http.createServer({ keepAliveTimeout: 0, requestTimeout: 0 }, (request, response) => this.serve(request, response));
    this.inner.on("clientError", (_error, socket) => socket.destroy());
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.listener.once("error", reject);
      this.listener.listen(port, host, () => {
        this.listener.off("error", reject);
        this.schedulePoll();
        resolve();
      });
    });
  }

  private accept(ws: WebSocket): void {
    const secure = new tls.TLSSocket(webSocketStream(ws), {
      isServer: true,
      secureContext: this.certificate.context,
      ALPNProtocols: ["http/1.1"],
    });
    const connection: InnerConnection = { secure, active: 0 };
    this.connections.add(connection);
    let established = false;
    secure.on("secure", () => {
      established = true;
      this.inner.emit("connection", secure);
    });
    secure.on("error", (error) => {
      if (!established) this.log.warn("tls handshake failed", { err: messageOf(error) });
      secure.destroy();
    });
    secure.on("close", () => {
      this.connections.delete(connection);
      ws.terminate();
      if (this.connections.size === 0) this.drained?.();
    });
    this.bySocket.set(secure, connection);
  }

  private serve(request: http.IncomingMessage, response: http.ServerResponse): void {
    const connection = this.bySocket.get(request.socket);
    if (connection) {
      connection.active++;
      response.on("close", () => {
        connection.active--;
        if (this.stopping && connection.active === 0) connection.secure.end();
      });
    }
    if (this.stopping) response.setHeader("connection", "close");

    const sni = (request.socket as tls.TLSSocket).servername || undefined;
    const hostHeader = request.headers.host?.replace(/:\d+$/, "").toLowerCase();
    // The docs do not say whether the proxy routes by SNI or by Host; Claude sends the same name
    // in both. Refusing a mismatch keeps the twin from passing a client that only one rule serves.
    if (sni && hostHeader && sni.toLowerCase() !== hostHeader) {
      this.log.warn("twin: TLS server name and Host header disagree", { sni, host: hostHeader });
      return plainText(response, 421, "Misdirected Request");
    }
    const host = hostHeader ?? sni?.toLowerCase() ?? "";
    const route = this.match(host);
    if (!route) {
      this.log.warn("no route for host", { host });
      return plainText(response, 502, "No route configured for host");
    }

    const { upstream } = route;
    const ip = this.context.net.resolve(upstream.host);
    if (ip === undefined || isIP(ip) !== 4) {
      this.log.error("proxy error", { route: route.key, err: `dial tcp: lookup ${upstream.host}: no such host` });
      return badGateway(response);
    }
    const policy = this.config.upstream.ipPolicy;
    if (policy.kind === "allowlist" && !policy.allows(ip)) {
      const reason = policy.source === "default" ? "is not a private address" : "is not in allowed_ips";
      this.log.error(`IP validation failed: ${ip} ${reason}`, { route: route.key, upstream: upstream.origin });
      return badGateway(response);
    }
    this.forward(request, response, route, ip, host);
  }

  /** Exact hostname first, then the label left of `.<tunnel_domain>`. */
  private match(host: string): Route | undefined {
    const exact = this.config.routes.find((route) => route.key === host);
    if (exact) return exact;
    const domain = this.config.tunnelDomain;
    if (!domain || !host.endsWith(`.${domain}`)) return undefined;
    const label = host.slice(0, -domain.length - 1);
    return this.config.routes.find((route) => route.key === label);
  }

  private forward(request: http.IncomingMessage, response: http.ServerResponse, route: Route, ip: string, host: string): void {
    const { upstream } = route;
    const headers = withoutHopByHop(request.rawHeaders);
    // As Go's ReverseProxy with SetURL and SetXForwarded: Host names the upstream, the original
    // name travels in X-Forwarded-Host. Which the proxy does is not documented.
    headers.push("host", `${upstream.host}:${upstream.port}`, "x-forwarded-host", host, "x-forwarded-proto", "https");
    headers.push("x-forwarded-for", (request.socket.remoteAddress ?? "").replace(/^::ffff:/, ""));
    const outgoing = (upstream.scheme === "https" ? https : http).request({
      host: ip,
      port: upstream.port,
      method: request.method,
      path: request.url,
      headers,
      agent: this.agentFor(route),
    });
    outgoing.on("response", (incoming) => {
      response.writeHead(incoming.statusCode ?? 502, incoming.statusMessage, withoutHopByHop(incoming.rawHeaders));
      // An SSE stream's headers must reach the client before its first event does.
      response.flushHeaders();
      incoming.pipe(response);
      incoming.on("error", () => response.destroy());
    });
    outgoing.on("error", (error) => {
      this.log.error("proxy error", { route: route.key, err: upstreamErrorText(error, upstream.host, `${ip}:${upstream.port}`) });
      if (!response.headersSent) badGateway(response);
      else response.destroy();
    });
    response.on("close", () => {
      if (!response.writableFinished) outgoing.destroy();
    });
    request.pipe(outgoing);
  }

  private agentFor(route: Route): http.Agent {
    const existing = this.agents.get(route.key);
    if (existing) return existing;
    const { upstream } = route;
    const agent =
      upstream.scheme === "https"
        ? new https.Agent({
            keepAlive: true,
            ca: this.upstreamCas,
            ...(isIP(upstream.host) ? {} : { servername: upstream.host }),
            // The connection goes to the validated IP; the certificate must still name the route's host.
            checkServerIdentity: (_hostname, certificate) => tls.checkServerIdentity(upstream.host, certificate),
          })
        : new http.Agent({ keepAlive: true });
    this.agents.set(route.key, agent);
    return agent;
  }

  private schedulePoll(): void {
    this.pollTimer = setTimeout(() => {
      this.reloadIfChanged();
      if (!this.stopping) this.schedulePoll();
    }, this.certPollIntervalMs);
  }

  /** Only the cert file is watched; the key is read with it, so write the key first. */
  private reloadIfChanged(): void {
    const { certFile } = this.config.tls;
    const version = fileVersion(this.context.fs, certFile);
    if (version === this.certificate.version || version === "absent") return;
    try {
      this.certificate = loadServerCertificate(this.context.fs, this.config.tls);
      this.lastReloadError = undefined;
      this.log.info("certificate reloaded", { cert_file: certFile });
    } catch (error) {
      // The old certificate stays in use; the next poll tries again.
      const text = messageOf(error);
      if (text !== this.lastReloadError) this.log.error("certificate reload failed", { err: text });
      this.lastReloadError = text;
    }
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  /** As Go's http.Server.Shutdown bounded by shutdown_timeout: idle connections close at once, busy ones when their response ends. */
  private async shutdown(): Promise<void> {
    clearTimeout(this.pollTimer);
    const listenerClosed = new Promise<void>((resolve) => this.listener.close(() => resolve()));
    for (const connection of this.connections) if (connection.active === 0) connection.secure.end();
    const drained = new Promise<void>((resolve) => {
      this.drained = resolve;
      if (this.connections.size === 0) resolve();
    });
    let deadline: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise<void>((resolve) => (deadline = setTimeout(resolve, this.config.shutdownTimeoutMs)))]);
    clearTimeout(deadline);
    for (const connection of this.connections) connection.secure.destroy();
    for (const ws of this.webSockets.clients) ws.terminate();
    this.listener.closeAllConnections();
    for (const agent of this.agents.values()) agent.destroy();
    await listenerClosed;
    this.log.info("shutdown complete");
    this.exit(0);
  }
}

function withoutHopByHop(rawHeaders: readonly string[]): string[] {
  const named = new Set(HOP_BY_HOP);
  for (let index = 0; index < rawHeaders.length; index += 2) {
    if (rawHeaders[index]!.toLowerCase() === "connection") for (const token of rawHeaders[index + 1]!.split(",")) named.add(token.trim().toLowerCase());
  }
  const kept: string[] = [];
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index]!;
    if (!named.has(name.toLowerCase()) && name.toLowerCase() !== "host") kept.push(name, rawHeaders[index + 1]!);
  }
  return kept;
}

/** As Go's http.Error: the text and a newline. */
function plainText(response: http.ServerResponse, status: number, text: string): void {
  response.writeHead(status, { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" }).end(`${text}\n`);
}

/** Go's ReverseProxy answers an upstream failure with an empty 502. */
function badGateway(response: http.ServerResponse): void {
  response.writeHead(502).end();
}

/** Go's texts for the upstream TLS failures an operator meets, Node's message otherwise. */
function upstreamErrorText(error: Error & { code?: string }, host: string, address: string): string {
  switch (error.code) {
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
      return "tls: failed to verify certificate: x509: certificate signed by unknown authority";
    case "CERT_HAS_EXPIRED":
    case "CERT_NOT_YET_VALID":
      return "tls: failed to verify certificate: x509: certificate has expired or is not yet valid";
    case "ERR_TLS_CERT_ALTNAME_INVALID":
      return `tls: failed to verify certificate: x509: certificate is not valid for ${host}`;
    case "ECONNREFUSED":
      return `dial tcp ${address}: connect: connection refused`;
    default:
      return error.message;
  }
}
