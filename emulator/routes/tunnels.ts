import { createHash } from "node:crypto";
import { z } from "zod";
import {
  CONFLICT_MESSAGE_PREFIX,
  DISPLAY_NAME_MAX_CHARS,
  ID_PREFIX,
  MAX_ACTIVE_TUNNELS_PER_ORGANIZATION,
  MAX_ROTATE_REASON_CHARS,
  TUNNEL_LIST_LIMIT,
} from "../../core/contract/tunnels-api";
import { conflict, notFound } from "../http/errors";
import { paginate, parseListQuery } from "../http/pagination";
import { principalOf, type Route, type RouteRequest } from "../http/router";
import { parseWith, requireNoFields } from "../http/validation";
import type { Principal } from "../identity/auth";
import { recordAudit } from "../state/audit";
import type { OffsetClock } from "../state/clock";
import * as ids from "../state/ids";
import type { State, TunnelRecord } from "../state/store";

export function presentTunnel(tunnel: TunnelRecord) {
  return {
    type: "tunnel" as const,
    id: tunnel.id,
    display_name: tunnel.display_name,
    domain: tunnel.domain,
    created_at: tunnel.created_at,
    archived_at: tunnel.archived_at,
  };
}

const presentToken = (tunnel: TunnelRecord) => ({ type: "tunnel_token" as const, id: tunnel.token.id, tunnel_token: tunnel.token.value });

export const hashTunnelToken = (value: string) => createHash("sha256").update(value, "utf8").digest("hex");

/** A tunnel of the caller's workspace; other workspaces' tunnels do not exist for it. */
export function findTunnel(state: State, principal: Principal, tunnelId: string): TunnelRecord {
  const tunnel = state.tunnels.find((candidate) => candidate.id === tunnelId && candidate.workspace_id === principal.workspaceId);
  if (!tunnel) throw notFound("tunnel not found");
  return tunnel;
}

export function refuseArchivedTunnel(tunnel: TunnelRecord): void {
  if (tunnel.archived_at !== null) throw conflict(`${CONFLICT_MESSAGE_PREFIX.tunnelArchived}: an archived tunnel cannot be changed and has no token`);
}

const createBody = z.strictObject({ display_name: z.string().min(1).max(DISPLAY_NAME_MAX_CHARS).nullable().optional() });
const rotateBody = z.strictObject({ reason: z.string().max(MAX_ROTATE_REASON_CHARS).nullable().optional() });

function uniqueDomain(state: State): string {
  for (;;) {
    const domain = ids.tunnelDomain();
    if (!state.usedDomains.includes(domain)) return domain;
  }
}

export function tunnelRoutes(): Route[] {
  return [
    {
      method: "POST",
      pattern: "/v1/tunnels",
      access: "tunnels",
      handle(request, { store, clock }) {
        const body = parseWith(createBody, request.body ?? {});
        const principal = principalOf(request);
        const tunnel = store.mutate((state) => {
          const active = state.tunnels.filter((candidate) => candidate.archived_at === null).length;
          if (active >= MAX_ACTIVE_TUNNELS_PER_ORGANIZATION) {
            throw conflict(
              `${CONFLICT_MESSAGE_PREFIX.tunnelLimit}: an organization may have at most ${MAX_ACTIVE_TUNNELS_PER_ORGANIZATION} non-archived tunnels across all workspaces; archive one first`,
            );
          }
          const at = clock.now().toISOString();
          const record: TunnelRecord = {
            id: ids.objectId(ID_PREFIX.tunnel),
            workspace_id: principal.workspaceId,
            display_name: body.display_name ?? null,
            domain: uniqueDomain(state),
            created_at: at,
            archived_at: null,
            token: { id: ids.tunnelTokenId(), value: ids.tunnelTokenValue(), created_at: at },
            retired_token_hashes: [],
            seq: store.nextSeq(),
          };
          state.tunnels.push(record);
          state.usedDomains.push(record.domain);
          recordAudit(state, clock, {
            action: "tunnel.create",
            actor: principal.serviceAccountId,
            tunnel_id: record.id,
            detail: { workspace_id: record.workspace_id, domain: record.domain, display_name: record.display_name },
          });
          return record;
        });
        return { body: presentTunnel(tunnel) };
      },
    },
    {
      method: "GET",
      pattern: "/v1/tunnels",
      access: "tunnels",
      handle(request, { store }) {
        const principal = principalOf(request);
        const query = parseListQuery(request.query, "tunnels", TUNNEL_LIST_LIMIT, { archivable: true });
        const visible = store.state.tunnels.filter(
          (tunnel) => tunnel.workspace_id === principal.workspaceId && (query.includeArchived || tunnel.archived_at === null),
        );
        return { body: paginate("tunnels", visible, query, presentTunnel) };
      },
    },
    {
      method: "GET",
      pattern: "/v1/tunnels/:tunnel_id",
      access: "tunnels",
      handle(request, { store }) {
        return { body: presentTunnel(findTunnel(store.state, principalOf(request), request.params["tunnel_id"]!)) };
      },
    },
    {
      method: "POST",
      pattern: "/v1/tunnels/:tunnel_id/archive",
      access: "tunnels",
      handle(request, { store, clock }) {
        requireNoFields(request.body);
        const principal = principalOf(request);
        const tunnel = store.mutate((state) => {
          const record = findTunnel(state, principal, request.params["tunnel_id"]!);
          if (record.archived_at !== null) return record;
          const at = clock.now().toISOString();
          record.archived_at = at;
          const archived = state.certificates.filter((certificate) => certificate.tunnel_id === record.id && certificate.archived_at === null);
          for (const certificate of archived) {
            certificate.archived_at = at;
            recordAudit(state, clock, {
              action: "certificate.archive",
              actor: principal.serviceAccountId,
              tunnel_id: record.id,
              detail: { certificate_id: certificate.id, fingerprint: certificate.fingerprint, cause: "tunnel_archived" },
            });
          }
          recordAudit(state, clock, {
            action: "tunnel.archive",
            actor: principal.serviceAccountId,
            tunnel_id: record.id,
            detail: { certificates_archived: archived.map((certificate) => certificate.id), token_invalidated: record.token.id },
          });
          return record;
        });
        return { body: presentTunnel(tunnel) };
      },
    },
    tokenRoute("reveal_token", requireNoFields, ({ state, clock, principal, record }) => {
      recordAudit(state, clock, { action: "token.reveal", actor: principal.serviceAccountId, tunnel_id: record.id, detail: { token_id: record.token.id } });
    }),
    tokenRoute(
      "rotate_token",
      (body) => parseWith(rotateBody, body ?? {}),
      ({ state, clock, principal, record, body }) => {
        const previous = record.token;
        record.retired_token_hashes.push(hashTunnelToken(previous.value));
        record.token = { id: ids.tunnelTokenId(), value: ids.tunnelTokenValue(), created_at: clock.now().toISOString() };
        recordAudit(state, clock, {
          action: "token.rotate",
          actor: principal.serviceAccountId,
          tunnel_id: record.id,
          detail: { token_id: record.token.id, previous_token_id: previous.id, reason: body.reason ?? null },
        });
      },
    ),
  ];
}

interface TokenChange<Body> {
  state: State;
  clock: OffsetClock;
  principal: Principal;
  record: TunnelRecord;
  body: Body;
}

/**
 * A POST on the token of one of the caller's tunnels: the body is read first, an archived tunnel
 * is refused (it has no token), and `change` runs, audit included, in the same mutation; the
 * answer is the token as `change` left it.
 */
function tokenRoute<Body>(action: "reveal_token" | "rotate_token", readBody: (body: RouteRequest["body"]) => Body, change: (context: TokenChange<Body>) => void): Route {
  return {
    method: "POST",
    pattern: `/v1/tunnels/:tunnel_id/${action}`,
    access: "tunnels",
    handle(request, { store, clock }) {
      const body = readBody(request.body);
      const principal = principalOf(request);
      const tunnel = store.mutate((state) => {
        const record = findTunnel(state, principal, request.params["tunnel_id"]!);
        refuseArchivedTunnel(record);
        change({ state, clock, principal, record, body });
        return record;
      });
      return { body: presentToken(tunnel) };
    },
  };
}

export type ConnectCheck =
  | { ok: true; tunnel_id: string; token_id: string }
  | { ok: false; reason: "unknown_token" | "rotated" | "tunnel_archived" };

/** Whether a connector presenting `value` would be let in (emulator-only: the real check happens at the edge). */
export function checkTunnelToken(state: State, value: string): ConnectCheck {
  const live = state.tunnels.find((tunnel) => tunnel.token.value === value);
  if (live) return live.archived_at === null ? { ok: true, tunnel_id: live.id, token_id: live.token.id } : { ok: false, reason: "tunnel_archived" };
  const hash = hashTunnelToken(value);
  if (state.tunnels.some((tunnel) => tunnel.retired_token_hashes.includes(hash))) return { ok: false, reason: "rotated" };
  return { ok: false, reason: "unknown_token" };
}
