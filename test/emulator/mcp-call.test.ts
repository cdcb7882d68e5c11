import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { fingerprintOfPem, type GeneratedCertificate } from "../../core/pki";
import { Conformance } from "./conformance-client";
import {
  createTunnel,
  freshNamespaces,
  issueFor,
  mcpCall,
  newCa,
  startConnectorTwin,
  startFixedAnswer,
  startMcpUpstream,
  startTlsOrigin,
  teardownAfterEachTest,
  type TestTunnel,
} from "./data-path";

let emu: Conformance;
let tunnel: TestTunnel;
const teardown = teardownAfterEachTest();
const namespace = freshNamespaces();

beforeAll(async () => {
  emu = await Conformance.start();
  tunnel = await createTunnel(emu);
});
afterAll(() => emu.close());

const mcpUrl = (route = "mcp", domain = tunnel.domain) => `https://${route}.${domain}/mcp`;

/** The origin (TLS terminated with `certificate`) and cloudflared sharing its namespace, forwarding to `upstreamPort`. */
async function serve(certificate: GeneratedCertificate, upstreamPort: number, on: TestTunnel = tunnel): Promise<void> {
  const shared = namespace();
  const origin = await startTlsOrigin(teardown, shared, certificate, upstreamPort);
  const connector = await startConnectorTwin(teardown, emu.running.edgeUrl, shared, { token: on.token, url: `http://localhost:${origin.port}` });
  await connector.logs.seen("Registered tunnel connection", 4);
}

describe("POST /_emulator/mcp", () => {
  it("lists and calls a real MCP server's tools through the edge, the connector and the inner TLS", async () => {
    const upstream = await startMcpUpstream(teardown);
    await serve(await issueFor(tunnel.ca, tunnel.domain), upstream.port);

    const listed = await mcpCall(emu, { url: mcpUrl() });
    expect(listed).toMatchObject({
      ok: true,
      tunnel_id: tunnel.id,
      ca_fingerprint: fingerprintOfPem(tunnel.ca.certificatePem),
      connection: { connection_id: expect.any(String), connector_id: expect.any(String), conn_index: expect.any(Number) },
    });
    expect((listed as { result: { tools: { name: string }[] } }).result.tools.map((tool) => tool.name)).toEqual(["add"]);

    const called = await mcpCall(emu, { url: mcpUrl(), method: "tools/call", params: { name: "add", arguments: { a: 2, b: 40 } } });
    expect(called).toMatchObject({ ok: true, result: { content: [{ type: "text", text: "42" }] } });
  });

  it("sends authorization_token as a bearer and redacts it from what a server echoes back", async () => {
    const secret = "upstream-oauth-token-0123456789";
    const upstream = await startMcpUpstream(teardown, { requireBearer: secret });
    await serve(await issueFor(tunnel.ca, tunnel.domain), upstream.port);

    expect(await mcpCall(emu, { url: mcpUrl(), authorization_token: secret })).toMatchObject({ ok: true });
    expect(upstream.authorizations).toContain(`Bearer ${secret}`);

    const wrong = "a-wrong-token-the-server-repeats";
    const refused = await mcpCall(emu, { url: mcpUrl(), authorization_token: wrong });
    expect(refused).toMatchObject({ ok: false, stage: "http", status: 401 });
    expect(JSON.stringify(refused)).not.toContain(wrong);
    expect(refused.ok === false && refused.message).toContain("[redacted]");
  });

  it("passes the proxy's own 502 No route configured for host back at stage http", async () => {
    const port = await startFixedAnswer(teardown, 502, "No route configured for host");
    await serve(await issueFor(tunnel.ca, tunnel.domain), port);
    expect(await mcpCall(emu, { url: mcpUrl("unrouted") })).toEqual({ ok: false, stage: "http", status: 502, message: "HTTP 502: No route configured for host" });
  });

  it("reports a JSON-RPC error from the server at stage mcp with its code", async () => {
    const upstream = await startMcpUpstream(teardown);
    await serve(await issueFor(tunnel.ca, tunnel.domain), upstream.port);
    // The upstream offers tools only: resources/list is an unknown method to it.
    expect(await mcpCall(emu, { url: mcpUrl(), method: "resources/list" })).toMatchObject({ ok: false, stage: "mcp", code: -32601 });
  });

  it.each<[string, () => Promise<GeneratedCertificate>, string]>([
    ["a CA the tunnel does not trust", async () => issueFor(await newCa("Untrusted CA"), tunnel.domain), "unknown_ca"],
    ["another domain", async () => issueFor(tunnel.ca, "zzzzzzzz.tunnel.anthropic.com"), "name_mismatch"],
  ])("fails at stage tls for a server certificate from %s", async (_, certificate, reason) => {
    const upstream = await startMcpUpstream(teardown);
    await serve(await certificate(), upstream.port);
    const result = await mcpCall(emu, { url: mcpUrl() });
    expect(result).toMatchObject({ ok: false, stage: "tls", reason, message: expect.any(String) });
    expect(upstream.authorizations).toEqual([]);
  });

  it("fails at stage tls, within timeout_ms, when the origin never speaks TLS", async () => {
    const shared = namespace();
    const silent = new WebSocketServer({ host: shared.address, port: 0 });
    await once(silent, "listening");
    teardown.push(() => new Promise<void>((resolve) => silent.close(() => resolve())));
    const connector = await startConnectorTwin(teardown, emu.running.edgeUrl, shared, { token: tunnel.token, url: `http://localhost:${(silent.address() as AddressInfo).port}` });
    await connector.logs.seen("Registered tunnel connection", 4);
    expect(await mcpCall(emu, { url: mcpUrl(), timeout_ms: 300 })).toMatchObject({ ok: false, stage: "tls", reason: "handshake_error" });
    for (const client of silent.clients) client.terminate();
  });

  it("answers stage edge 530 when no connector is registered for the tunnel", async () => {
    expect(await mcpCall(emu, { url: mcpUrl() })).toMatchObject({ ok: false, stage: "edge", status: 530, message: expect.stringContaining("1033") });
  });

  it.each([
    ["an http URL", () => `http://mcp.${tunnel.domain}/mcp`, "https"],
    ["the bare tunnel domain", () => `https://${tunnel.domain}/mcp`, "bare tunnel domain is not routed"],
    ["a host under no tunnel's domain", () => "https://mcp.zzzzzzzz.tunnel.anthropic.com/mcp", "no tunnel"],
    ["two labels in front of the domain", () => `https://a.b.${tunnel.domain}/mcp`, "one DNS label"],
    ["a port", () => `https://mcp.${tunnel.domain}:8443/mcp`, "443"],
    ["credentials in the URL", () => `https://user:pass@mcp.${tunnel.domain}/mcp`, "credentials"],
    ["something that is not a URL", () => "mcp.example", "absolute URL"],
  ])("refuses %s at stage resolve", async (_, url, message) => {
    expect(await mcpCall(emu, { url: url() })).toMatchObject({ ok: false, stage: "resolve", message: expect.stringContaining(message) });
  });

  it("refuses a tunnel without an active CA certificate at stage resolve, even with a connector up", async () => {
    const bare = await createTunnel(emu, { registerCa: false });
    const upstream = await startMcpUpstream(teardown);
    await serve(await issueFor(bare.ca, bare.domain), upstream.port, bare);
    expect(await mcpCall(emu, { url: mcpUrl("mcp", bare.domain) })).toMatchObject({ ok: false, stage: "resolve", message: expect.stringContaining("no active CA certificate") });
  });

  it.each([
    ["an unknown field", { url: "https://mcp.x.tunnel.anthropic.com/", extra: true }],
    ["a method it does not make", { url: "https://mcp.x.tunnel.anthropic.com/", method: "sampling/createMessage" }],
    ["no url", {}],
    ["a timeout over a minute", { url: "https://mcp.x.tunnel.anthropic.com/", timeout_ms: 120_000 }],
  ])("answers a body with %s with 400", async (_, body) => {
    expect((await emu.call("POST", "/_emulator/mcp", { body, omitBeta: true, omitVersion: true })).status).toBe(400);
  });
});
