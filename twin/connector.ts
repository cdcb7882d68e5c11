import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, type RawData } from "ws";
import { ContainerFsError, exitedTwin, type ContainerContext, type RunningTwin, type TwinMain } from "./container";
import { CLOSE_CODE, HA_CONNECTIONS, REGISTRATION_HEADER, TunnelMux, TunnelWireError, type IncomingStream } from "../emulator/data-path/tunnel-wire";

/**
 * cloudflared's role: `tunnel [--no-autoupdate] run [--url http://host:port] [--token T]`, token
 * from `--token` or env `TUNNEL_TOKEN`. It dials out to the edge with four connections, and for
 * each stream the edge opens it dials the `--url` origin as a WebSocket resolved in its own
 * network namespace (so `localhost` is the proxy only when they share it) and pipes the bytes.
 *
 * Log texts cloudflared prints and the public docs quote, which tests may rely on:
 * `Registered tunnel connection` (once per connection), `Unauthorized: Invalid tunnel secret`
 * (from the edge), `No ingress rules were defined`, `Unable to reach the origin service`.
 */
export const startConnector: TwinMain = async (context) => runConnector(context);

/** cloudflared's default `--retries`: attempts after a connection or protocol error before giving up. */
const DEFAULT_RETRIES = 5;
const FIRST_RETRY_DELAY_MS = 100;
const MAX_RETRY_DELAY_MS = 2_000;
const EDGE_HANDSHAKE_TIMEOUT_MS = 5_000;
const ORIGIN_CONNECT_TIMEOUT_MS = 5_000;
const CLOSE_HANDSHAKE_TIMEOUT_MS = 1_000;
const UNREACHABLE = "Unable to reach the origin service. The service may be down or it may not be responding to traffic from cloudflared";

/** Flags that take no value; any other known flag takes one. */
const BOOLEAN_FLAGS = new Set(["no-autoupdate", "no-tls-verify", "hello-world", "post-quantum", "no-chunked-encoding", "http2-origin", "bastion", "socks5", "management-diagnostics"]);
const VALUE_FLAGS = new Set([
  "url",
  "token",
  "token-file",
  "ha-connections",
  "retries",
  "loglevel",
  "transport-loglevel",
  "logfile",
  "log-directory",
  "metrics",
  "protocol",
  "edge-ip-version",
  "edge-bind-address",
  "region",
  "grace-period",
  "pidfile",
  "origincert",
  "credentials-file",
  "cred-file",
  "config",
  "autoupdate-freq",
  "tag",
  "label",
  "http-host-header",
  "origin-server-name",
  "origin-ca-pool",
  "connect-timeout",
  "tls-timeout",
  "tcp-keepalive",
  "proxy-connect-timeout",
  "max-edge-addr-retries",
  "name",
  "compression-quality",
]);

interface ConnectorFlags {
  url: string | undefined;
  token: string | undefined;
  tokenFile: string | undefined;
  haConnections: number;
  retries: number;
}

/** urfave/cli as cloudflared uses it: `-f`/`--f`, `--f v`/`--f=v`, flags before or after `run`. */
export function parseConnectorArgs(argv: readonly string[], env: Record<string, string>): ConnectorFlags | string {
  const values = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positional.push(arg);
      continue;
    }
    const body = arg.replace(/^--?/, "");
    const equals = body.indexOf("=");
    const name = equals === -1 ? body : body.slice(0, equals);
    if (BOOLEAN_FLAGS.has(name)) {
      values.set(name, equals === -1 ? "true" : body.slice(equals + 1));
    } else if (VALUE_FLAGS.has(name)) {
      if (equals !== -1) values.set(name, body.slice(equals + 1));
      else if (i + 1 < argv.length) values.set(name, argv[++i]!);
      else return `Incorrect Usage: flag needs an argument: -${name}`;
    } else {
      return `Incorrect Usage: flag provided but not defined: -${name}`;
    }
  }
  if (positional[0] !== "tunnel" || positional[1] !== "run") return `the connector twin runs "cloudflared tunnel run" only, got "${positional.slice(0, 2).join(" ")}"`;
  const haConnections = Number(values.get("ha-connections") ?? HA_CONNECTIONS);
  if (!Number.isInteger(haConnections) || haConnections < 1 || haConnections > HA_CONNECTIONS) return `--ha-connections must be from 1 to ${HA_CONNECTIONS}`;
  const retries = Number(values.get("retries") ?? env["TUNNEL_RETRIES"] ?? DEFAULT_RETRIES);
  if (!Number.isInteger(retries) || retries < 0) return "--retries must be a non-negative integer";
  const nonEmpty = (value: string | undefined) => (value === undefined || value === "" ? undefined : value);
  return {
    url: nonEmpty(values.get("url") ?? env["TUNNEL_URL"]),
    token: nonEmpty(values.get("token") ?? env["TUNNEL_TOKEN"]),
    tokenFile: nonEmpty(values.get("token-file") ?? env["TUNNEL_TOKEN_FILE"]),
    haConnections,
    retries,
  };
}

interface Origin {
  /** As given, for log lines (`originService=`). */
  service: string;
  hostname: string;
  port: number;
}

function parseOrigin(url: string): Origin | string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `--url ${JSON.stringify(url)} is not a URL`;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "ws:") return `--url scheme ${parsed.protocol.slice(0, -1)} is not modelled by the connector twin (http and ws only)`;
  return { service: url, hostname: parsed.hostname.replace(/^\[|\]$/g, ""), port: parsed.port === "" ? 80 : Number(parsed.port) };
}

/** Go's wording for a failed dial, which cloudflared's origin errors embed. */
function dialErrorText(error: NodeJS.ErrnoException, address: string): string {
  switch (error.code) {
    case "ECONNREFUSED":
      return `dial tcp ${address}: connect: connection refused`;
    case "EHOSTUNREACH":
      return `dial tcp ${address}: connect: no route to host`;
    case "ETIMEDOUT":
      return `dial tcp ${address}: i/o timeout`;
    default:
      return /timed out/i.test(error.message) ? `dial tcp ${address}: i/o timeout` : `dial tcp ${address}: ${error.message}`;
  }
}

const toBuffer = (data: RawData): Buffer => (Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data));

const quote = (text: string) => JSON.stringify(text);

async function runConnector(context: ContainerContext): Promise<RunningTwin> {
  const log = (level: "INF" | "WRN" | "ERR", line: string) => context.log(`${new Date().toISOString().replace(/\.\d{3}Z$/, "Z")} ${level} ${line}`);
  const flags = parseConnectorArgs(context.argv, context.env);
  if (typeof flags === "string") {
    log("ERR", flags);
    return exitedTwin(1);
  }
  let token = flags.token;
  if (token === undefined && flags.tokenFile !== undefined) {
    try {
      token = context.fs.readFile(flags.tokenFile).toString("utf8").trim() || undefined;
    } catch (error) {
      log("ERR", `Couldn't read token file error=${quote(error instanceof ContainerFsError ? error.message : (error as Error).message)}`);
      return exitedTwin(1);
    }
  }
  if (token === undefined) {
    log(
      "ERR",
      `"cloudflared tunnel run" requires the ID or name of the tunnel to run as the last command line argument or in the configuration file (TUNNEL_TOKEN is empty or unset and no --token was given)`,
    );
    return exitedTwin(1);
  }
  let origin: Origin | undefined;
  if (flags.url !== undefined) {
    const parsed = parseOrigin(flags.url);
    if (typeof parsed === "string") {
      log("ERR", parsed);
      return exitedTwin(1);
    }
    origin = parsed;
  }
  const connector = new Connector(context, log, token, origin, flags);
  connector.start();
  return connector;
}

type SlotState = "connecting" | "registered" | "refused" | "failed" | "stopped";

interface Slot {
  readonly index: number;
  state: SlotState;
  socket: WebSocket | undefined;
  mux: TunnelMux | undefined;
}

type DialOutcome = { kind: "refused"; error: string } | { kind: "failed"; error: string } | { kind: "closed"; error: string };

class Connector implements RunningTwin {
  readonly exited: Promise<number>;
  private finish: (code: number) => void = () => {};
  private stopping = false;
  private everRegistered = false;
  private lastError = "";
  private readonly connectorId = randomUUID();
  private readonly slots: Slot[];
  private readonly origins = new Set<WebSocket>();
  private readonly sleeps = new Set<() => void>();
  private readonly edgeHost: string;

  constructor(
    private readonly context: ContainerContext,
    private readonly log: (level: "INF" | "WRN" | "ERR", line: string) => void,
    private readonly token: string,
    private readonly origin: Origin | undefined,
    private readonly flags: ConnectorFlags,
  ) {
    let settled = false;
    this.exited = new Promise<number>((resolve) => {
      this.finish = (code) => {
        if (settled) return;
        settled = true;
        resolve(code);
      };
    });
    this.slots = Array.from({ length: flags.haConnections }, (_, index) => ({ index, state: "connecting" as SlotState, socket: undefined, mux: undefined }));
    this.edgeHost = new URL(context.outside.edgeUrl).hostname;
  }

  start(): void {
    for (const slot of this.slots) void this.runSlot(slot);
  }

  async stop(): Promise<void> {
    if (this.stopping) {
      await this.exited;
      return;
    }
    this.stopping = true;
    this.log("INF", "Initiating graceful shutdown due to signal terminated ...");
    for (const wake of this.sleeps) wake();
    const closing: Promise<void>[] = [];
    for (const slot of this.slots) {
      slot.state = "stopped";
      const socket = slot.socket;
      if (!socket) continue;
      if (slot.mux) {
        closing.push(closed(socket));
        slot.mux.close(CLOSE_CODE.goingAway, "connector shutting down");
      } else {
        socket.terminate();
      }
    }
    for (const origin of this.origins) origin.terminate();
    await Promise.all(closing);
    this.finish(0);
    await this.exited;
  }

  /** One HA connection: register, serve until it drops, register again; give up on a refusal or after `--retries` failures. */
  private async runSlot(slot: Slot): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      slot.state = "connecting";
      const outcome = await this.dial(slot);
      if (this.stopping) return;
      this.lastError = outcome.error;
      if (outcome.kind === "refused") {
        slot.state = "refused";
        break;
      }
      if (outcome.kind === "closed") {
        failures = 0;
        this.log("WRN", `Connection terminated error=${quote(outcome.error)} connIndex=${slot.index}`);
        continue;
      }
      failures += 1;
      if (failures > this.flags.retries) {
        slot.state = "failed";
        break;
      }
      const delay = Math.min(FIRST_RETRY_DELAY_MS * 2 ** (failures - 1), MAX_RETRY_DELAY_MS);
      this.log("INF", `Retrying connection in up to ${delay}ms connIndex=${slot.index} event=0 ip=${this.edgeHost}`);
      await this.sleep(delay);
    }
    this.exitIfNothingLeft();
  }

  private exitIfNothingLeft(): void {
    if (this.stopping || !this.slots.every((slot) => slot.state === "refused" || slot.state === "failed")) return;
    this.log("ERR", `${this.everRegistered ? "Lost every tunnel connection and could not register again" : "Couldn't start tunnel"} error=${quote(this.lastError)}`);
    this.finish(1);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleeps.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleeps.add(wake);
    });
  }

  /** Resolves when this attempt is over: refused or failed at registration, or registered and later closed. */
  private dial(slot: Slot): Promise<DialOutcome> {
    return new Promise((settle) => {
      let settled = false;
      // ws may report one failure twice (a refusal, then the socket closing): the first one counts.
      const resolve = (outcome: DialOutcome, line?: string) => {
        if (settled) return;
        settled = true;
        if (line && !this.stopping) this.log("ERR", line);
        settle(outcome);
      };
      const socket = new WebSocket(this.context.outside.edgeUrl, {
        headers: {
          authorization: `Bearer ${this.token}`,
          [REGISTRATION_HEADER.connectorId]: this.connectorId,
          [REGISTRATION_HEADER.connIndex]: String(slot.index),
        },
        handshakeTimeout: EDGE_HANDSHAKE_TIMEOUT_MS,
        perMessageDeflate: false,
      });
      slot.socket = socket;
      let connectionId = "";
      socket.once("upgrade", (response: IncomingMessage) => {
        connectionId = String(response.headers[REGISTRATION_HEADER.connectionId] ?? "");
        const location = String(response.headers[REGISTRATION_HEADER.location] ?? "");
        socket.once("open", () => {
          slot.state = "registered";
          this.everRegistered = true;
          slot.mux = new TunnelMux(socket, { onStream: (incoming) => this.serveStream(incoming, slot.index) });
          this.log("INF", `Registered tunnel connection connIndex=${slot.index} connection=${connectionId} event=0 ip=${this.edgeHost} location=${location} protocol=websocket`);
        });
      });
      socket.once("unexpected-response", (request, response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.once("end", () => {
          request.destroy();
          const status = response.statusCode ?? 0;
          const serverMessage = messageOfErrorBody(Buffer.concat(chunks)) ?? `HTTP ${status}`;
          // A refused token stays refused: only a 401 ends this connection's retries.
          resolve(
            { kind: status === 401 ? "refused" : "failed", error: serverMessage },
            `Register tunnel error from server side error=${quote(serverMessage)} connIndex=${slot.index} event=0 ip=${this.edgeHost}`,
          );
        });
      });
      socket.on("error", (error: NodeJS.ErrnoException) => {
        if (slot.mux) return;
        const text = dialErrorText(error, `${this.edgeHost}:${new URL(this.context.outside.edgeUrl).port}`);
        resolve({ kind: "failed", error: text }, `Unable to establish connection with Cloudflare edge error=${quote(text)} connIndex=${slot.index} event=0 ip=${this.edgeHost}`);
      });
      socket.once("close", (code: number, reason: Buffer) => {
        const wasRegistered = slot.mux !== undefined;
        slot.socket = undefined;
        slot.mux = undefined;
        if (wasRegistered) resolve({ kind: "closed", error: `the edge closed the connection (${code}${reason.length ? ` ${reason.toString("utf8")}` : ""})` });
        else resolve({ kind: "failed", error: `the edge closed the connection during registration (${code})` });
      });
    });
  }

  private serveStream(incoming: IncomingStream, connIndex: number): void {
    const { stream } = incoming;
    stream.on("error", () => {});
    if (this.stopping) {
      incoming.reject("cancelled", "the connector is shutting down");
      return;
    }
    if (!this.origin) {
      this.log("ERR", `No ingress rules were defined in provided config (if any) nor from the cli; pass --url (e.g. --url http://localhost:8080) connIndex=${connIndex}`);
      incoming.reject("no_ingress", "No ingress rules were defined");
      return;
    }
    const origin = this.origin;
    const failed = (code: "origin_unreachable" | "origin_rejected", message: string) => {
      this.log("ERR", ` error=${quote(message)} connIndex=${connIndex} event=1 ingressRule=0 originService=${origin.service}`);
      incoming.reject(code, message);
    };
    const ip = this.context.net.resolve(origin.hostname);
    if (!ip) {
      failed("origin_unreachable", `${UNREACHABLE}: dial tcp: lookup ${origin.hostname}: no such host`);
      return;
    }
    const address = `${ip}:${origin.port}`;
    const socket = new WebSocket(`ws://${address}/`, {
      headers: incoming.metadata.host ? { host: incoming.metadata.host } : {},
      handshakeTimeout: ORIGIN_CONNECT_TIMEOUT_MS,
      perMessageDeflate: false,
    });
    this.origins.add(socket);
    let accepted = false;
    // The edge may give up on the stream while the origin is still being dialled.
    stream.once("close", () => {
      if (!accepted) socket.terminate();
    });
    socket.once("unexpected-response", (request, response) => {
      request.destroy();
      this.origins.delete(socket);
      failed("origin_rejected", `the origin service answered the WebSocket upgrade with HTTP ${response.statusCode}, not 101`);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      this.origins.delete(socket);
      if (accepted) stream.destroy(new TunnelWireError("origin_failed", `the origin service failed: ${error.message}`));
      else if (!stream.destroyed) failed("origin_unreachable", `${UNREACHABLE}: ${dialErrorText(error, address)}`);
    });
    socket.once("open", () => {
      if (stream.destroyed) {
        socket.terminate();
        return;
      }
      accepted = true;
      pipe(incoming.accept(), socket, () => this.origins.delete(socket));
    });
  }
}

/** The close handshake, or a hard close when the edge does not answer it in time. */
function closed(socket: WebSocket): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.terminate();
      resolve();
    }, CLOSE_HANDSHAKE_TIMEOUT_MS);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The edge's error bodies are the API's `{error: {message}}`. */
function messageOfErrorBody(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { error?: { message?: unknown } };
    return typeof parsed.error?.message === "string" ? parsed.error.message : undefined;
  } catch {
    return undefined;
  }
}

/** Stream bytes ⇄ binary messages. A WebSocket has no half-close, so an end either way closes it. */
function pipe(stream: Duplex, socket: WebSocket, done: () => void): void {
  stream.on("data", (chunk: Buffer) => {
    if (socket.readyState !== WebSocket.OPEN) return;
    stream.pause();
    socket.send(chunk, { binary: true }, () => stream.resume());
  });
  stream.once("end", () => socket.close(CLOSE_CODE.normal));
  stream.once("close", () => {
    if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.terminate();
  });
  socket.on("message", (data) => {
    if (stream.destroyed) return;
    if (!stream.write(toBuffer(data))) {
      socket.pause();
      stream.once("drain", () => socket.resume());
    }
  });
  socket.once("close", (code: number) => {
    done();
    if (stream.destroyed) return;
    if (code === CLOSE_CODE.normal || code === CLOSE_CODE.goingAway || code === 1005) stream.end();
    else stream.destroy(new TunnelWireError("origin_failed", `the origin service closed the WebSocket abnormally (${code})`));
  });
}
