import { invalidRequest } from "./errors";

export interface ListQuery {
  limit: number;
  /** Only items with a smaller seq (older) than this come next. */
  before: number | undefined;
  includeArchived: boolean;
}

export interface LimitRange {
  min: number;
  max: number;
  default: number;
}

function single(query: URLSearchParams, name: string): string | undefined {
  const all = query.getAll(name);
  if (all.length > 1) throw invalidRequest(`query parameter ${name} given more than once`);
  return all[0];
}

// Cursor: base64url of "<list>:<seq of the last item returned>". Binding it to the list makes a
// cursor from another list a 400 instead of a silently wrong page.
export function encodeCursor(list: string, seq: number): string {
  return Buffer.from(`${list}:${seq}`, "utf8").toString("base64url");
}

function decodeCursor(list: string, cursor: string): number {
  const match = /^([a-z_]+):(\d{1,15})$/.exec(/^[A-Za-z0-9_-]{1,200}$/.test(cursor) ? Buffer.from(cursor, "base64url").toString("utf8") : "");
  if (!match || match[1] !== list) throw invalidRequest("page: not a cursor from this list's next_page");
  return Number(match[2]);
}

export function parseListQuery(query: URLSearchParams, list: string, range: LimitRange, options: { archivable: boolean }): ListQuery {
  const rawLimit = single(query, "limit");
  let limit = range.default;
  if (rawLimit !== undefined) {
    if (!/^\d{1,7}$/.test(rawLimit) || Number(rawLimit) < range.min || Number(rawLimit) > range.max) {
      throw invalidRequest(`limit: must be an integer from ${range.min} to ${range.max}`);
    }
    limit = Number(rawLimit);
  }
  const page = single(query, "page");
  const before = page === undefined || page === "" ? undefined : decodeCursor(list, page);
  let includeArchived = false;
  const rawArchived = options.archivable ? single(query, "include_archived") : undefined;
  if (rawArchived !== undefined) {
    if (rawArchived !== "true" && rawArchived !== "false") throw invalidRequest("include_archived: must be true or false");
    includeArchived = rawArchived === "true";
  }
  return { limit, before, includeArchived };
}

/** `items` in any order; returns newest first (highest seq) after the cursor. */
export function paginate<T extends { seq: number }, R>(
  list: string,
  items: readonly T[],
  query: ListQuery,
  present: (item: T) => R,
): { data: R[]; next_page: string | null } {
  const ordered = items.filter((item) => query.before === undefined || item.seq < query.before).sort((a, b) => b.seq - a.seq);
  const page = ordered.slice(0, query.limit);
  const last = page[page.length - 1];
  return { data: page.map(present), next_page: ordered.length > page.length && last ? encodeCursor(list, last.seq) : null };
}
