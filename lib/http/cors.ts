/**
 * CORS for the HTTP and SSE echo, so a page on another origin can use them (Fetch standard, "CORS
 * protocol"): preflights answered, and every answer readable by any origin, or only by those in
 * `ALLOWED_ORIGINS` when it is set (the list WebSocket upgrades are checked against). Credentials
 * are never allowed: with them, any site could read the cookies a browser sends to Echo's host.
 *
 * @module
 */
import { isToken, splitList } from "../tokens.ts";

/** How long a browser may cache a preflight's answer, in seconds. */
export const PREFLIGHT_MAX_AGE_SECONDS = 600;

/** True when a request from `origin` may be answered (no Origin: not a cross-origin browser request). */
export function originAllowed(origin: string | null, allowed: readonly string[] | null): boolean {
  return origin === null || allowed === null || allowed.includes(origin.toLowerCase());
}

/** The one-line refusal of a request whose Origin is not in ALLOWED_ORIGINS. */
export function originRefused(): Response {
  return new Response("Origin is not allowed here (see ALLOWED_ORIGINS)\n", {
    status: 403,
    headers: { "content-type": "text/plain; charset=utf-8", vary: "origin" },
  });
}

/** The headers that let the page at the request's Origin read the answer. */
export function corsHeaders(request: Request, allowed: readonly string[] | null): Record<string, string> {
  // `*` lets every origin read the answer and, as the Fetch standard defines it, never with credentials.
  if (allowed === null) return { "access-control-allow-origin": "*", "access-control-expose-headers": "*" };
  const origin = request.headers.get("origin");
  if (origin === null || !originAllowed(origin, allowed)) return { vary: "origin" };
  return { "access-control-allow-origin": origin, "access-control-expose-headers": "*", vary: "origin" };
}

/** True for a CORS preflight: OPTIONS with an Origin and Access-Control-Request-Method. */
export function isPreflight(request: Request): boolean {
  return request.method === "OPTIONS" && request.headers.get("origin") !== null &&
    request.headers.get("access-control-request-method") !== null;
}

/** The answer to a preflight: 204 allowing the method and headers asked for, or 403 for an origin not allowed. */
export function preflight(request: Request, allowed: readonly string[] | null): Response {
  if (!originAllowed(request.headers.get("origin"), allowed)) return originRefused();
  const method = request.headers.get("access-control-request-method") ?? "";
  const asked = splitList(request.headers.get("access-control-request-headers"));
  if (!isToken(method) || !asked.every(isToken)) {
    return new Response("Access-Control-Request-Method and -Headers must be HTTP tokens\n", {
      status: 400,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }
  const headers: Record<string, string> = {
    ...corsHeaders(request, allowed),
    "access-control-allow-methods": method,
    "access-control-max-age": String(PREFLIGHT_MAX_AGE_SECONDS),
  };
  if (asked.length > 0) headers["access-control-allow-headers"] = asked.join(", ");
  headers.vary = "origin, access-control-request-method, access-control-request-headers";
  return new Response(null, { status: 204, headers });
}
