/**
 * Paging of `/info`'s two lists, live and recent connections: which page a request asks for
 * (`limit`, `cursor`) and the link to the next one. Each list is read newest first and continues
 * below the last position shown (keyset paging: a connection opening or closing between two requests
 * does not shift the pages, as an offset would).
 *
 * @module
 */

/** Where each list continues: only positions below these are shown (`Infinity`: from the newest). */
export interface Cursor {
  /** A live connection's position is its id. */
  live: number;
  /** A recent connection's position is its place in the order of closes since start. */
  recent: number;
}

/** The page a request asks for. */
export interface InfoQuery {
  /** Only connections with this tag, or all. */
  tag: string | null;
  /** Most connections per list. */
  limit: number;
  cursor: Cursor;
}

/** The cursor of a first page. */
export const FIRST: Readonly<Cursor> = { live: Infinity, recent: Infinity };

const CURSOR = /^(\d{1,15})\.(\d{1,15})$/;

/**
 * Reads `tag`, `limit` (0 to `cap`, default `cap`) and `cursor` from a `/info` URL; a bad value gives
 * the one-line reason a 400 carries, naming the parameter.
 */
export function parseInfoQuery(url: URL, cap: number): InfoQuery | { error: string } {
  const params = url.searchParams;
  let limit = cap;
  const rawLimit = params.get("limit");
  if (rawLimit !== null) {
    if (!/^\d{1,7}$/.test(rawLimit) || Number(rawLimit) > cap) {
      return {
        error: `limit: expected a whole number from 0 to ${cap} (the server's INFO_LIMIT), got ${
          JSON.stringify(rawLimit)
        }`,
      };
    }
    limit = Number(rawLimit);
  }
  let cursor: Cursor = FIRST;
  const rawCursor = params.get("cursor");
  if (rawCursor !== null) {
    const match = CURSOR.exec(rawCursor);
    if (!match) {
      return {
        error: `cursor: expected the cursor of an earlier answer's page.next (like 2951.40), got ${
          JSON.stringify(rawCursor)
        }`,
      };
    }
    cursor = { live: Number(match[1]), recent: Number(match[2]) };
  }
  return { tag: params.get("tag"), limit, cursor };
}

/**
 * The link to the page after this one, or `null` when both lists are finished. `live` and `recent`
 * are where each list continues, 0 where it is finished (positions start at 1).
 */
export function nextLink(query: InfoQuery, next: Cursor): string | null {
  if (query.limit === 0 || (next.live === 0 && next.recent === 0)) return null;
  const params = new URLSearchParams();
  if (query.tag !== null) params.set("tag", query.tag);
  params.set("limit", String(query.limit));
  params.set("cursor", `${next.live}.${next.recent}`);
  return `/info?${params}`;
}
