import type { IncomingMessage, ServerResponse } from "node:http";
import { TUNNELS_BETA } from "../../core/contract/tunnels-api";
import { EMULATOR_FIXTURE } from "../state/fixture-ids";
import { CONTROL_PLANE_PREFIX } from "../decided/constants";
import { authenticate, authorizeAdmin, authorizeTunnels, type Principal } from "../identity/auth";
import * as ids from "../state/ids";
import type { EmulatorContext } from "./emulator-context";
import { ApiError, errorBody, errorHeadersForStatus, forbidden, invalidRequest, methodNotAllowed, notFound } from "./errors";
import type { Fault } from "./faults";
import { requireAnthropicVersion, requireBeta } from "./headers";
import { isLoopbackPeer } from "./loopback";
import { BodyTooLargeError, parseBody, readBody } from "./request-body";
import type { Router } from "./router";

interface Reply {
  status: number;
  body: unknown;
  headers: Record<string, string>;
  workspaceId: string | undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function errorReply(error: unknown, requestId: string, workspaceId: string | undefined): Reply {
  if (error instanceof ApiError) {
    return {
      status: error.status,
      body: errorBody(error.status, error.message, requestId),
      headers: { ...errorHeadersForStatus(error.status), ...error.headers },
      workspaceId,
    };
  }
  // Unexpected: report the kind only; the message could carry request data.
  process.stderr.write(`emulator: internal error ${(error as Error | null)?.name ?? "unknown"} (${requestId})\n${(error as Error | null)?.stack ?? ""}\n`);
  return { status: 500, body: errorBody(500, "internal error", requestId), headers: {}, workspaceId };
}

function faultReply(status: number, requestId: string): Reply {
  return { status, body: errorBody(status, "emulated fault", requestId), headers: errorHeadersForStatus(status), workspaceId: undefined };
}

export class RequestHandler {
  constructor(
    private readonly context: EmulatorContext,
    private readonly api: Router,
    private readonly controlPlane: Router,
  ) {}

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.serve(req, res).catch((error: unknown) => {
      process.stderr.write(`emulator: failed to answer a request: ${(error as Error | null)?.name ?? "unknown"}\n`);
      res.destroy();
    });
  };

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = ids.requestId();
    const method = (req.method ?? "GET").toUpperCase();
    const startedAt = this.context.clock.now().toISOString();
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://emulator.invalid");
    } catch {
      this.send(res, errorReply(invalidRequest("malformed request target"), requestId, undefined), requestId);
      return;
    }
    const path = url.pathname;
    const isControlPlane = path.startsWith(CONTROL_PLANE_PREFIX);
    const log = (status: number) => {
      if (!isControlPlane) this.context.requestLog.add({ at: startedAt, method, path, status });
    };

    let raw: Buffer;
    try {
      raw = await readBody(req);
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) {
        req.socket.destroy();
        log(0);
        return;
      }
      // Answer without reading the rest, then drop the connection: its remaining bytes are not a request.
      res.setHeader("connection", "close");
      req.resume();
      this.send(res, errorReply(error, requestId, undefined), requestId);
      log(413);
      return;
    }

    if (isControlPlane) {
      const reply = isLoopbackPeer(req.socket.remoteAddress)
        ? await this.run(this.controlPlane, req, method, url, raw, requestId)
        : errorReply(forbidden("the control plane answers loopback clients only"), requestId, undefined);
      this.send(res, reply, requestId);
      return;
    }

    const fault = this.context.faults.pick(method, path);
    if (fault && fault.latencyMs > 0) await sleep(fault.latencyMs);
    if (fault && !fault.afterCommit && fault.outcome.kind !== "latency-only") {
      this.applyFault(fault, req, res, requestId, log);
      return;
    }
    const reply = await this.run(this.api, req, method, url, raw, requestId);
    if (fault && fault.afterCommit && fault.outcome.kind !== "latency-only") {
      this.applyFault(fault, req, res, requestId, log);
      return;
    }
    this.send(res, reply, requestId);
    log(reply.status);
  }

  private applyFault(fault: Fault, req: IncomingMessage, res: ServerResponse, requestId: string, log: (status: number) => void): void {
    if (fault.outcome.kind === "reset") {
      req.socket.resetAndDestroy();
      log(0);
    } else if (fault.outcome.kind === "status") {
      this.send(res, faultReply(fault.outcome.status, requestId), requestId);
      log(fault.outcome.status);
    }
  }

  private async run(router: Router, req: IncomingMessage, method: string, url: URL, raw: Buffer, requestId: string): Promise<Reply> {
    const state = { principal: undefined as Principal | undefined };
    try {
      const match = router.match(method, url.pathname);
      if (match.kind === "not-found") throw notFound("no endpoint at this path");
      if (match.kind === "method-not-allowed") {
        throw methodNotAllowed(`method ${method} is not allowed here; allowed: ${match.allowed.join(", ")}`, match.allowed);
      }
      const { route, params } = match;
      const { store, clock } = this.context;
      if (route.access === "tunnels" || route.access === "admin") requireAnthropicVersion(req.headers);
      if (route.access === "tunnels") requireBeta(req.headers, TUNNELS_BETA);
      if (route.access === "tunnels" || route.access === "admin") {
        state.principal = authenticate(req.headers, store.state, clock);
        if (route.access === "tunnels") authorizeTunnels(state.principal, req.headers, store.state);
        else authorizeAdmin(state.principal, store.state);
      }
      const body = method === "POST" ? parseBody(raw, req.headers["content-type"], route.bodyFormat ?? "json") : undefined;
      const result = await route.handle(
        { method, path: url.pathname, params, query: url.searchParams, headers: req.headers, body, principal: state.principal },
        this.context,
      );
      return { status: 200, body: result.body, headers: result.headers ?? {}, workspaceId: state.principal?.workspaceId ?? result.workspaceId };
    } catch (error) {
      return errorReply(error, requestId, state.principal?.workspaceId);
    }
  }

  private send(res: ServerResponse, reply: Reply, requestId: string): void {
    if (res.headersSent || res.destroyed) return;
    const payload = JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      ...reply.headers,
      "content-type": "application/json",
      "content-length": Buffer.byteLength(payload),
      "request-id": requestId,
      "anthropic-organization-id": this.context.store.state.organization.id,
      "anthropic-workspace-id": reply.workspaceId ?? EMULATOR_FIXTURE.defaultWorkspaceId,
    });
    res.end(payload);
  }
}
