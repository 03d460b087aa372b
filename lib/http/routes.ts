/**
 * Plain HTTP routes: what a browser, `curl` or a monitor gets when it does not ask for a WebSocket.
 *
 * @module
 */
import type { Context } from "../context.ts";
import { httpEcho } from "./echo.ts";
import { infoResponse } from "../info/info.ts";
import { METRICS_CONTENT_TYPE, renderMetrics } from "./metrics.ts";
import { PAGE_HTML } from "./page.ts";
import { SSE_PATHS, sseResponse } from "./sse.ts";
import { describeIdentity } from "../identity.ts";

// The text names the host that answered: a cache must not hand it to a client another host serves.
const home = (request: Request, context: Context) =>
  wantsHtml(request)
    ? page()
    : text(200, landing(new URL(request.url), context), { vary: "accept", "cache-control": "no-store" });

/** Echo's own routes; every other path is the HTTP echo's. */
const ROUTES: Record<string, (request: Request, context: Context) => Response | Promise<Response>> = {
  "/": home,
  // jmalloc/echo-server's WebSocket path: its upgrades are served like `/`'s, and so is a browser.
  "/.ws": home,
  "/info": infoResponse,
  // Liveness: the process answers. Readiness is apart: a draining server is alive but must get no new
  // clients, so a load balancer or Kubernetes readiness probe takes it out of rotation (docs/deploy.md).
  "/healthz": () => text(200, "ok\n"),
  "/readyz": (_, context) => context.hub.draining ? text(503, "draining\n") : text(200, "ready\n"),
  "/metrics": (_, context) =>
    new Response(renderMetrics(context), { headers: { "content-type": METRICS_CONTENT_TYPE } }),
};

/**
 * Answers a request that is not a WebSocket upgrade: Echo's own routes, SSE, and the HTTP echo for
 * every other path. `socketAddress` is the address the runtime saw the request come from ("" when unknown).
 */
export function route(request: Request, context: Context, socketAddress = ""): Response | Promise<Response> {
  const url = new URL(request.url);
  const handler = ROUTES[url.pathname];
  if (!handler) {
    return SSE_PATHS.includes(url.pathname)
      ? sseResponse(request, context, socketAddress)
      : httpEcho(request, context, socketAddress);
  }
  if (request.method !== "GET" && request.method !== "HEAD") {
    return text(405, `Method ${request.method} is not allowed here; use GET\n`, { allow: "GET, HEAD" });
  }
  return handler(request, context);
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

function landing(url: URL, context: Context): string {
  const ws = `${url.protocol === "https:" ? "wss" : "ws"}://${url.host}/`;
  return [
    `Echo: a WebSocket echo server (${context.runtime}).`,
    `Served by ${describeIdentity(context.runtime, context.process)}.`,
    ``,
    `Connect a WebSocket client to ${ws}`,
    `Every message comes back unchanged: text as text, binary as binary. Echo sends nothing else.`,
    `A subprotocol offered is accepted (the first one offered).`,
    `GET /info reports what each connection negotiated; a browser gets a test page here.`,
    `Any other path echoes the HTTP request back as JSON (Accept: text/plain for text);`,
    `GET /sse streams server-sent events (?count=3&interval_ms=500).`,
    ``,
    `Try it from a browser console:`,
    `  const ws = new WebSocket("${ws}"); ws.onmessage = (e) => console.log(e.data); ws.onopen = () => ws.send("hello");`,
    ``,
  ].join("\n");
}

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });
}
