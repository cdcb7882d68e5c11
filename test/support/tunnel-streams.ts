import type { Duplex } from "node:stream";
import type { TunnelWireError } from "../../emulator/data-path/tunnel-wire";

/** Everything a stream carries until it ends; rejects with the stream's error. */
export function readAll(stream: Duplex): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.once("end", () => resolve(Buffer.concat(chunks)));
    stream.once("error", reject);
  });
}

/** The tunnel-wire error `promise` rejects with; if it resolves instead, the test fails saying `expected`. */
export const wireFailureOf = (promise: Promise<unknown>, expected = "expected a failure") =>
  promise.then(
    () => {
      throw new Error(expected);
    },
    (error: unknown) => error as TunnelWireError,
  );
