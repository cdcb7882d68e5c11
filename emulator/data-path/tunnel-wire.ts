import { Duplex } from "node:stream";
import type { RawData, WebSocket } from "ws";

/**
 * The edge ⇄ connector wire: many streams multiplexed over one WebSocket, as cloudflared carries
 * many requests over each registered connection. Every binary message is one frame:
 *
 *   byte 0     frame type (1 open, 2 data, 3 end, 4 error)
 *   bytes 1–4  stream id, uint32 big-endian, chosen by the side that opens the stream
 *   bytes 5–   payload: open → UTF-8 JSON metadata ({"host": …}), or empty when it is the
 *              acceptor's answer; data → stream bytes; end → empty; error → uint16 code
 *              (big-endian) followed by a UTF-8 message
 *
 * Only the edge opens streams. The connector answers an open with an empty open (accepted) or an
 * error (refused). `end` half-closes one direction; `error` aborts the stream both ways.
 */

/**
 * Registration: the connector opens the WebSocket with `authorization: Bearer <tunnel token>` and
 * these headers; the edge answers 101 with the connection's id, or 401 when the token is not the
 * tunnel's current one (or the tunnel is archived).
 */
export const REGISTRATION_HEADER = {
  /** One id per connector process; its HA connections share it. */
  connectorId: "x-connector-id",
  /** 0 … HA_CONNECTIONS - 1. */
  connIndex: "x-connection-index",
  /** Set by the edge on the 101 answer. */
  connectionId: "x-connection-id",
  /** Set by the edge on the 101 answer, as cloudflared logs `location=`. */
  location: "x-edge-location",
} as const;

/** cloudflared keeps four connections to the edge (its default `--ha-connections`). */
export const HA_CONNECTIONS = 4;

export const FRAME_TYPE = { open: 1, data: 2, end: 3, error: 4 } as const;
export type FrameType = keyof typeof FRAME_TYPE;

const HEADER_BYTES = 5;
/** Larger writes are split, so one stream's big write cannot hold the connection for long. */
export const MAX_DATA_PAYLOAD_BYTES = 64 * 1024;
const MAX_ERROR_MESSAGE_BYTES = 1024;
const MAX_STREAM_ID = 0xffff_ffff;

/** Codes an error frame carries. The edge decides what HTTP status each one shows its caller. */
export const STREAM_ERROR_CODE = {
  /** The connector has no ingress rule for the request (cloudflared without `--url`). */
  no_ingress: 1,
  /** The connector could not dial the origin. */
  origin_unreachable: 2,
  /** The origin answered the WebSocket upgrade with something other than 101. */
  origin_rejected: 3,
  /** The origin's WebSocket closed abnormally mid-stream. */
  origin_failed: 4,
  /** The sending side gave up on the stream (timeout, its own peer went away). */
  cancelled: 5,
  /** A frame the receiver could not accept on this stream. */
  protocol_error: 6,
} as const;

export type StreamErrorCode = keyof typeof STREAM_ERROR_CODE;
/** Wire codes plus what only happens locally: the WebSocket under the streams closed. */
export type TunnelWireErrorCode = StreamErrorCode | "connection_closed" | "malformed_frame";

const CODE_BY_NUMBER = new Map<number, StreamErrorCode>(Object.entries(STREAM_ERROR_CODE).map(([name, value]) => [value, name as StreamErrorCode]));

/** WebSocket close codes the edge uses, so a connector can tell why it was let go. */
export const CLOSE_CODE = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  tunnelArchived: 4003,
  superseded: 4009,
  dropped: 4010,
} as const;

export class TunnelWireError extends Error {
  override readonly name = "TunnelWireError";
  constructor(
    readonly code: TunnelWireErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface OpenMetadata {
  /** The hostname the caller asked for (`<route>.<domain>`); cloudflared forwards it as Host. */
  host?: string;
}

export type Frame =
  | { type: "open"; streamId: number; metadata: OpenMetadata | undefined }
  | { type: "data"; streamId: number; payload: Buffer }
  | { type: "end"; streamId: number }
  | { type: "error"; streamId: number; code: StreamErrorCode; message: string };

function header(type: FrameType, streamId: number, payloadBytes: number): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_BYTES + payloadBytes);
  frame.writeUInt8(FRAME_TYPE[type], 0);
  frame.writeUInt32BE(streamId, 1);
  return frame;
}

export function encodeFrame(frame: Frame): Buffer {
  switch (frame.type) {
    case "open": {
      const payload = frame.metadata === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(frame.metadata), "utf8");
      const out = header("open", frame.streamId, payload.length);
      payload.copy(out, HEADER_BYTES);
      return out;
    }
    case "data": {
      const out = header("data", frame.streamId, frame.payload.length);
      frame.payload.copy(out, HEADER_BYTES);
      return out;
    }
    case "end":
      return header("end", frame.streamId, 0);
    case "error": {
      const message = truncateUtf8(frame.message, MAX_ERROR_MESSAGE_BYTES);
      const out = header("error", frame.streamId, 2 + message.length);
      out.writeUInt16BE(STREAM_ERROR_CODE[frame.code], HEADER_BYTES);
      message.copy(out, HEADER_BYTES + 2);
      return out;
    }
  }
}

function truncateUtf8(text: string, maxBytes: number): Buffer {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= maxBytes) return bytes;
  // Cut on a character boundary: drop continuation bytes left dangling by the cut.
  let end = maxBytes;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

/** Throws TunnelWireError `malformed_frame` for anything that is not a frame of this protocol. */
export function decodeFrame(message: Buffer): Frame {
  if (message.length < HEADER_BYTES) throw new TunnelWireError("malformed_frame", `a frame needs at least ${HEADER_BYTES} bytes, got ${message.length}`);
  const type = message.readUInt8(0);
  const streamId = message.readUInt32BE(1);
  const payload = message.subarray(HEADER_BYTES);
  if (streamId === 0) throw new TunnelWireError("malformed_frame", "stream id 0 is reserved");
  switch (type) {
    case FRAME_TYPE.open:
      return { type: "open", streamId, metadata: payload.length === 0 ? undefined : parseMetadata(payload) };
    case FRAME_TYPE.data:
      return { type: "data", streamId, payload };
    case FRAME_TYPE.end:
      if (payload.length !== 0) throw new TunnelWireError("malformed_frame", "an end frame carries no payload");
      return { type: "end", streamId };
    case FRAME_TYPE.error: {
      if (payload.length < 2) throw new TunnelWireError("malformed_frame", "an error frame needs a 2-byte code");
      const code = CODE_BY_NUMBER.get(payload.readUInt16BE(0));
      if (!code) throw new TunnelWireError("malformed_frame", `unknown stream error code ${payload.readUInt16BE(0)}`);
      return { type: "error", streamId, code, message: payload.subarray(2).toString("utf8") };
    }
    default:
      throw new TunnelWireError("malformed_frame", `unknown frame type ${type}`);
  }
}

function parseMetadata(payload: Buffer): OpenMetadata {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString("utf8"));
  } catch {
    throw new TunnelWireError("malformed_frame", "open metadata is not JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new TunnelWireError("malformed_frame", "open metadata is not a JSON object");
  const host = (parsed as Record<string, unknown>)["host"];
  if (host !== undefined && typeof host !== "string") throw new TunnelWireError("malformed_frame", "open metadata host is not a string");
  return host === undefined ? {} : { host };
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** A stream the other side opened, waiting to be accepted or refused. */
export interface IncomingStream {
  readonly id: number;
  readonly metadata: OpenMetadata;
  /**
   * The stream's bytes. Destroyed with `cancelled` if the opener gives up before an answer;
   * write to it only after `accept()`.
   */
  readonly stream: Duplex;
  /** Tells the opener the stream is up; returns `stream`. */
  accept(): Duplex;
  /** Answers with an error frame; the opener's `open()` rejects with this code and message. */
  reject(code: StreamErrorCode, message: string): void;
}

export interface TunnelMuxOptions {
  /** Set on the accepting side (the connector); an opener that receives an open refuses it. */
  onStream?: (incoming: IncomingStream) => void;
}

/** One stream's bytes as a Duplex; written bytes become data frames, `end()` an end frame. */
class MuxStream extends Duplex {
  private sentEnd = false;
  private receivedEnd = false;
  /** Nothing more may go out for this stream: both ends sent, or an error went either way. */
  wireDone = false;

  constructor(
    private readonly mux: TunnelMux,
    readonly id: number,
  ) {
    super({ allowHalfOpen: true });
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.wireDone) {
      callback(new TunnelWireError("cancelled", "the stream was aborted"));
      return;
    }
    this.mux.sendData(this.id, chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.wireDone) this.mux.send({ type: "end", streamId: this.id });
    this.sentEnd = true;
    this.settleIfDone();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.wireDone) {
      this.wireDone = true;
      const code = error instanceof TunnelWireError && error.code in STREAM_ERROR_CODE ? (error.code as StreamErrorCode) : "cancelled";
      this.mux.send({ type: "error", streamId: this.id, code, message: error ? error.message : "the stream was closed before it finished" });
    }
    this.mux.forget(this.id);
    callback(error);
  }

  receiveData(payload: Buffer): void {
    if (this.receivedEnd) {
      this.destroy(new TunnelWireError("protocol_error", "data frame after end"));
      return;
    }
    this.push(payload);
  }

  receiveEnd(): void {
    if (this.receivedEnd) return;
    this.receivedEnd = true;
    this.push(null);
    this.settleIfDone();
  }

  /** The peer aborted the stream (error frame) or the connection under it went away. */
  abort(error: TunnelWireError | undefined): void {
    this.wireDone = true;
    this.destroy(error);
  }

  private settleIfDone(): void {
    if (this.sentEnd && this.receivedEnd) {
      this.wireDone = true;
      this.mux.forget(this.id);
    }
  }
}

interface PendingOpen {
  stream: MuxStream;
  resolve(stream: Duplex): void;
  reject(error: Error): void;
}

/**
 * Streams over one WebSocket. The opener calls `open()`; the acceptor gets `onStream`. When the
 * WebSocket closes, every stream on it fails with `connection_closed`.
 */
export class TunnelMux {
  private readonly streams = new Map<number, MuxStream>();
  private readonly pending = new Map<number, PendingOpen>();
  private nextId = 1;
  private closedWith: TunnelWireError | undefined;

  constructor(
    private readonly socket: WebSocket,
    private readonly options: TunnelMuxOptions = {},
  ) {
    socket.binaryType = "nodebuffer";
    socket.on("message", (data, isBinary) => this.receive(toBuffer(data), isBinary));
    socket.once("close", (code, reason) => this.shutdown(new TunnelWireError("connection_closed", `the tunnel connection closed (${code}${reason.length ? ` ${reason.toString("utf8")}` : ""})`)));
  }

  /** False as soon as either side has started closing the WebSocket: no new stream should go over it. */
  get isOpen(): boolean {
    return this.closedWith === undefined && this.socket.readyState === this.socket.OPEN;
  }

  /** Streams open right now, in either direction. */
  get openStreams(): number {
    return this.streams.size;
  }

  /**
   * Opens a stream and waits for the acceptor's answer: resolves with the stream once accepted,
   * rejects with the acceptor's error frame (code and message) or `connection_closed`.
   */
  open(metadata: OpenMetadata = {}, signal?: AbortSignal): Promise<Duplex> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (signal?.aborted) return Promise.reject(signal.reason);
    const id = this.allocateId();
    const stream = new MuxStream(this, id);
    this.streams.set(id, stream);
    return new Promise<Duplex>((resolve, reject) => {
      const onAbort = () => {
        this.pending.delete(id);
        // No one holds the stream yet, so it is destroyed without an error event; the acceptor gets `cancelled`.
        stream.destroy();
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.pending.set(id, {
        stream,
        resolve: (value) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(value);
        },
        reject: (error) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      });
      this.send({ type: "open", streamId: id, metadata });
    });
  }

  /** Closes the WebSocket; streams on it fail with `connection_closed`. */
  close(code: number = CLOSE_CODE.normal, reason = ""): void {
    this.shutdown(new TunnelWireError("connection_closed", `the tunnel connection closed (${code}${reason ? ` ${reason}` : ""})`));
    if (this.socket.readyState === this.socket.OPEN || this.socket.readyState === this.socket.CONNECTING) this.socket.close(code, reason);
  }

  /** @internal */
  send(frame: Frame, callback?: (error?: Error | null) => void): void {
    if (this.socket.readyState !== this.socket.OPEN) {
      callback?.(this.closedWith ?? new TunnelWireError("connection_closed", "the tunnel connection is not open"));
      return;
    }
    this.socket.send(encodeFrame(frame), { binary: true }, callback);
  }

  /** @internal */
  sendData(streamId: number, chunk: Buffer, callback: (error?: Error | null) => void): void {
    if (chunk.length <= MAX_DATA_PAYLOAD_BYTES) {
      this.send({ type: "data", streamId, payload: chunk }, callback);
      return;
    }
    for (let offset = 0; offset < chunk.length; offset += MAX_DATA_PAYLOAD_BYTES) {
      const last = offset + MAX_DATA_PAYLOAD_BYTES >= chunk.length;
      this.send({ type: "data", streamId, payload: chunk.subarray(offset, offset + MAX_DATA_PAYLOAD_BYTES) }, last ? callback : undefined);
    }
  }

  /** @internal */
  forget(streamId: number): void {
    this.streams.delete(streamId);
    const pending = this.pending.get(streamId);
    if (pending) {
      this.pending.delete(streamId);
      pending.reject(new TunnelWireError("cancelled", "the stream closed before it was accepted"));
    }
  }

  private allocateId(): number {
    for (;;) {
      const id = this.nextId;
      this.nextId = this.nextId === MAX_STREAM_ID ? 1 : this.nextId + 1;
      if (!this.streams.has(id)) return id;
    }
  }

  private receive(message: Buffer, isBinary: boolean): void {
    let frame: Frame;
    try {
      if (!isBinary) throw new TunnelWireError("malformed_frame", "frames are binary messages");
      frame = decodeFrame(message);
    } catch (error) {
      this.close(CLOSE_CODE.protocolError, (error as Error).message.slice(0, 120));
      return;
    }
    switch (frame.type) {
      case "open":
        this.receiveOpen(frame.streamId, frame.metadata);
        return;
      case "data":
        this.streams.get(frame.streamId)?.receiveData(frame.payload);
        return;
      case "end":
        this.streams.get(frame.streamId)?.receiveEnd();
        return;
      case "error": {
        const pending = this.pending.get(frame.streamId);
        if (pending) {
          this.pending.delete(frame.streamId);
          pending.stream.abort(undefined);
          pending.reject(new TunnelWireError(frame.code, frame.message));
          return;
        }
        this.streams.get(frame.streamId)?.abort(new TunnelWireError(frame.code, frame.message));
        return;
      }
    }
  }

  private receiveOpen(streamId: number, metadata: OpenMetadata | undefined): void {
    const pending = this.pending.get(streamId);
    if (pending) {
      // The acceptor's answer to our open.
      this.pending.delete(streamId);
      pending.resolve(pending.stream);
      return;
    }
    if (!this.options.onStream || this.streams.has(streamId)) {
      this.send({ type: "error", streamId, code: "protocol_error", message: this.options.onStream ? "stream id already in use" : "this side does not accept streams" });
      return;
    }
    const stream = new MuxStream(this, streamId);
    this.streams.set(streamId, stream);
    let answered = false;
    const incoming: IncomingStream = {
      id: streamId,
      metadata: metadata ?? {},
      stream,
      accept: () => {
        if (!answered && !stream.destroyed) this.send({ type: "open", streamId, metadata: undefined });
        answered = true;
        return stream;
      },
      reject: (code, message) => {
        if (answered) return;
        answered = true;
        this.send({ type: "error", streamId, code, message });
        stream.abort(undefined);
      },
    };
    try {
      this.options.onStream(incoming);
    } catch (error) {
      // An acceptor that throws must not take the connection's other streams down with it.
      incoming.reject("cancelled", `the acceptor failed: ${(error as Error).message}`);
    }
  }

  private shutdown(reason: TunnelWireError): void {
    if (this.closedWith) return;
    this.closedWith = reason;
    const unanswered = new Set<MuxStream>();
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      unanswered.add(pending.stream);
      pending.reject(reason);
    }
    // A stream still waiting for its answer has no holder to hear an error event.
    for (const stream of [...this.streams.values()]) stream.abort(unanswered.has(stream) ? undefined : reason);
    this.streams.clear();
  }
}
