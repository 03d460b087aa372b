/**
 * The one place an answer of the HTTP or SSE echo is logged and counted, so that the log and
 * `/metrics` agree on what was served.
 *
 * @module
 */
import type { Context } from "../context.ts";
import type { Fields } from "../log.ts";

/** Which of Echo's plain-HTTP services answered. */
export type HttpService = "echo" | "sse" | "preflight";

/** Logs one answer (event `http`) and counts it by service and status. */
export function answered(
  context: Pick<Context, "logger" | "registry">,
  service: HttpService,
  request: Request,
  path: string,
  status: number,
  fields: Fields = {},
): void {
  context.registry.httpAnswered(service, status);
  context.logger.log("info", "http", { service, method: request.method, path, status, ...fields });
}

/** A one-line plain-text answer (a refusal or an error), never cached. */
export function plain(status: number, line: string, headers: Record<string, string> = {}): Response {
  return new Response(`${line}\n`, {
    status,
    headers: { ...headers, "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
  });
}
