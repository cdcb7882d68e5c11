import type { TLSSocket } from "node:tls";
import { Agent, fetch as undiciFetch } from "undici";
import { z } from "zod";
import { TunnelWireError } from "./tunnel-wire";
import { FIELD_LIMITS, MCP_CALL_MAX_TIMEOUT_MS, MCP_CALL_TIMEOUT_MS } from "../decided/constants";
import { ApiError } from "../http/errors";
import type { Clock } from "../state/clock";
import type { State, TunnelRecord } from "../state/store";
import { EdgeError, STREAM_FAILURE_STATUS, type Edge } from "./edge";
import { hasActiveCa, innerTlsHandshake, InnerTlsHandshakeError, verifyServerCertificate } from "./inner-tls";

export const MCP_CALL_METHODS = [
  "tools/list",
  "tools/call",
  "resources/list",
  "resources/templates/list",
  "resources/read",
  "prompts/list",
  "prompts/get",
  "ping",
] as const;
export type McpCallMethod = (typeof MCP_CALL_METHODS)[number];

export const mcpCallBody = z.strictObject({
  url: z.string().min(1).max(FIELD_LIMITS.urlChars),
  method: z.enum(MCP_CALL_METHODS).default("tools/list"),
  params: z.record(z.string(), z.unknown()).optional(),
  authorization_token: z.string().min(1).max(FIELD_LIMITS.textChars).optional(),
  timeout_ms: z.number().int().min(1).max(MCP_CALL_MAX_TIMEOUT_MS).default(MCP_CALL_TIMEOUT_MS),
});
export type McpCallInput = z.output<typeof mcpCallBody>;

/** Where along the data path a call failed, in the order a call travels it. */
export type McpCallStage = "resolve" | "edge" | "connector" | "tls" | "http" | "mcp";

export interface McpCallConnection {
  connection_id: string;
  connector_id: string;
  conn_index: number;
}

export type McpCallResult =
  | { ok: true; result: unknown; tunnel_id: string; connection: McpCallConnection; ca_fingerprint: string }
  | { ok: false; stage: McpCallStage; status?: number; reason?: string; code?: number; message: string };

type McpCallFailureDetail = { status?: number; reason?: string; code?: number };

class McpCallFailure extends Error {
  override readonly name = "McpCallFailure";
  constructor(
    readonly stage: McpCallStage,
    message: string,
    readonly detail: McpCallFailureDetail = {},
  ) {
    super(message);
  }
}

const ROUTE_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const MAX_HTTP_BODY_IN_MESSAGE = 500;

interface Target {
  url: URL;
  hostname: string;
  tunnel: TunnelRecord;
}

/**
 * What Anthropic's backend checks before it dials: an https URL on `<route>.<domain>` of a
 * tunnel that is not archived and has an active CA. Messages name the rule, never the URL.
 */
function resolveTarget(state: State, raw: string): Target {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new McpCallFailure("resolve", "url is not an absolute URL");
  }
  if (url.protocol !== "https:") throw new McpCallFailure("resolve", "url must use https: Anthropic reaches tunnel hostnames over TLS only");
  if (url.username !== "" || url.password !== "") throw new McpCallFailure("resolve", "url must not carry credentials; pass authorization_token instead");
  if (url.port !== "") throw new McpCallFailure("resolve", "url must not name a port: tunnel hostnames are served on 443 only");
  const hostname = url.hostname;
  const tunnel = state.tunnels.find((candidate) => hostname === candidate.domain || hostname.endsWith(`.${candidate.domain}`));
  if (!tunnel) throw new McpCallFailure("resolve", "no tunnel has this hostname's domain");
  if (hostname === tunnel.domain) throw new McpCallFailure("resolve", "the bare tunnel domain is not routed; call https://<route>.<domain>/<path>");
  if (!ROUTE_LABEL.test(hostname.slice(0, -tunnel.domain.length - 1))) {
    throw new McpCallFailure("resolve", "the hostname must be exactly one DNS label in front of the tunnel domain (<route>.<domain>)");
  }
  if (tunnel.archived_at !== null) throw new McpCallFailure("resolve", "the tunnel is archived and accepts no connections");
  if (!hasActiveCa(state, tunnel)) throw new McpCallFailure("resolve", "the tunnel has no active CA certificate; Anthropic connects only after a CA is registered");
  return { url, hostname, tunnel };
}

type McpSdk = Awaited<ReturnType<typeof importMcpSdk>>;

function importMcpSdk() {
  return Promise.all([
    import("@modelcontextprotocol/sdk/client/index.js"),
    import("@modelcontextprotocol/sdk/client/streamableHttp.js"),
    import("@modelcontextprotocol/sdk/types.js"),
  ]).then(([client, transport, types]) => ({ Client: client.Client, StreamableHTTPClientTransport: transport.StreamableHTTPClientTransport, McpError: types.McpError }));
}

let loadingSdk: Promise<McpSdk> | undefined;

/** The MCP SDK is an optional peer dependency: loaded on the first call, and named when missing. */
async function loadMcpSdk(): Promise<McpSdk> {
  loadingSdk ??= importMcpSdk();
  try {
    return await loadingSdk;
  } catch (error) {
    loadingSdk = undefined;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      throw new ApiError(501, "POST /_emulator/mcp needs the optional peer dependency @modelcontextprotocol/sdk (^1.32); install it next to pulumi-mcp-tunnels");
    }
    throw error;
  }
}

interface TunnelTls {
  socket: TLSSocket;
  connection: McpCallConnection;
  caFingerprint: string;
}

type Client = InstanceType<McpSdk["Client"]>;
type RequestOptions = { signal: AbortSignal; timeout: number };

function invoke(client: Client, method: McpCallMethod, params: Record<string, unknown> | undefined, options: RequestOptions): Promise<unknown> {
  // Bad params are the server's to refuse: they travel as given and come back as a JSON-RPC error.
  const anyParams = params as never;
  switch (method) {
    case "tools/list":
      return client.listTools(anyParams, options);
    case "tools/call":
      return client.callTool(anyParams, undefined, options);
    case "resources/list":
      return client.listResources(anyParams, options);
    case "resources/templates/list":
      return client.listResourceTemplates(anyParams, options);
    case "resources/read":
      return client.readResource(anyParams, options);
    case "prompts/list":
      return client.listPrompts(anyParams, options);
    case "prompts/get":
      return client.getPrompt(anyParams, options);
    case "ping":
      return client.ping(options);
  }
}

/**
 * The Claude-side call, as Anthropic's backend makes it: resolve the hostname to a tunnel, open a
 * stream over one of its connector connections, run TLS inside it trusting only the tunnel's
 * active CAs, then speak MCP (Streamable HTTP) through that TLS session. Every failure is an
 * answer naming the stage, not an exception.
 */
export async function callMcp(edge: Edge, store: { readonly state: State }, clock: Clock, input: McpCallInput): Promise<McpCallResult> {
  const secret = input.authorization_token;
  const redact = (text: string) => (secret ? text.split(secret).join("[redacted]") : text);
  const deadline = AbortSignal.timeout(input.timeout_ms);
  const remaining = (() => {
    const until = Date.now() + input.timeout_ms;
    return () => Math.max(1, until - Date.now());
  })();
  const sockets: TLSSocket[] = [];
  let stage: McpCallStage = "resolve";
  let agent: Agent | undefined;
  let client: Client | undefined;

  try {
    const target = resolveTarget(store.state, input.url);
    const sdk = await loadMcpSdk();

    const openTunnelTls = async (): Promise<TunnelTls> => {
      stage = "edge";
      let opened: Awaited<ReturnType<Edge["openStream"]>>;
      try {
        opened = await edge.openStream(target.tunnel.id, target.hostname, deadline);
      } catch (error) {
        if (error instanceof EdgeError) throw new McpCallFailure("edge", error.message, { status: error.status });
        if (error instanceof TunnelWireError) throw new McpCallFailure("connector", error.message, { status: STREAM_FAILURE_STATUS[error.code], reason: error.code });
        throw error;
      }
      const { stream, connection } = opened;
      stage = "tls";
      let handshake: Awaited<ReturnType<typeof innerTlsHandshake>>;
      try {
        handshake = await innerTlsHandshake({ socket: stream }, target.hostname, remaining(), deadline);
      } catch (error) {
        stream.destroy();
        if (error instanceof InnerTlsHandshakeError) throw new McpCallFailure("tls", error.message, { reason: error.reason });
        throw error;
      }
      sockets.push(handshake.socket);
      // The tunnel's CAs as they are now: a CA archived since the first connection no longer counts.
      const verdict = await verifyServerCertificate(store.state, clock, target.tunnel, handshake.certificate, target.hostname);
      if (!verdict.ok) {
        handshake.socket.destroy();
        throw new McpCallFailure("tls", verdict.message, { reason: verdict.reason });
      }
      stage = "http";
      return {
        socket: handshake.socket,
        connection: { connection_id: connection.id, connector_id: connection.connectorId, conn_index: connection.connIndex },
        caFingerprint: verdict.ca_fingerprint,
      };
    };

    const first = await openTunnelTls();
    let spare: TLSSocket | undefined = first.socket;
    let laterFailure: McpCallFailure | undefined;
    agent = new Agent({
      // Each HTTP connection the client wants is one more tunnel stream with its own inner TLS.
      connect: (_options, callback) => {
        const socket = spare;
        spare = undefined;
        if (socket && !socket.destroyed) {
          // undici 8 never writes to a socket handed back synchronously from `connect`.
          setImmediate(() => callback(null, socket));
          return;
        }
        openTunnelTls().then(
          (opened) => callback(null, opened.socket),
          (error: Error) => {
            if (error instanceof McpCallFailure) laterFailure ??= error;
            callback(error, null);
          },
        );
      },
    });
    const dispatcher = agent;
    let httpFailure: { status: number; body: string } | undefined;
    const fetchThroughTunnel = async (url: string | URL, init?: RequestInit): Promise<Response> => {
      const response = await undiciFetch(url, { ...(init as object), dispatcher });
      // A 405 on GET is how a server says it offers no standalone event stream: not a failure.
      if (!response.ok && !(init?.method === "GET" && response.status === 405)) {
        httpFailure = { status: response.status, body: (await response.clone().text().catch(() => "")).trim() };
      }
      return response as unknown as Response;
    };

    const transport = new sdk.StreamableHTTPClientTransport(target.url, {
      fetch: fetchThroughTunnel,
      ...(secret ? { requestInit: { headers: { authorization: `Bearer ${secret}` } } } : {}),
    });
    client = new sdk.Client({ name: "mcp-tunnels-emulator", version: "1.0.0" });
    try {
      await client.connect(transport, { signal: deadline, timeout: remaining() });
      const result = await invoke(client, input.method, input.params, { signal: deadline, timeout: remaining() });
      return { ok: true, result, tunnel_id: target.tunnel.id, connection: first.connection, ca_fingerprint: first.caFingerprint };
    } catch (error) {
      if (laterFailure) throw laterFailure;
      if (httpFailure) {
        throw new McpCallFailure("http", `HTTP ${httpFailure.status}${httpFailure.body ? `: ${httpFailure.body.slice(0, MAX_HTTP_BODY_IN_MESSAGE)}` : ""}`, { status: httpFailure.status });
      }
      if (deadline.aborted) throw new McpCallFailure(stage, `no answer within ${input.timeout_ms} ms`);
      if (error instanceof sdk.McpError) throw new McpCallFailure("mcp", error.message, { code: error.code });
      const cause = (error as { cause?: unknown }).cause;
      if (error instanceof TypeError && cause instanceof Error) throw new McpCallFailure("http", `${error.message}: ${cause.message}`);
      throw new McpCallFailure("mcp", (error as Error).message);
    }
  } catch (error) {
    if (error instanceof McpCallFailure) return { ok: false, stage: error.stage, ...error.detail, message: redact(error.message) };
    if (deadline.aborted) return { ok: false, stage, message: `no answer within ${input.timeout_ms} ms` };
    throw error;
  } finally {
    await client?.close().catch(() => undefined);
    await agent?.destroy().catch(() => undefined);
    for (const socket of sockets) socket.destroy();
  }
}
