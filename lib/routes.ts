/**
 * Plain HTTP routes: what a browser or `curl` gets when it does not ask for a WebSocket.
 *
 * @module
 */

import { type InfoOptions, infoResponse } from "./info.ts";
import { PAGE_HTML } from "./page.ts";

/** What the plain HTTP routes need to know about the server. */
export type RouteOptions = InfoOptions;

/** Answers a request that is not a WebSocket upgrade. */
export function route(request: Request, options: RouteOptions): Response | Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname !== "/" && url.pathname !== "/info") return text(404, `Not found: ${url.pathname}\n`);
  if (request.method !== "GET" && request.method !== "HEAD") {
    return text(405, `Method ${request.method} is not allowed here; use GET\n`, { allow: "GET, HEAD" });
  }
  if (url.pathname === "/info") return infoResponse(request, options);
  if (wantsHtml(request)) return page();
  return text(200, landing(url, options), { vary: "accept" });
}

/** Browsers ask for HTML first; `curl` sends `Accept: *\/*` and keeps the short text. */
function wantsHtml(request: Request): boolean {
  return (request.headers.get("accept") ?? "").split(",").some((type) => type.trim().startsWith("text/html"));
}

function page(): Response {
  return new Response(PAGE_HTML, {
    headers: {
      "content-type": "text/html; charset=utf-8",
      // The page's own inline script and style, and WebSockets and fetches anywhere the user points it.
      "content-security-policy":
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; " +
        "connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      "x-content-type-options": "nosniff",
      vary: "accept",
    },
  });
}

function landing(url: URL, options: RouteOptions): string {
  const ws = `${url.protocol === "https:" ? "wss" : "ws"}://${url.host}/`;
  return [
    `Echo: a WebSocket echo server (${options.runtime}).`,
    ``,
    `Connect a WebSocket client to ${ws}`,
    `Every message comes back unchanged: text as text, binary as binary. Echo sends nothing else.`,
    `A subprotocol offered is accepted (the first one offered).`,
    `GET /info reports what each connection negotiated; a browser gets a test page here.`,
    ``,
    `Try it from a browser console:`,
    `  const ws = new WebSocket("${ws}"); ws.onmessage = (e) => console.log(e.data); ws.onopen = () => ws.send("hello");`,
    ``,
  ].join("\n");
}

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });
}
