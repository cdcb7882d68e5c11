import type { IncomingHttpHeaders } from "node:http";
import type { Principal } from "../identity/auth";
import type { EmulatorContext } from "./emulator-context";
import type { BodyFormat } from "./request-body";

export type HttpMethod = "GET" | "POST" | "DELETE";

/**
 * How a route is guarded: `tunnels` needs the tunnels beta and a manage_tunnels bearer, `admin` an
 * org:admin bearer, `exchange` is the unauthenticated token endpoint, `control` the emulator's
 * own loopback-only control plane.
 */
export type RouteAccess = "tunnels" | "admin" | "exchange" | "control";

export interface RouteRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown> | undefined;
  principal: Principal | undefined;
}

/** The caller of a `tunnels` or `admin` route, which the pipeline authenticated before the handler ran. */
export function principalOf(request: RouteRequest): Principal {
  if (!request.principal) throw new Error(`route ${request.path} ran without a principal`);
  return request.principal;
}

export interface RouteResult {
  body: unknown;
  headers?: Record<string, string>;
  /** The workspace to report in `anthropic-workspace-id` when there is no principal (the token exchange). */
  workspaceId?: string;
}

export interface Route {
  method: HttpMethod;
  pattern: string;
  access: RouteAccess;
  bodyFormat?: BodyFormat;
  handle(request: RouteRequest, context: EmulatorContext): RouteResult | Promise<RouteResult>;
}

export type RouteMatch =
  | { kind: "found"; route: Route; params: Record<string, string> }
  | { kind: "method-not-allowed"; allowed: HttpMethod[] }
  | { kind: "not-found" };

interface CompiledRoute {
  route: Route;
  segments: string[];
}

export class Router {
  private readonly compiled: CompiledRoute[];

  constructor(routes: Route[]) {
    this.compiled = routes.map((route) => ({ route, segments: route.pattern.split("/").slice(1) }));
  }

  match(method: string, path: string): RouteMatch {
    const segments = path.split("/").slice(1);
    const allowed: HttpMethod[] = [];
    for (const { route, segments: pattern } of this.compiled) {
      const params = matchSegments(pattern, segments);
      if (!params) continue;
      if (route.method === method) return { kind: "found", route, params };
      if (!allowed.includes(route.method)) allowed.push(route.method);
    }
    return allowed.length > 0 ? { kind: "method-not-allowed", allowed } : { kind: "not-found" };
  }
}

function matchSegments(pattern: string[], segments: string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const expected = pattern[i]!;
    const actual = segments[i]!;
    if (expected.startsWith(":")) {
      if (actual === "") return undefined;
      let decoded: string;
      try {
        decoded = decodeURIComponent(actual);
      } catch {
        return undefined;
      }
      params[expected.slice(1)] = decoded;
    } else if (expected !== actual) {
      return undefined;
    }
  }
  return params;
}
