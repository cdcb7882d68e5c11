import type { IncomingMessage } from "node:http";
import { MAX_REQUEST_BODY_BYTES } from "../../core/contract/tunnels-api";
import { ApiError, invalidRequest } from "./errors";

export class BodyTooLargeError extends ApiError {
  constructor() {
    super(413, `request body exceeds ${MAX_REQUEST_BODY_BYTES} bytes`);
  }
}

/** Reads at most MAX_REQUEST_BODY_BYTES; a larger body is refused without buffering it. */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > MAX_REQUEST_BODY_BYTES) return Promise.reject(new BodyTooLargeError());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > MAX_REQUEST_BODY_BYTES) {
        failed = true;
        chunks.length = 0;
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on("error", (error) => {
      if (!failed) {
        failed = true;
        reject(error);
      }
    });
    // A client that disconnects mid-body emits neither "end" nor always "error".
    req.on("close", () => {
      if (!failed && !req.complete) {
        failed = true;
        reject(new Error("the client went away before the body ended"));
      }
    });
  });
}

export type BodyFormat = "json" | "json-or-form";

/**
 * An empty body is `undefined` whatever the content type (the official SDK sends body-less POSTs
 * without one). Anything else must be a JSON object sent as application/json; the token endpoint
 * also takes application/x-www-form-urlencoded, as OAuth token endpoints do.
 */
export function parseBody(raw: Buffer, contentType: string | undefined, format: BodyFormat): Record<string, unknown> | undefined {
  if (raw.length === 0) return undefined;
  const mediaType = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (mediaType === "application/x-www-form-urlencoded" && format === "json-or-form") {
    const form = new URLSearchParams(raw.toString("utf8"));
    const out: Record<string, unknown> = {};
    for (const [key, value] of form) {
      if (key in out) throw invalidRequest(`body: field ${JSON.stringify(key)} given more than once`);
      out[key] = value;
    }
    return out;
  }
  if (mediaType !== "application/json") {
    throw invalidRequest(
      format === "json-or-form"
        ? "content-type must be application/json or application/x-www-form-urlencoded"
        : "content-type must be application/json",
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(raw.toString("utf8"));
  } catch {
    throw invalidRequest("body: not valid JSON");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw invalidRequest("body: must be a JSON object");
  return value as Record<string, unknown>;
}
