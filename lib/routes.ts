/**
 * Plain HTTP routes: what a browser or `curl` gets when it does not ask for a WebSocket.
 *
 * @module
 */

/** What the plain HTTP routes need to know about the server. */
export interface RouteOptions {
  /** e.g. `Deno 2.9.6`, shown to people who ask what this is. */
  runtime: string;
}

/** Answers a request that is not a WebSocket upgrade. */
export function route(request: Request, options: RouteOptions): Response {
  const url = new URL(request.url);
  if (url.pathname !== "/") return text(404, `Not found: ${url.pathname}\n`);
  if (request.method !== "GET" && request.method !== "HEAD") {
    return text(405, `Method ${request.method} is not allowed here; use GET\n`, { allow: "GET, HEAD" });
  }
  return text(200, landing(url, options));
}

function landing(url: URL, options: RouteOptions): string {
  const ws = `${url.protocol === "https:" ? "wss" : "ws"}://${url.host}/`;
  return [
    `Echo: a WebSocket echo server (${options.runtime}).`,
    ``,
    `Connect a WebSocket client to ${ws}`,
    `Every message comes back unchanged: text as text, binary as binary. Echo sends nothing else.`,
    `A subprotocol offered is accepted (the first one offered).`,
    ``,
    `Try it from a browser console:`,
    `  const ws = new WebSocket("${ws}"); ws.onmessage = (e) => console.log(e.data); ws.onopen = () => ws.send("hello");`,
    ``,
  ].join("\n");
}

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });
}
