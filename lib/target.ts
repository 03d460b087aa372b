/**
 * The path and query of a request's URL, read from the string the runtime gives: a full URL parse
 * costs more than all of a handshake's header checks, and most WebSocket URLs have no query.
 *
 * @module
 */

/** What Echo reads from a request's URL. */
export interface Target {
  /** The path as the client sent it, without the query. */
  path: string;
  /** The query's parameters; `null` when the URL has no query. */
  query: URLSearchParams | null;
  /** The query as the client sent it, without the `?` (`""` when the URL has none). */
  search: string;
}

/** Splits an absolute request URL (`http://host/path?query`, as `Request.url` gives it). */
export function requestTarget(url: string): Target {
  const pathStart = url.indexOf("/", url.indexOf("://") + 3);
  if (pathStart < 0) return { path: "/", query: null, search: "" };
  const queryStart = url.indexOf("?", pathStart);
  if (queryStart < 0) return { path: url.slice(pathStart), query: null, search: "" };
  const search = url.slice(queryStart + 1);
  return { path: url.slice(pathStart, queryStart), query: new URLSearchParams(search), search };
}
