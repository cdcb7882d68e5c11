import { AUDIT_LOG_CAPACITY } from "../decided/constants";
import type { Clock } from "./clock";
import type { AuditEntry, State } from "./store";

/** Admin objects whose create, update and archive are audited as `<subject>.create` and so on. */
export type AdminAuditSubject = "federation_issuer" | "federation_rule" | "service_account";

export type AuditAction =
  | "tunnel.create"
  | "tunnel.archive"
  | "token.reveal"
  | "token.rotate"
  | "certificate.create"
  | "certificate.archive"
  | "oauth.exchange"
  | "oauth.denied"
  | `${AdminAuditSubject}.${"create" | "update" | "archive"}`
  | "federation_rule.workspace_add"
  | "federation_rule.workspace_remove"
  | "membership.add"
  | "membership.update"
  | "membership.remove";

/** Appends to the audit log inside a `Store.mutate`. Never pass secrets in `detail`. */
export function recordAudit(
  state: State,
  clock: Clock,
  entry: { action: AuditAction; actor: string; tunnel_id?: string; detail?: Record<string, unknown> },
): void {
  const record: AuditEntry = { at: clock.now().toISOString(), action: entry.action, actor: entry.actor, detail: entry.detail ?? {} };
  if (entry.tunnel_id !== undefined) record.tunnel_id = entry.tunnel_id;
  state.audit.push(record);
  if (state.audit.length > AUDIT_LOG_CAPACITY) state.audit.splice(0, state.audit.length - AUDIT_LOG_CAPACITY);
}
