import { once } from "node:events";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer, type WebSocket } from "ws";
import { parseConnectorArgs, startConnector } from "./connector";
import { ContainerFs, loopbackSubnet, NetworkNamespace, type RunningTwin } from "./container";
import { LogBook } from "./log-book.test-support";
import { REGISTRATION_HEADER, TunnelMux } from "../emulator/data-path/tunnel-wire";
import { readAll, wireFailureOf } from "../test/support/tunnel-streams";

const TOKEN = "mcpt_connector-test-token-not-a-real-one";
const DOCUMENTED_ARGV = ["tunnel", "--no-autoupdate", "run", "--url", "http://localhost:8080"];
const REFUSAL = JSON.stringify({ type: "error", error: { type: "authentication_error", message: "Unauthorized: Invalid tunnel secret" } });

const teardown: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of teardown.splice(0).reverse()) await step();
});

const subnet = loopbackSubnet();
let namespaces = 0;
const namespace = () => new NetworkNamespace(subnet(namespaces++));

interface Registration {
  headers: IncomingHttpHeaders;
  socket: WebSocket;
  mux: TunnelMux;
}

/** A stand-in for the edge on port 0: refuses with 401 while `refusing`, else registers and lets the test open streams. */
async function fakeEdge() {
  const attempts: IncomingHttpHeaders[] = [];
  const registrations: Registration[] = [];
  const server = createServer();
  const webSockets = new WebSocketServer({ noServer: true });
  webSockets.on("headers", (headers) => headers.push(`${REGISTRATION_HEADER.connectionId}: test-connection`, `${REGISTRATION_HEADER.location}: test01`));
  const edge = { attempts, registrations, refusing: false, url: "" };
  server.on("upgrade", (request, socket, head) => {
    attempts.push(request.headers);
    if (edge.refusing) {
      socket.end(`HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(REFUSAL)}\r\nconnection: close\r\n\r\n${REFUSAL}`);
      return;
    }
    webSockets.handleUpgrade(request, socket, head, (webSocket) => registrations.push({ headers: request.headers, socket: webSocket, mux: new TunnelMux(webSocket) }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  edge.url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/edge`;
  teardown.push(
    () =>
      new Promise<void>((resolve) => {
        for (const client of webSockets.clients) client.terminate();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return edge;
}

async function connector(edgeUrl: string, options: { argv?: string[]; env?: Record<string, string>; net?: NetworkNamespace } = {}) {
  const logs = new LogBook();
  const twin: RunningTwin = await startConnector({
    argv: options.argv ?? DOCUMENTED_ARGV,
    env: options.env ?? { TUNNEL_TOKEN: TOKEN },
    fs: new ContainerFs([], { uid: 65532, gid: 65532 }),
    net: options.net ?? namespace(),
    outside: { edgeUrl, rewriteUrl: (url) => url },
    log: logs.write,
  });
  teardown.push(() => twin.stop());
  return { twin, logs };
}

/** A WebSocket origin in `net` that echoes binary messages and records the Host it was asked for. */
async function echoOrigin(net: NetworkNamespace) {
  const server = new WebSocketServer({ host: net.address, port: 0 });
  await once(server, "listening");
  const hosts: (string | undefined)[] = [];
  server.on("connection", (socket, request) => {
    hosts.push(request.headers.host);
    socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  teardown.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, hosts };
}

const refusalOf = (opening: Promise<Duplex>) => wireFailureOf(opening, "expected the connector to refuse the stream");

describe("parseConnectorArgs", () => {
  it.each<[string, string[], Record<string, string>, Record<string, unknown>]>([
    ["the documented command with TUNNEL_TOKEN", DOCUMENTED_ARGV, { TUNNEL_TOKEN: "t1" }, { url: "http://localhost:8080", token: "t1", haConnections: 4 }],
    ["--token, which wins over TUNNEL_TOKEN", ["tunnel", "run", "--token", "t2"], { TUNNEL_TOKEN: "t1" }, { url: undefined, token: "t2" }],
    ["--flag=value and single-dash flags", ["tunnel", "-no-autoupdate", "run", "--url=http://localhost:9000", "-token=t3"], {}, { url: "http://localhost:9000", token: "t3" }],
    ["an empty TUNNEL_TOKEN, which counts as none", ["tunnel", "run"], { TUNNEL_TOKEN: "" }, { token: undefined }],
    ["--ha-connections and --retries", ["tunnel", "run", "--ha-connections", "1", "--retries", "0"], {}, { haConnections: 1, retries: 0 }],
  ])("reads %s", (_, argv, env, expected) => {
    expect(parseConnectorArgs(argv, env)).toMatchObject(expected);
  });

  it.each([
    ["an unknown flag", ["tunnel", "run", "--no-such-flag"], "flag provided but not defined: -no-such-flag"],
    ["a value flag without its value", ["tunnel", "run", "--url"], "flag needs an argument: -url"],
    ["a command other than tunnel run", ["tunnel", "list"], "tunnel run"],
    ["more HA connections than the edge takes", ["tunnel", "run", "--ha-connections", "5"], "--ha-connections"],
  ])("refuses %s", (_, argv, message) => {
    expect(parseConnectorArgs(argv, {})).toEqual(expect.stringContaining(message));
  });
});

describe("the connector twin", () => {
  it("exits 1 with a clear error and never dials the edge when TUNNEL_TOKEN is empty", async () => {
    const edge = await fakeEdge();
    const { twin, logs } = await connector(edge.url, { env: { TUNNEL_TOKEN: "" } });
    expect(await Promise.race([twin.exited, logs.seen("Registered tunnel connection").then(() => "registered")])).toBe(1);
    expect(logs.lines.join("\n")).toContain("TUNNEL_TOKEN is empty or unset");
    expect(edge.attempts).toEqual([]);
  });

  it("registers four connections with the token as a bearer and logs Registered tunnel connection for each", async () => {
    const edge = await fakeEdge();
    const { logs } = await connector(edge.url);
    await logs.seen("Registered tunnel connection", 4);
    expect(edge.registrations.map((registration) => registration.headers[REGISTRATION_HEADER.connIndex]).sort()).toEqual(["0", "1", "2", "3"]);
    expect(new Set(edge.registrations.map((registration) => registration.headers[REGISTRATION_HEADER.connectorId])).size).toBe(1);
    expect(edge.registrations.every((registration) => registration.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(logs.lines.find((line) => line.includes("connIndex=2"))).toMatch(/INF Registered tunnel connection connIndex=2 connection=test-connection .*location=test01/);
  });

  it("exits 1 when every registration is refused, logging the edge's words and never the token", async () => {
    const edge = await fakeEdge();
    edge.refusing = true;
    const { twin, logs } = await connector(edge.url);
    expect(await twin.exited).toBe(1);
    expect(logs.count('Register tunnel error from server side error="Unauthorized: Invalid tunnel secret"')).toBe(4);
    expect(logs.count("Registered tunnel connection")).toBe(0);
    expect(logs.lines.join("\n")).not.toContain(TOKEN);
  });

  it("registers again with the same token when an established connection drops", async () => {
    const edge = await fakeEdge();
    const { logs } = await connector(edge.url);
    await logs.seen("Registered tunnel connection", 4);
    const dropped = edge.registrations.find((registration) => registration.headers[REGISTRATION_HEADER.connIndex] === "1")!;
    dropped.socket.close(4010, "dropped");
    await logs.seen("Registered tunnel connection", 5);
    expect(logs.count("Connection terminated")).toBe(1);
    expect(edge.registrations.at(-1)!.headers).toMatchObject({ authorization: `Bearer ${TOKEN}`, [REGISTRATION_HEADER.connIndex]: "1" });
  });

  it("keeps running on the connections it has when a reconnect is refused, and exits 1 once none is left", async () => {
    const edge = await fakeEdge();
    const { twin, logs } = await connector(edge.url, { argv: [...DOCUMENTED_ARGV, "--ha-connections", "2"] });
    await logs.seen("Registered tunnel connection", 2);
    edge.refusing = true;
    edge.registrations[0]!.socket.close(4010, "dropped");
    await logs.seen("Unauthorized: Invalid tunnel secret");
    expect(edge.registrations[1]!.socket.readyState).toBe(edge.registrations[1]!.socket.OPEN);
    edge.registrations[1]!.socket.close(4010, "dropped");
    expect(await twin.exited).toBe(1);
    expect(logs.count("Lost every tunnel connection")).toBe(1);
  });

  it("gives up after --retries when the edge cannot be reached", async () => {
    const edge = await fakeEdge();
    const unreachable = edge.url.replace(/:\d+\//, ":1/");
    const { twin, logs } = await connector(unreachable, { argv: [...DOCUMENTED_ARGV, "--retries", "0"] });
    expect(await twin.exited).toBe(1);
    expect(logs.count("Unable to establish connection with Cloudflare edge")).toBe(4);
    expect(logs.lines.join("\n")).toContain("connect: connection refused");
  });

  it("answers every stream with no_ingress, and logs it, when started without --url", async () => {
    const edge = await fakeEdge();
    const { logs } = await connector(edge.url, { argv: ["tunnel", "--no-autoupdate", "run"] });
    await logs.seen("Registered tunnel connection", 4);
    const refusal = await refusalOf(edge.registrations[0]!.mux.open({ host: "mcp.example.test" }));
    expect(refusal).toMatchObject({ code: "no_ingress", message: "No ingress rules were defined" });
    expect(logs.count("No ingress rules were defined")).toBe(1);
  });

  it("pipes a stream's bytes to the --url origin in its own network namespace, forwarding the caller's host", async () => {
    const edge = await fakeEdge();
    const shared = namespace();
    const origin = await echoOrigin(shared);
    const { logs } = await connector(edge.url, { argv: ["tunnel", "run", "--url", `http://localhost:${origin.port}`], net: shared });
    await logs.seen("Registered tunnel connection", 4);
    const stream = await edge.registrations[2]!.mux.open({ host: "mcp.abcdefgh.tunnel.anthropic.com" });
    const answer = readAll(stream);
    stream.write("inner TLS bytes, opaque to the connector");
    stream.end();
    expect((await answer).toString()).toBe("inner TLS bytes, opaque to the connector");
    expect(origin.hosts).toEqual(["mcp.abcdefgh.tunnel.anthropic.com"]);
  });

  it("answers origin_unreachable with the dial error when the origin is in another network namespace", async () => {
    const edge = await fakeEdge();
    const origin = await echoOrigin(namespace());
    const own = namespace();
    const { logs } = await connector(edge.url, { argv: ["tunnel", "run", "--url", `http://localhost:${origin.port}`], net: own });
    await logs.seen("Registered tunnel connection", 4);
    const refusal = await refusalOf(edge.registrations[0]!.mux.open());
    expect(refusal.code).toBe("origin_unreachable");
    expect(refusal.message).toBe(
      `Unable to reach the origin service. The service may be down or it may not be responding to traffic from cloudflared: dial tcp ${own.address}:${origin.port}: connect: connection refused`,
    );
    expect(logs.lines.find((line) => line.includes("Unable to reach the origin service"))).toContain(`originService=http://localhost:${origin.port}`);
    expect(origin.hosts).toEqual([]);
  });

  it("answers origin_rejected when the origin does not upgrade to a WebSocket", async () => {
    const edge = await fakeEdge();
    const net = namespace();
    const plain = createServer((_request, response) => response.end("not a websocket"));
    await new Promise<void>((resolve) => plain.listen(0, net.address, resolve));
    teardown.push(() => new Promise<void>((resolve) => plain.close(() => resolve())));
    const { logs } = await connector(edge.url, { argv: ["tunnel", "run", "--url", `http://localhost:${(plain.address() as AddressInfo).port}`], net });
    await logs.seen("Registered tunnel connection", 4);
    expect(await refusalOf(edge.registrations[0]!.mux.open())).toMatchObject({ code: "origin_rejected", message: expect.stringContaining("HTTP 200") });
  });

  it("closes its connections on stop() and exits 0", async () => {
    const edge = await fakeEdge();
    const { twin, logs } = await connector(edge.url);
    await logs.seen("Registered tunnel connection", 4);
    const closed = edge.registrations.map((registration) => once(registration.socket, "close"));
    await twin.stop();
    expect(await twin.exited).toBe(0);
    const codes = (await Promise.all(closed)).map(([code]) => code as number);
    expect(codes).toEqual([1001, 1001, 1001, 1001]);
    expect(edge.attempts).toHaveLength(4);
  });
});
