import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { REGISTRATION_HEADER } from "../../emulator/data-path/tunnel-wire";
import { Conformance } from "./conformance-client";
import {
  connections,
  createTunnel,
  freshNamespaces,
  issueFor,
  mcpCall,
  rotateToken,
  startConnectorTwin,
  startMcpUpstream,
  startTlsOrigin,
  teardownAfterEachTest,
  type StartedConnector,
  type TestTunnel,
} from "./data-path";

let emu: Conformance;
const teardown = teardownAfterEachTest();
const namespace = freshNamespaces();

beforeAll(async () => {
  emu = await Conformance.start();
});
afterAll(() => emu.close());

const edgeUrl = () => emu.running.edgeUrl;

/** The documented pair: cloudflared in the proxy's namespace, forwarding to the origin's port. */
async function dataPath(tunnel: TestTunnel, options: { haConnections?: number; holdUntil?: number } = {}) {
  const shared = namespace();
  const upstream = await startMcpUpstream(teardown);
  const origin = await startTlsOrigin(teardown, shared, await issueFor(tunnel.ca, tunnel.domain), upstream.port, { holdUntil: options.holdUntil });
  const argv = ["tunnel", "--no-autoupdate", "run", "--url", `http://localhost:${origin.port}`, ...(options.haConnections ? ["--ha-connections", String(options.haConnections)] : [])];
  const connector = await startConnectorTwin(teardown, edgeUrl(), shared, { token: tunnel.token, argv });
  await connector.logs.seen("Registered tunnel connection", options.haConnections ?? 4);
  return { connector, origin, upstream, url: `https://mcp.${tunnel.domain}/mcp` };
}

/** Whether a connector exits or registers a connection first, so a broken refusal fails at once instead of hanging. */
function firstOf(connector: StartedConnector): Promise<string> {
  return Promise.race([connector.twin.exited.then((code) => `exited ${code}`), connector.logs.seen("Registered tunnel connection").then(() => "registered")]);
}

/** A registration attempt made by hand: the status the edge answered the upgrade with. */
function registrationStatus(headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(edgeUrl(), { headers });
    socket.once("upgrade", () => {
      socket.once("open", () => socket.close());
      resolve(101);
    });
    socket.once("unexpected-response", (request, response) => {
      request.destroy();
      resolve(response.statusCode ?? 0);
    });
    socket.once("error", reject);
  });
}

describe("the tunnel edge", () => {
  it("registers a connector's four connections with the tunnel's current token", async () => {
    const tunnel = await createTunnel(emu);
    const { connector } = await dataPath(tunnel);
    expect(connector.logs.count("Registered tunnel connection")).toBe(4);
    const registered = await connections(emu, tunnel.id);
    expect(registered.map((connection) => connection.conn_index).sort()).toEqual([0, 1, 2, 3]);
    expect(new Set(registered.map((connection) => connection.connector_id)).size).toBe(1);
    expect(registered.every((connection) => connection.token_id === tunnel.tokenId && connection.tunnel_id === tunnel.id)).toBe(true);
  });

  it("refuses a rotated token for new connections while the connections registered before keep carrying streams", async () => {
    const tunnel = await createTunnel(emu);
    const { url } = await dataPath(tunnel);
    const rotated = await rotateToken(emu, tunnel.id);

    const late = await startConnectorTwin(teardown, edgeUrl(), namespace(), { token: tunnel.token, url: "http://localhost:8080" });
    expect(await firstOf(late)).toBe("exited 1");
    expect(late.logs.count("Register tunnel error from server side error=\"Unauthorized: Invalid tunnel secret\"")).toBe(4);
    expect(late.logs.count("Registered tunnel connection")).toBe(0);

    const established = await connections(emu, tunnel.id);
    expect(established).toHaveLength(4);
    expect(established.every((connection) => connection.token_id === tunnel.tokenId)).toBe(true);
    expect(await mcpCall(emu, { url, method: "tools/list" })).toMatchObject({ ok: true, tunnel_id: tunnel.id });

    const renewed = await startConnectorTwin(teardown, edgeUrl(), namespace(), { token: rotated.token, url: "http://localhost:8080" });
    await renewed.logs.seen("Registered tunnel connection", 4);
    expect((await connections(emu, tunnel.id)).filter((connection) => connection.token_id === rotated.tokenId)).toHaveLength(4);
  });

  it("lets a connection dropped after a rotation back in only with the new token", async () => {
    const tunnel = await createTunnel(emu);
    const { connector, url } = await dataPath(tunnel);
    await rotateToken(emu, tunnel.id);

    const refused = connector.logs.seen("Unauthorized: Invalid tunnel secret");
    expect(await emu.control("DELETE", `/_emulator/edge/connections?tunnel_id=${tunnel.id}&conn_index=0`)).toEqual({ dropped: 1 });
    await refused;
    expect(connector.logs.count("Connection terminated")).toBe(1);
    expect((await connections(emu, tunnel.id)).map((connection) => connection.conn_index).sort()).toEqual([1, 2, 3]);
    expect(await mcpCall(emu, { url })).toMatchObject({ ok: true });
  });

  it("severs every connection of an archived tunnel, and the connector cannot register again", async () => {
    const tunnel = await createTunnel(emu);
    const { connector, url } = await dataPath(tunnel);
    await emu.tunnels("POST", `/v1/tunnels/${tunnel.id}/archive`);
    expect(await connections(emu, tunnel.id)).toEqual([]);
    expect(await connector.twin.exited).toBe(1);
    expect(connector.logs.count("Connection terminated")).toBe(4);
    expect(connector.logs.count("Register tunnel error from server side error=\"Unauthorized: Invalid tunnel secret\"")).toBe(4);
    expect(await mcpCall(emu, { url })).toMatchObject({ ok: false, stage: "resolve", message: expect.stringContaining("archived") });
  });

  it("carries many concurrent streams over one connection", async () => {
    const tunnel = await createTunnel(emu);
    const concurrent = 8;
    // The origin reads no TLS byte until all eight streams are open at once.
    const { url } = await dataPath(tunnel, { haConnections: 1, holdUntil: concurrent });
    const results = await Promise.all(Array.from({ length: concurrent }, (_, index) => mcpCall(emu, { url, method: "tools/call", params: { name: "add", arguments: { a: index, b: 1 } } })));
    results.forEach((result, index) => expect(result).toMatchObject({ ok: true, result: { content: [{ type: "text", text: String(index + 1) }] } }));
    const [only, ...others] = await connections(emu, tunnel.id);
    expect(others).toEqual([]);
    expect(only!.peak_open_streams).toBeGreaterThanOrEqual(concurrent);
    expect(only!.streams_opened).toBeGreaterThanOrEqual(concurrent);
  });

  it.each<[string, () => Promise<Record<string, string>>, number]>([
    ["no bearer", async () => ({ [REGISTRATION_HEADER.connectorId]: randomUUID(), [REGISTRATION_HEADER.connIndex]: "0" }), 401],
    ["a token no tunnel has", async () => ({ authorization: "Bearer mcpt_not-a-token", [REGISTRATION_HEADER.connectorId]: randomUUID(), [REGISTRATION_HEADER.connIndex]: "0" }), 401],
    [
      "a fifth connection index",
      async () => ({ authorization: `Bearer ${(await createTunnel(emu, { registerCa: false })).token}`, [REGISTRATION_HEADER.connectorId]: randomUUID(), [REGISTRATION_HEADER.connIndex]: "4" }),
      400,
    ],
    ["no connector id", async () => ({ authorization: `Bearer ${(await createTunnel(emu, { registerCa: false })).token}`, [REGISTRATION_HEADER.connIndex]: "0" }), 400],
  ])("refuses a registration with %s", async (_, headers, status) => {
    expect(await registrationStatus(await headers())).toBe(status);
  });

  it("answers a plain GET of the registration endpoint with 426", async () => {
    const answer = await emu.call("GET", "/_emulator/edge/connect", { omitBeta: true, omitVersion: true });
    expect(answer.status).toBe(426);
    expect(answer.headers.get("upgrade")).toBe("websocket");
  });

  it("answers 500 No ingress rules were defined through a connector started without --url", async () => {
    const tunnel = await createTunnel(emu);
    const connector = await startConnectorTwin(teardown, edgeUrl(), namespace(), { token: tunnel.token, url: null });
    await connector.logs.seen("Registered tunnel connection", 4);
    const result = await mcpCall(emu, { url: `https://mcp.${tunnel.domain}/mcp` });
    expect(result).toMatchObject({ ok: false, stage: "connector", status: 500, message: expect.stringContaining("No ingress rules were defined") });
    expect(connector.logs.count("No ingress rules were defined")).toBe(1);
  });

  it("answers 502 Unable to reach the origin service through a connector outside the origin's network namespace", async () => {
    const tunnel = await createTunnel(emu);
    const upstream = await startMcpUpstream(teardown);
    const origin = await startTlsOrigin(teardown, namespace(), await issueFor(tunnel.ca, tunnel.domain), upstream.port);
    const elsewhere = namespace();
    const connector = await startConnectorTwin(teardown, edgeUrl(), elsewhere, { token: tunnel.token, url: `http://localhost:${origin.port}` });
    await connector.logs.seen("Registered tunnel connection", 4);
    const result = await mcpCall(emu, { url: `https://mcp.${tunnel.domain}/mcp` });
    expect(result).toMatchObject({ ok: false, stage: "connector", status: 502, message: expect.stringContaining("Unable to reach the origin service") });
    expect(connector.logs.lines.find((line) => line.includes("Unable to reach the origin service"))).toContain(`dial tcp ${elsewhere.address}:${origin.port}: connect: connection refused`);
    expect(origin.accepted).toBe(0);
  });
});
