import { randomUUID, X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { Agent, fetch as undiciFetch } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { stringify } from "yaml";
import { generateCertificateAuthority, issueServerCertificate, type GeneratedCertificate } from "../core/pki";
import { ContainerFs, loopbackSubnet, NetworkNamespace, type ContainerContext, type ContainerUser, type RunningTwin } from "./container";
import { startProxy, proxyTwin, webSocketStream } from "./proxy";

const DOMAIN = "abcd1234.tunnel.anthropic.com";
const PROXY_USER: ContainerUser = { uid: 65532, gid: 65532 };
const LISTEN_PORT = 8080;

const teardown: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const step of teardown.splice(0).reverse()) await step();
});

async function issue(domain: string): Promise<{ ca: GeneratedCertificate; server: GeneratedCertificate }> {
  const now = new Date();
  const ca = await generateCertificateAuthority({ commonName: `CA for ${domain}`, keyAlgorithm: "ECDSA_P256", validityDays: 30, now });
  const server = await issueServerCertificate({ caCertificatePem: ca.certificatePem, caPrivateKeyPem: ca.privateKeyPem, domain, keyAlgorithm: "ECDSA_P256", validityDays: 7, now });
  return { ca, server };
}

/** Lines the container logged, and a way to wait for one without a clock. */
class LogBook {
  readonly lines: string[] = [];
  private readonly waiters: Array<{ text: string; resolve: (line: string) => void }> = [];

  readonly write = (line: string): void => {
    this.lines.push(line);
    for (const waiter of [...this.waiters]) {
      if (!line.includes(waiter.text)) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(line);
    }
  };

  /** The next line containing `text` logged from now on. */
  next(text: string): Promise<string> {
    return new Promise((resolve) => this.waiters.push({ text, resolve }));
  }

  count(text: string): number {
    return this.lines.filter((line) => line.includes(text)).length;
  }
}

/** The exit code if the twin has already exited, "running" otherwise: a start that fails has exited by the time it returns. */
const exitStatus = (twin: RunningTwin): Promise<number | "running"> => Promise.race([twin.exited, Promise.resolve("running" as const)]);

type ConfigDocument = Record<string, unknown>;

interface KeyFile {
  mode: number;
  owner: ContainerUser;
}

/** A host directory laid out as the Compose stack mounts it: config/mcp-proxy.yaml and data/ (read-only). */
class Deployment {
  readonly root = fs.mkdtempSync(path.join(os.tmpdir(), "proxy-twin-"));
  readonly dataDir = path.join(this.root, "data");
  readonly configFile = path.join(this.root, "config", "mcp-proxy.yaml");
  readonly logs = new LogBook();
  readonly namespace = new NetworkNamespace(loopbackSubnet()(0), new Map([["hello-mcp", "127.0.0.1"], ["upstream.test", "127.0.0.1"], ["docs-mcp", "127.0.0.1"]]));

  constructor(config: ConfigDocument, server: GeneratedCertificate, key: KeyFile = { mode: 0o644, owner: { uid: 0, gid: 0 } }) {
    teardown.push(() => fs.rmSync(this.root, { recursive: true, force: true }));
    fs.chmodSync(this.root, 0o755);
    fs.mkdirSync(this.dataDir, { mode: 0o755 });
    fs.mkdirSync(path.dirname(this.configFile), { mode: 0o755 });
    this.writeConfig(config);
    this.writeData("tls.crt", server.certificatePem);
    this.writeData("tls.key", server.privateKeyPem, key.mode, key.owner);
  }

  writeConfig(config: ConfigDocument): void {
    fs.writeFileSync(this.configFile, stringify(config), { mode: 0o644 });
  }

  /** Written as a renewal would: a temporary file renamed over the target. */
  writeData(name: string, content: string, mode = 0o644, owner: ContainerUser = { uid: 0, gid: 0 }): void {
    const target = path.join(this.dataDir, name);
    fs.writeFileSync(`${target}.tmp`, content, { mode });
    fs.chmodSync(`${target}.tmp`, mode);
    fs.chownSync(`${target}.tmp`, owner.uid, owner.gid);
    fs.renameSync(`${target}.tmp`, target);
  }

  context(argv: string[] = [], configTarget = "/etc/mcp-gateway/config.yaml"): ContainerContext {
    const mounts = [
      { source: this.configFile, target: configTarget, readOnly: true },
      { source: this.dataDir, target: "/data", readOnly: true },
    ];
    return {
      argv,
      env: {},
      fs: new ContainerFs(mounts, PROXY_USER),
      net: this.namespace,
      outside: { edgeUrl: "ws://127.0.0.1:1", rewriteUrl: (url) => url },
      log: this.logs.write,
    };
  }

  async start(argv: string[] = []) {
    const proxy = await startProxy(this.context(argv));
    teardown.push(() => proxy.stop());
    return proxy;
  }

  get listenUrl(): string {
    return `ws://${this.namespace.address}:${LISTEN_PORT}`;
  }
}

const composeConfig = (routes: Record<string, string>, extra: ConfigDocument = {}): ConfigDocument => ({
  listen_addr: `:${LISTEN_PORT}`,
  log_level: "info",
  shutdown_timeout: "30s",
  tunnel_domain: DOMAIN,
  tls: { cert_file: "/data/tls.crt", key_file: "/data/tls.key" },
  routes,
  ...extra,
});

const LOCAL_UPSTREAMS = { upstream: { allowed_ips: ["127.0.0.0/8"] } };

/** What Anthropic's backend does over one tunnel stream: a WebSocket to the proxy, TLS inside it. */
function dialInnerTls(listenUrl: string, servername: string, ca: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(listenUrl);
    ws.once("error", reject);
    ws.once("open", () => {
      const secure = tls.connect({ socket: webSocketStream(ws), servername, ca, ALPNProtocols: ["http/1.1"] });
      secure.once("secureConnect", () => resolve(secure));
      secure.once("error", reject);
    });
  });
}

/** undici with every connection dialled through the proxy's listener instead of DNS and TCP. */
function tunnelFetch(listenUrl: string, ca: string): typeof fetch {
  const agent = new Agent({
    connect: (options, callback) => {
      dialInnerTls(listenUrl, options.servername || options.hostname, ca).then(
        (socket) => callback(null, socket),
        (error: Error) => callback(error, null),
      );
    },
  });
  teardown.push(() => agent.close());
  return ((url: string | URL, init?: RequestInit) => undiciFetch(url, { ...(init as object), dispatcher: agent })) as unknown as typeof fetch;
}

async function connectMcp(url: string, fetchThroughTunnel: typeof fetch) {
  const client = new Client({ name: "claude-side", version: "1.0.0" });
  const notices: string[] = [];
  const noticeWaiters: Array<(notice: string) => void> = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
    notices.push(String(notification.params.data));
    noticeWaiters.splice(0).forEach((resolve) => resolve(String(notification.params.data)));
  });
  const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: fetchThroughTunnel });
  await client.connect(transport);
  teardown.push(() => client.close());
  return { client, transport, notices, nextNotice: () => new Promise<string>((resolve) => noticeWaiters.push(resolve)) };
}

/** Sends one HTTP/1.1 request with this Host over an established inner TLS socket; the status line. */
function statusLine(socket: tls.TLSSocket, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = "";
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
      if (received.includes("\r\n")) {
        resolve(received.slice(0, received.indexOf("\r\n")));
        socket.destroy();
      }
    });
    socket.once("error", reject);
    socket.write(`GET /mcp HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  });
}

const toolText = (result: Awaited<ReturnType<Client["callTool"]>>) => (result.content as Array<{ type: string; text: string }>)[0]?.text;

interface McpUpstream {
  port: number;
  /** Requests the upstream saw, as `METHOD path host`. */
  requests: string[];
  /** Resolves when a request whose `METHOD path host` starts with `prefix` has arrived. */
  arrived(prefix: string): Promise<void>;
  /** Lets the `wait` tool's result go. */
  release(): void;
}

/**
 * A real MCP server on 127.0.0.1:0 (Streamable HTTP, stateful sessions): `whoami` names the
 * upstream; `wait` sends a log notification on the call's SSE stream, then returns when released.
 */
async function startSessionUpstream(name: string, certificate?: GeneratedCertificate): Promise<McpUpstream> {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const requests: string[] = [];
  const waiters: Array<{ prefix: string; resolve: () => void }> = [];
  let release!: () => void;
  let released = new Promise<void>((resolve) => (release = resolve));

  const session = async () => {
    const server = new McpServer({ name, version: "1.0.0" }, { capabilities: { logging: {} } });
    server.registerTool("whoami", { description: "names the upstream" }, async () => ({ content: [{ type: "text", text: name }] }));
    server.registerTool("wait", { description: "notifies, then waits for the test" }, async (extra) => {
      await extra.sendNotification({ method: "notifications/message", params: { level: "info", data: "started" } });
      await released;
      released = new Promise<void>((resolve) => (release = resolve));
      return { content: [{ type: "text", text: "done" }] };
    });
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (id) => void transports.set(id, transport),
    });
    transport.onclose = () => transport.sessionId && transports.delete(transport.sessionId);
    await server.connect(transport);
    return transport;
  };

  const handler = async (request: http.IncomingMessage, response: http.ServerResponse) => {
    const line = `${request.method} ${request.url} ${request.headers.host}`;
    requests.push(line);
    for (const waiter of waiters.filter((candidate) => line.startsWith(candidate.prefix))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    const id = request.headers["mcp-session-id"];
    const existing = typeof id === "string" ? transports.get(id) : undefined;
    if (typeof id === "string" && !existing) return void response.writeHead(404).end();
    await (existing ?? (await session())).handleRequest(request, response);
  };
  const server = certificate ? https.createServer({ cert: certificate.certificatePem, key: certificate.privateKeyPem }, handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  teardown.push(async () => {
    for (const transport of transports.values()) await transport.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    arrived: (prefix) =>
      requests.some((line) => line.startsWith(prefix)) ? Promise.resolve() : new Promise((resolve) => waiters.push({ prefix, resolve })),
    release: () => release(),
  };
}

describe("mcp-proxy twin", () => {
  it("serves an MCP session from Claude's side through the WebSocket, the inner TLS and the route to the upstream", async () => {
    const { ca, server } = await issue(DOMAIN);
    const upstream = await startSessionUpstream("echo-server");
    const deployment = new Deployment(composeConfig({ echo: `http://hello-mcp:${upstream.port}` }, LOCAL_UPSTREAMS), server);
    await deployment.start();

    const { client, transport } = await connectMcp(`https://echo.${DOMAIN}/mcp?tenant=a`, tunnelFetch(deployment.listenUrl, ca.certificatePem));
    expect(toolText(await client.callTool({ name: "whoami" }))).toBe("echo-server");
    await transport.terminateSession();

    const methods = upstream.requests.map((request) => request.split(" ").slice(0, 2).join(" "));
    expect(methods).toEqual(expect.arrayContaining(["POST /mcp?tenant=a", "GET /mcp?tenant=a", "DELETE /mcp?tenant=a"]));
    expect(deployment.logs.count("route configured")).toBe(1);
  });

  it("streams an SSE response event by event instead of buffering it", async () => {
    const { ca, server } = await issue(DOMAIN);
    const upstream = await startSessionUpstream("echo-server");
    const deployment = new Deployment(composeConfig({ echo: `http://hello-mcp:${upstream.port}` }, LOCAL_UPSTREAMS), server);
    await deployment.start();
    const { client, nextNotice } = await connectMcp(`https://echo.${DOMAIN}/mcp`, tunnelFetch(deployment.listenUrl, ca.certificatePem));

    const notice = nextNotice();
    const call = client.callTool({ name: "wait" });
    // The tool holds its result until the notification has crossed the proxy.
    expect(await notice).toBe("started");
    upstream.release();
    expect(toolText(await call)).toBe("done");
  });

  it("routes an exact full-hostname key before stripping the tunnel domain", async () => {
    const { ca, server } = await issue(DOMAIN);
    const byLabel = await startSessionUpstream("by-label");
    const byHostname = await startSessionUpstream("by-hostname");
    const routes = { docs: `http://docs-mcp:${byLabel.port}`, [`docs.${DOMAIN}`]: `http://hello-mcp:${byHostname.port}`, echo: `http://hello-mcp:${byLabel.port}` };
    const deployment = new Deployment(composeConfig(routes, LOCAL_UPSTREAMS), server);
    await deployment.start();
    const tunnel = tunnelFetch(deployment.listenUrl, ca.certificatePem);

    expect(toolText(await (await connectMcp(`https://docs.${DOMAIN}/mcp`, tunnel)).client.callTool({ name: "whoami" }))).toBe("by-hostname");
    expect(toolText(await (await connectMcp(`https://echo.${DOMAIN}/mcp`, tunnel)).client.callTool({ name: "whoami" }))).toBe("by-label");
    expect(deployment.logs.count("route configured")).toBe(3);
  });

  it("routes a full-hostname key without tunnel_domain", async () => {
    const { ca, server } = await issue(DOMAIN);
    const upstream = await startSessionUpstream("by-hostname");
    const config = composeConfig({ [`mcp.${DOMAIN}`]: `http://hello-mcp:${upstream.port}` }, LOCAL_UPSTREAMS);
    delete config.tunnel_domain;
    const deployment = new Deployment(config, server);
    await deployment.start();

    const { client } = await connectMcp(`https://mcp.${DOMAIN}/mcp`, tunnelFetch(deployment.listenUrl, ca.certificatePem));
    expect(toolText(await client.callTool({ name: "whoami" }))).toBe("by-hostname");
  });

  it("routes a label with the domain from -tunnel-domain when the file has none", async () => {
    const { ca, server } = await issue(DOMAIN);
    const upstream = await startSessionUpstream("echo-server");
    const config = composeConfig({ echo: `http://hello-mcp:${upstream.port}` }, LOCAL_UPSTREAMS);
    delete config.tunnel_domain;
    const deployment = new Deployment(config, server);
    await deployment.start(["-tunnel-domain", DOMAIN]);

    const { client } = await connectMcp(`https://echo.${DOMAIN}/mcp`, tunnelFetch(deployment.listenUrl, ca.certificatePem));
    expect(toolText(await client.callTool({ name: "whoami" }))).toBe("echo-server");
  });

  it.each([
    { case: "a host no route names", tunnelDomain: DOMAIN, host: `other.${DOMAIN}` },
    { case: "a stale tunnel_domain", tunnelDomain: "stale0000.tunnel.anthropic.com", host: `echo.${DOMAIN}` },
  ])("answers 502 No route configured for host, and logs no route for host, for $case", async ({ tunnelDomain, host }) => {
    const { ca, server } = await issue(DOMAIN);
    const upstream = await startSessionUpstream("echo-server");
    const deployment = new Deployment(composeConfig({ echo: `http://hello-mcp:${upstream.port}` }, { ...LOCAL_UPSTREAMS, tunnel_domain: tunnelDomain }), server);
    await deployment.start();

    const response = await tunnelFetch(deployment.listenUrl, ca.certificatePem)(`https://${host}/mcp`, { method: "POST", body: "{}" });
    expect([response.status, await response.text()]).toEqual([502, "No route configured for host\n"]);
    expect(deployment.logs.lines).toEqual(expect.arrayContaining([expect.stringContaining(`msg="no route for host" host=${host}`)]));
    expect(upstream.requests).toEqual([]);
  });

  it("answers 421 when the TLS server name and the Host header name different hosts", async () => {
    const { ca, server } = await issue(DOMAIN);
    const upstream = await startSessionUpstream("echo-server");
    const routes = { echo: `http://hello-mcp:${upstream.port}`, docs: `http://hello-mcp:${upstream.port}` };
    const deployment = new Deployment(composeConfig(routes, LOCAL_UPSTREAMS), server);
    await deployment.start();

    const socket = await dialInnerTls(deployment.listenUrl, `echo.${DOMAIN}`, ca.certificatePem);
    expect(await statusLine(socket, `docs.${DOMAIN}`)).toBe("HTTP/1.1 421 Misdirected Request");
    expect(upstream.requests).toEqual([]);
  });

  it("ends a tunnel stream that carries a text message, since a stream is bytes", async () => {
    const { server } = await issue(DOMAIN);
    const deployment = new Deployment(composeConfig({ echo: "http://hello-mcp:9000" }), server);
    await deployment.start();

    const ws = new WebSocket(deployment.listenUrl);
    await new Promise((resolve) => ws.once("open", resolve));
    const closed = new Promise<number>((resolve) => ws.once("close", resolve));
    ws.send("GET / HTTP/1.1");
    expect(await closed).toBe(1003);
  });

  it("refuses a loopback upstream with the IP validation message when allowed_ips keeps the RFC1918 default", async () => {
    const { ca, server } = await issue(DOMAIN);
    const upstream = await startSessionUpstream("echo-server");
    const deployment = new Deployment(composeConfig({ echo: `http://hello-mcp:${upstream.port}` }), server);
    await deployment.start();

    const response = await tunnelFetch(deployment.listenUrl, ca.certificatePem)(`https://echo.${DOMAIN}/mcp`, { method: "POST", body: "{}" });
    expect(response.status).toBe(502);
    expect(deployment.logs.lines).toEqual(expect.arrayContaining([expect.stringContaining("IP validation failed: 127.0.0.1 is not a private address")]));
    expect(upstream.requests).toEqual([]);
  });

  it("refuses an upstream outside a configured allowed_ips, which replaces the default", async () => {
    const { ca, server } = await issue(DOMAIN);
    const upstream = await startSessionUpstream("echo-server");
    const deployment = new Deployment(composeConfig({ echo: `http://hello-mcp:${upstream.port}` }, { upstream: { allowed_ips: ["10.0.0.0/8"] } }), server);
    await deployment.start();

    const response = await tunnelFetch(deployment.listenUrl, ca.certificatePem)(`https://echo.${DOMAIN}/mcp`, { method: "POST", body: "{}" });
    expect(response.status).toBe(502);
    expect(deployment.logs.lines).toEqual(expect.arrayContaining([expect.stringContaining("IP validation failed: 127.0.0.1 is not in allowed_ips")]));
  });

  it("reaches a loopback upstream with disable_ip_validation: true", async () => {
    const { ca, server } = await issue(DOMAIN);
    const upstream = await startSessionUpstream("echo-server");
    const deployment = new Deployment(composeConfig({ echo: `http://hello-mcp:${upstream.port}` }, { upstream: { disable_ip_validation: true } }), server);
    await deployment.start();

    const { client } = await connectMcp(`https://echo.${DOMAIN}/mcp`, tunnelFetch(deployment.listenUrl, ca.certificatePem));
    expect(toolText(await client.callTool({ name: "whoami" }))).toBe("echo-server");
  });

  describe("an https upstream", () => {
    const UPSTREAM_DOMAIN = "upstream.test";

    it("is reached when upstream.tls.ca_file holds its CA", async () => {
      const { ca, server } = await issue(DOMAIN);
      const upstreamPki = await issue(UPSTREAM_DOMAIN);
      const upstream = await startSessionUpstream("secure-server", upstreamPki.server);
      const deployment = new Deployment(
        composeConfig({ secure: `https://${UPSTREAM_DOMAIN}:${upstream.port}` }, { upstream: { allowed_ips: ["127.0.0.0/8"], tls: { ca_file: "/data/upstream-ca.pem" } } }),
        server,
      );
      deployment.writeData("upstream-ca.pem", upstreamPki.ca.certificatePem);
      await deployment.start();

      const { client } = await connectMcp(`https://secure.${DOMAIN}/mcp`, tunnelFetch(deployment.listenUrl, ca.certificatePem));
      expect(toolText(await client.callTool({ name: "whoami" }))).toBe("secure-server");
    });

    it.each([
      { case: "neither ca_file nor include_system_cas", tls: undefined },
      { case: "only include_system_cas for a private CA", tls: { include_system_cas: true } },
    ])("fails verification at request time with $case", async ({ tls: upstreamTls }) => {
      const { ca, server } = await issue(DOMAIN);
      const upstreamPki = await issue(UPSTREAM_DOMAIN);
      const upstream = await startSessionUpstream("secure-server", upstreamPki.server);
      const deployment = new Deployment(
        composeConfig({ secure: `https://${UPSTREAM_DOMAIN}:${upstream.port}` }, { upstream: { allowed_ips: ["127.0.0.0/8"], ...(upstreamTls ? { tls: upstreamTls } : {}) } }),
        server,
      );
      await deployment.start();

      const response = await tunnelFetch(deployment.listenUrl, ca.certificatePem)(`https://secure.${DOMAIN}/mcp`, { method: "POST", body: "{}" });
      expect(response.status).toBe(502);
      expect(deployment.logs.lines).toEqual(expect.arrayContaining([expect.stringContaining("x509: certificate signed by unknown authority")]));
      expect(upstream.requests).toEqual([]);
    });
  });

  describe("the mounted key and CA files, read as UID 65532", () => {
    it("refuses a root-owned 0600 key, and the proxy exits 1", async () => {
      const { server } = await issue(DOMAIN);
      const deployment = new Deployment(composeConfig({ echo: "http://hello-mcp:9000" }), server, { mode: 0o600, owner: { uid: 0, gid: 0 } });
      const proxy = await deployment.start();

      expect(await exitStatus(proxy)).toBe(1);
      expect(deployment.logs.lines).toEqual([expect.stringContaining("open /data/tls.key: permission denied")]);
    });

    it("refuses a root-owned 0600 upstream ca_file the same way", async () => {
      const { server } = await issue(DOMAIN);
      const deployment = new Deployment(composeConfig({ secure: "https://upstream.test:8443" }, { upstream: { tls: { ca_file: "/data/upstream-ca.pem" } } }), server);
      deployment.writeData("upstream-ca.pem", (await issue("upstream.test")).ca.certificatePem, 0o600);
      const proxy = await deployment.start();

      expect(await exitStatus(proxy)).toBe(1);
      expect(deployment.logs.lines).toEqual([expect.stringContaining("open /data/upstream-ca.pem: permission denied")]);
    });

    it.each([
      { case: "a 0600 key owned by 65532:65532", key: { mode: 0o600, owner: PROXY_USER } },
      { case: "a 0644 key owned by root", key: { mode: 0o644, owner: { uid: 0, gid: 0 } } },
    ])("accepts $case", async ({ key }) => {
      const { server } = await issue(DOMAIN);
      const deployment = new Deployment(composeConfig({ echo: "http://hello-mcp:9000" }), server, key);
      await deployment.start();
      expect(deployment.logs.count("route configured")).toBe(1);
    });
  });

  it.each([
    { rule: "routes as a list", change: (config: ConfigDocument) => (config.routes = ["echo: http://hello-mcp:9000"]), text: "cannot unmarshal !!seq into map[string]string" },
    { rule: "a route with a path", change: (config: ConfigDocument) => (config.routes = { echo: "http://hello-mcp:9000/mcp" }), text: "invalid upstream (must be scheme://host:port)" },
  ])("logs the load error and exits 1 for $rule", async ({ change, text }) => {
    const { server } = await issue(DOMAIN);
    const config = composeConfig({});
    change(config);
    const deployment = new Deployment(config, server);
    const proxy = await deployment.start();

    expect(await exitStatus(proxy)).toBe(1);
    expect(deployment.logs.lines).toEqual([expect.stringContaining(text)]);
  });

  it("does not find a config mounted at /etc/mcp-proxy/config.yaml unless -config points at it", async () => {
    const { server } = await issue(DOMAIN);
    const deployment = new Deployment(composeConfig({ echo: "http://hello-mcp:9000" }), server);

    const withoutFlag = await startProxy(deployment.context([], "/etc/mcp-proxy/config.yaml"));
    expect(await exitStatus(withoutFlag)).toBe(1);
    expect(deployment.logs.lines).toEqual([expect.stringContaining("open /etc/mcp-gateway/config.yaml: no such file or directory")]);

    const withFlag = await startProxy(deployment.context(["-config", "/etc/mcp-proxy/config.yaml"], "/etc/mcp-proxy/config.yaml"));
    teardown.push(() => withFlag.stop());
    expect(deployment.logs.count("route configured")).toBe(1);
  });

  it("logs each unknown config key as a twin warning and starts", async () => {
    const { server } = await issue(DOMAIN);
    const deployment = new Deployment(composeConfig({ echo: "http://hello-mcp:9000" }, { upstream: { allowed_ip: ["127.0.0.0/8"] } }), server);
    await deployment.start();
    expect(deployment.logs.lines).toEqual(expect.arrayContaining([expect.stringContaining("twin: unknown config key ignored: upstream.allowed_ip")]));
  });

  it("keeps info lines, route configured included, out of the log at log_level: warn", async () => {
    const { server } = await issue(DOMAIN);
    const deployment = new Deployment(composeConfig({ echo: "http://hello-mcp:9000" }, { log_level: "warn" }), server);
    await deployment.start();
    expect(deployment.logs.lines).toEqual([]);
  });

  it("fails a plain HTTPS request to the listener with wrong version number, since the listener is plaintext WebSocket", async () => {
    const { ca, server } = await issue(DOMAIN);
    const deployment = new Deployment(composeConfig({ echo: "http://hello-mcp:9000" }), server);
    await deployment.start();

    const error = await new Promise<Error>((resolve, reject) => {
      https
        .get({ host: deployment.namespace.address, port: LISTEN_PORT, servername: `echo.${DOMAIN}`, ca: ca.certificatePem }, () => reject(new Error("answered")))
        .on("error", resolve);
    });
    expect(error.message).toContain("wrong version number");
  });

  it("presents a renewed certificate on new handshakes without a restart", async () => {
    const first = await issue(DOMAIN);
    const renewed = await issue(DOMAIN);
    const deployment = new Deployment(composeConfig({ echo: "http://hello-mcp:9000" }), first.server);
    await deployment.start();
    const presented = async (ca: string) => {
      const socket = await dialInnerTls(deployment.listenUrl, `echo.${DOMAIN}`, ca);
      const fingerprint = socket.getPeerX509Certificate()?.fingerprint256;
      socket.destroy();
      return fingerprint;
    };
    const fingerprintOf = (certificate: GeneratedCertificate) => new X509Certificate(certificate.certificatePem).fingerprint256;
    expect(await presented(first.ca.certificatePem)).toBe(fingerprintOf(first.server));

    const reloaded = deployment.logs.next("certificate reloaded");
    deployment.writeData("tls.key", renewed.server.privateKeyPem);
    deployment.writeData("tls.crt", renewed.server.certificatePem);
    await reloaded;

    expect(await presented(renewed.ca.certificatePem)).toBe(fingerprintOf(renewed.server));
  });

  it("keeps serving the routes it started with after config.yaml changes, until restarted", async () => {
    const first = await issue(DOMAIN);
    const upstream = await startSessionUpstream("echo-server");
    const deployment = new Deployment(composeConfig({ echo: `http://hello-mcp:${upstream.port}` }, LOCAL_UPSTREAMS), first.server);
    const proxy = await deployment.start();
    deployment.writeConfig(composeConfig({ echo: `http://hello-mcp:${upstream.port}`, docs: `http://hello-mcp:${upstream.port}` }, LOCAL_UPSTREAMS));
    // A certificate reload proves the poller has run since the config changed.
    const renewed = await issue(DOMAIN);
    const reloaded = deployment.logs.next("certificate reloaded");
    deployment.writeData("tls.key", renewed.server.privateKeyPem);
    deployment.writeData("tls.crt", renewed.server.certificatePem);
    await reloaded;

    const before = await tunnelFetch(deployment.listenUrl, renewed.ca.certificatePem)(`https://docs.${DOMAIN}/mcp`, { method: "POST", body: "{}" });
    expect(before.status).toBe(502);

    await proxy.stop();
    await deployment.start();
    const { client } = await connectMcp(`https://docs.${DOMAIN}/mcp`, tunnelFetch(deployment.listenUrl, renewed.ca.certificatePem));
    expect(toolText(await client.callTool({ name: "whoami" }))).toBe("echo-server");
  });

  it("finishes an in-flight call on stop, then closes the listener and exits 0", async () => {
    const { ca, server } = await issue(DOMAIN);
    const upstream = await startSessionUpstream("echo-server");
    const deployment = new Deployment(composeConfig({ echo: `http://hello-mcp:${upstream.port}` }, { ...LOCAL_UPSTREAMS, shutdown_timeout: "5s" }), server);
    const proxy = await proxyTwin()(deployment.context());
    const { client, nextNotice } = await connectMcp(`https://echo.${DOMAIN}/mcp`, tunnelFetch(deployment.listenUrl, ca.certificatePem));
    const notice = nextNotice();
    const call = client.callTool({ name: "wait" });
    await notice;

    const stopped = proxy.stop();
    upstream.release();
    expect(toolText(await call)).toBe("done");
    // The session's GET stream is in flight too; the client ends it as it would on its own.
    await client.close();
    await stopped;
    expect(await proxy.exited).toBe(0);
    await expect(dialInnerTls(deployment.listenUrl, `echo.${DOMAIN}`, ca.certificatePem)).rejects.toThrow("ECONNREFUSED");
  });

  it("ends open SSE streams when shutdown_timeout runs out, and exits 0", async () => {
    const { ca, server } = await issue(DOMAIN);
    const upstream = await startSessionUpstream("echo-server");
    const deployment = new Deployment(composeConfig({ echo: `http://hello-mcp:${upstream.port}` }, { ...LOCAL_UPSTREAMS, shutdown_timeout: "50ms" }), server);
    const proxy = await proxyTwin()(deployment.context());
    const { client } = await connectMcp(`https://echo.${DOMAIN}/mcp`, tunnelFetch(deployment.listenUrl, ca.certificatePem));
    await upstream.arrived("GET /mcp");

    await proxy.stop();
    expect(await proxy.exited).toBe(0);
    await client.close();
  });
});
