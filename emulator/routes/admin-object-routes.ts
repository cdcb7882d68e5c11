import type { z } from "zod";
import { ADMIN_LIST_LIMIT } from "../../core/contract/tunnels-api";
import { conflict, notFound } from "../http/errors";
import { paginate, parseListQuery } from "../http/pagination";
import { principalOf, type Route } from "../http/router";
import { parseWith, requireNoFields } from "../http/validation";
import { recordAudit, type AdminAuditSubject } from "../state/audit";
import * as ids from "../state/ids";
import type { State } from "../state/store";

/** The fields every admin object has, which the helper stamps and the archive sets. */
export interface AdminRecord {
  id: string;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
  seq: number;
}

type Stamped = keyof AdminRecord;

/** A create or update body: a zod schema of an object, as every admin endpoint takes. */
type AdminBody = z.ZodType<object>;

/** What a kind's own rules get inside `Store.mutate`: the change's time and the next list position. */
export interface AdminChange {
  at: string;
  nextSeq(): number;
}

/**
 * One admin object kind: everything its list, create, get, update and archive endpoints do not
 * share. The checks run in one order for every kind:
 * - create: body (400) → `create.refuseBody` → `create.fields`, which checks against the state;
 * - update: body (400) → object (404) → `refuseReadOnly` (403) → `update.refuseBody` → archived
 *   (409) → `update.apply`, which checks against the state before it writes;
 * - archive: no fields (400) → object (404) → `refuseReadOnly` (403) → an archived object is
 *   returned as it is.
 */
export interface AdminObjectKind<R extends AdminRecord, C extends AdminBody, U extends AdminBody> {
  /** The collection, e.g. `/v1/organizations/federation_issuers`; one object is `<path>/:<idParam>`. */
  path: string;
  idParam: string;
  idPrefix: string;
  /** The list's name in its cursors. */
  list: string;
  /** As messages name it: `<noun> not found`, `an archived <noun> cannot be changed`. */
  noun: string;
  /** Audited as `<audit>.create`, `.update` and `.archive`, the id under `auditIdKey`. */
  audit: AdminAuditSubject;
  auditIdKey: string;
  records(state: State): R[];
  present(state: State, record: R): unknown;
  /** Throws 403 for an object the API may read but neither change nor archive. */
  refuseReadOnly?(record: R): void;
  /** A list's own query parameters, read after the common ones. */
  listFilter?(query: URLSearchParams): (record: R) => boolean;
  create: {
    body: C;
    /** Refusals that need no state, before anything is read. */
    refuseBody?(body: z.output<C>): void;
    /** The kind's own fields, in the order the state file keeps them (the helper adds id first, the stamps last). */
    fields(state: State, body: z.output<C>, change: AdminChange): Omit<R, Stamped>;
    /** Audited beside the id. */
    auditDetail?(record: R): Record<string, unknown>;
  };
  update: {
    body: U;
    refuseBody?(body: z.output<U>): void;
    /** Checks the kind's own rules, then writes the given fields. */
    apply(state: State, record: R, body: z.output<U>, change: AdminChange): void;
  };
}

// For a kind's endpoints beyond the five (a rule's workspaces, a service account's memberships).
export function findAdminObject<R extends AdminRecord>(kind: Pick<AdminObjectKind<R, AdminBody, AdminBody>, "records" | "noun">, state: State, id: string): R {
  const record = kind.records(state).find((candidate) => candidate.id === id);
  if (!record) throw notFound(`${kind.noun} not found`);
  return record;
}

export function refuseArchivedAdminObject(kind: { noun: string }, record: AdminRecord): void {
  if (record.archived_at !== null) throw conflict(`an archived ${kind.noun} cannot be changed`);
}

/** List, create, get, update and archive of one admin object kind, in that order (405's `allow` follows it). */
export function adminObjectRoutes<R extends AdminRecord, C extends AdminBody, U extends AdminBody>(kind: AdminObjectKind<R, C, U>): Route[] {
  const item = `${kind.path}/:${kind.idParam}`;
  const present = (state: State) => (record: R) => kind.present(state, record);
  return [
    {
      method: "GET",
      pattern: kind.path,
      access: "admin",
      handle(request, { store }) {
        const query = parseListQuery(request.query, kind.list, ADMIN_LIST_LIMIT, { archivable: true });
        const filter = kind.listFilter?.(request.query);
        const state = store.state;
        const visible = kind.records(state).filter((record) => (query.includeArchived || record.archived_at === null) && (filter === undefined || filter(record)));
        return { body: paginate(kind.list, visible, query, present(state)) };
      },
    },
    {
      method: "POST",
      pattern: kind.path,
      access: "admin",
      handle(request, { store, clock }) {
        const body = parseWith(kind.create.body, request.body ?? {});
        kind.create.refuseBody?.(body);
        const actor = principalOf(request).serviceAccountId;
        const created = store.mutate((state) => {
          const id = ids.objectId(kind.idPrefix);
          const at = clock.now().toISOString();
          const fields = kind.create.fields(state, body, { at, nextSeq: () => store.nextSeq() });
          const record = { id, ...fields, created_at: at, updated_at: at, archived_at: null, seq: store.nextSeq() } as R;
          kind.records(state).push(record);
          recordAudit(state, clock, { action: `${kind.audit}.create`, actor, detail: { [kind.auditIdKey]: record.id, ...kind.create.auditDetail?.(record) } });
          return record;
        });
        return { body: kind.present(store.state, created) };
      },
    },
    {
      method: "GET",
      pattern: item,
      access: "admin",
      handle(request, { store }) {
        return { body: kind.present(store.state, findAdminObject(kind, store.state, request.params[kind.idParam]!)) };
      },
    },
    {
      method: "POST",
      pattern: item,
      access: "admin",
      handle(request, { store, clock }) {
        const body = parseWith(kind.update.body, request.body ?? {});
        const actor = principalOf(request).serviceAccountId;
        const updated = store.mutate((state) => {
          const record = findAdminObject(kind, state, request.params[kind.idParam]!);
          kind.refuseReadOnly?.(record);
          kind.update.refuseBody?.(body);
          refuseArchivedAdminObject(kind, record);
          const at = clock.now().toISOString();
          kind.update.apply(state, record, body, { at, nextSeq: () => store.nextSeq() });
          record.updated_at = at;
          recordAudit(state, clock, { action: `${kind.audit}.update`, actor, detail: { [kind.auditIdKey]: record.id, fields: Object.keys(body) } });
          return record;
        });
        return { body: kind.present(store.state, updated) };
      },
    },
    {
      method: "POST",
      pattern: `${item}/archive`,
      access: "admin",
      handle(request, { store, clock }) {
        requireNoFields(request.body);
        const actor = principalOf(request).serviceAccountId;
        const archived = store.mutate((state) => {
          const record = findAdminObject(kind, state, request.params[kind.idParam]!);
          kind.refuseReadOnly?.(record);
          if (record.archived_at !== null) return record;
          record.archived_at = clock.now().toISOString();
          recordAudit(state, clock, { action: `${kind.audit}.archive`, actor, detail: { [kind.auditIdKey]: record.id } });
          return record;
        });
        return { body: kind.present(store.state, archived) };
      },
    },
  ];
}
