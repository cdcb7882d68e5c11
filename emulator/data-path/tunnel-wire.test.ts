import { once } from "node:events";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { CLOSE_CODE, decodeFrame, encodeFrame, MAX_DATA_PAYLOAD_BYTES, TunnelMux, TunnelWireError, type Frame, type IncomingStream } from "./tunnel-wire";
import { readAll, wireFailureOf } from "../../test/support/tunnel-streams";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A real WebSocket on port 0: the client side opens streams, the server side accepts them with `onStream`. */
async function connectedPair(onStream: (incoming: IncomingStream) => void) {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await once(server, "listening");
  const accepted = new Promise<{ mux: TunnelMux; socket: WebSocket }>((resolve) =>
    server.once("connection", (socket) => resolve({ mux: new TunnelMux(socket, { onStream }), socket })),
  );
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  await once(client, "open");
  const acceptor = await accepted;
  cleanups.push(async () => {
    client.terminate();
    for (const socket of server.clients) socket.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { opener: new TunnelMux(client), client, acceptor };
}

/** Accepts every stream and writes back what it reads, then ends. */
function echo(incoming: IncomingStream): void {
  const stream = incoming.accept();
  stream.on("error", () => {});
  stream.pipe(stream);
}

describe("frames", () => {
  it.each<[string, Frame]>([
    ["an open with the caller's host", { type: "open", streamId: 1, metadata: { host: "mcp.abcdefgh.tunnel.anthropic.com" } }],
    ["an open answer without metadata", { type: "open", streamId: 7, metadata: undefined }],
    ["data", { type: "data", streamId: 0xffff_ffff, payload: Buffer.from([0, 1, 2, 255]) }],
    ["an end", { type: "end", streamId: 2 }],
    ["an error with a code and a message", { type: "error", streamId: 3, code: "origin_unreachable", message: "Unable to reach the origin service" }],
  ])("decode what encode wrote: %s", (_, frame) => {
    expect(decodeFrame(encodeFrame(frame))).toEqual(frame);
  });

  it("puts the type in byte 0 and the stream id big-endian in bytes 1-4", () => {
    expect([...encodeFrame({ type: "end", streamId: 0x01020304 })]).toEqual([3, 1, 2, 3, 4]);
  });

  it.each([
    ["shorter than a header", Buffer.from([2, 0, 0])],
    ["of an unknown type", Buffer.from([9, 0, 0, 0, 1])],
    ["on the reserved stream id 0", Buffer.from([2, 0, 0, 0, 0])],
    ["an end with a payload", Buffer.from([3, 0, 0, 0, 1, 42])],
    ["an error without its code", Buffer.from([4, 0, 0, 0, 1, 0])],
    ["an error with an unknown code", Buffer.from([4, 0, 0, 0, 1, 0, 99])],
    ["an open whose metadata is not a JSON object", Buffer.concat([Buffer.from([1, 0, 0, 0, 1]), Buffer.from("[1]")])],
  ])("refuses a frame %s as malformed", (_, bytes) => {
    expect(() => decodeFrame(bytes)).toThrow(expect.objectContaining({ code: "malformed_frame" }));
  });

  it("cuts a long error message on a character boundary", () => {
    const frame = decodeFrame(encodeFrame({ type: "error", streamId: 1, code: "cancelled", message: "é".repeat(2000) }));
    expect(frame).toMatchObject({ type: "error", code: "cancelled" });
    const message = (frame as { message: string }).message;
    expect(message.length).toBeGreaterThan(0);
    expect(message).toBe("é".repeat(message.length));
  });
});

describe("streams over one WebSocket", () => {
  it("carry bytes both ways, and an end from the opener still lets the answer through", async () => {
    const { opener } = await connectedPair(echo);
    const stream = await opener.open({ host: "mcp.example.test" });
    const answer = readAll(stream);
    stream.end("hello through the tunnel");
    expect((await answer).toString()).toBe("hello through the tunnel");
  });

  it("hand the opener's host to the acceptor", async () => {
    const seen: string[] = [];
    const { opener } = await connectedPair((incoming) => {
      seen.push(incoming.metadata.host ?? "");
      echo(incoming);
    });
    const stream = await opener.open({ host: "docs.abcdefgh.tunnel.anthropic.com" });
    stream.end();
    await readAll(stream);
    expect(seen).toEqual(["docs.abcdefgh.tunnel.anthropic.com"]);
  });

  it("keep many concurrent streams apart, including writes larger than one frame", async () => {
    const { opener, acceptor } = await connectedPair(echo);
    const payloads = Array.from({ length: 40 }, (_, index) => Buffer.alloc(index % 4 === 0 ? MAX_DATA_PAYLOAD_BYTES * 3 + index : 100 + index, index));
    const streams = await Promise.all(payloads.map(() => opener.open()));
    expect(opener.openStreams).toBe(payloads.length);
    expect(acceptor.mux.openStreams).toBe(payloads.length);
    const answers = streams.map(readAll);
    streams.forEach((stream, index) => stream.end(payloads[index]));
    const received = await Promise.all(answers);
    received.forEach((answer, index) => expect(answer.equals(payloads[index]!)).toBe(true));
  });

  it("forget a stream once both sides have ended it", async () => {
    const { opener, acceptor } = await connectedPair(echo);
    const stream = await opener.open();
    const answer = readAll(stream);
    stream.end("x");
    await answer;
    expect(opener.openStreams).toBe(0);
    expect(acceptor.mux.openStreams).toBe(0);
  });

  it("reject open() with the acceptor's error code and message when it refuses the stream", async () => {
    const { opener } = await connectedPair((incoming) => incoming.reject("no_ingress", "No ingress rules were defined"));
    const error = await wireFailureOf(opener.open());
    expect(error).toBeInstanceOf(TunnelWireError);
    expect(error).toMatchObject({ code: "no_ingress", message: "No ingress rules were defined" });
    expect(opener.openStreams).toBe(0);
  });

  it("abort the peer's side when one side destroys its stream", async () => {
    let accepted: Duplex | undefined;
    const peerFailure = new Promise<Error>((resolve) => {
      void connectedPair((incoming) => {
        accepted = incoming.accept();
        accepted.once("error", resolve);
      }).then(async ({ opener }) => {
        const stream = await opener.open();
        stream.on("error", () => {});
        stream.destroy(new TunnelWireError("origin_failed", "the origin went away"));
      });
    });
    expect(await peerFailure).toMatchObject({ code: "origin_failed", message: "the origin went away" });
    expect(accepted?.destroyed).toBe(true);
  });

  it("tell the acceptor when the opener gives up before an answer", async () => {
    let resolveFailure: (error: TunnelWireError) => void = () => {};
    const acceptorFailure = new Promise<TunnelWireError>((resolve) => (resolveFailure = resolve));
    let resolveArrived: () => void = () => {};
    const arrived = new Promise<void>((resolve) => (resolveArrived = resolve));
    const { opener } = await connectedPair((incoming) => {
      incoming.stream.once("error", resolveFailure);
      resolveArrived();
    });
    const controller = new AbortController();
    const opening = wireFailureOf(opener.open({}, controller.signal));
    await arrived;
    controller.abort(new Error("gave up"));
    expect((await opening).message).toBe("gave up");
    expect((await acceptorFailure).code).toBe("cancelled");
    expect(opener.openStreams).toBe(0);
  });

  it("fail every stream with connection_closed when the WebSocket closes", async () => {
    const { opener, acceptor } = await connectedPair(echo);
    const streams = await Promise.all([opener.open(), opener.open(), opener.open()]);
    const failures = streams.map((stream) => new Promise<TunnelWireError>((resolve) => stream.once("error", resolve)));
    acceptor.socket.close(CLOSE_CODE.tunnelArchived, "tunnel archived");
    for (const failure of await Promise.all(failures)) expect(failure.code).toBe("connection_closed");
    expect(await wireFailureOf(opener.open())).toMatchObject({ code: "connection_closed" });
  });

  it("close the connection with a protocol error on a message that is not a frame", async () => {
    const { client, acceptor } = await connectedPair(echo);
    const closed = once(client, "close");
    acceptor.socket.send(Buffer.from([42]));
    const [code] = await closed;
    expect(code).toBe(CLOSE_CODE.protocolError);
  });
});
