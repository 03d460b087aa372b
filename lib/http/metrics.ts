/**
 * `/metrics` in the Prometheus text exposition format (version 0.0.4).
 *
 * @module
 */
import type { Context } from "../context.ts";

/** The content type Prometheus expects for this format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type Sample = [labels: Record<string, string | number>, value: number];

function family(name: string, type: "counter" | "gauge", help: string, samples: Sample[]): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const [labels, value] of samples) {
    const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(String(v))}"`);
    lines.push(`${name}${pairs.length ? `{${pairs.join(",")}}` : ""} ${value}`);
  }
  return lines.join("\n");
}

/** Label values escape backslash, double quote and line feed (the exposition format's rule). */
function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/** Renders the server's counters. */
export function renderMetrics(context: Context): string {
  const { registry, hub } = context;
  const live = hub.connections();
  const { connections, received, sent } = registry.totals(live);
  return [
    family("echo_process_info", "gauge", "Which process (pid) and isolate (id) answered; always 1.", [
      [{ pid: context.process.pid, id: context.process.id }, 1],
    ]),
    family("echo_connections_active", "gauge", "WebSocket connections open now.", [[{}, live.length]]),
    family("echo_connections_total", "counter", "WebSocket connections opened since start.", [[
      {},
      connections,
    ]]),
    family("echo_messages_total", "counter", "Messages by direction.", [
      [{ direction: "in" }, received.messages],
      [{ direction: "out" }, sent.messages],
    ]),
    family("echo_bytes_total", "counter", "Message payload bytes by direction.", [
      [{ direction: "in" }, received.bytes],
      [{ direction: "out" }, sent.bytes],
    ]),
    family(
      "echo_handshakes_refused_total",
      "counter",
      "Refused WebSocket handshakes by reason.",
      [...registry.refused].map(([reason, n]) => [{ reason }, n]),
    ),
    family(
      "echo_closes_total",
      "counter",
      "Closed connections by close code.",
      [...registry.closes].map(([code, n]) => [{ code }, n]),
    ),
    family(
      "echo_http_requests_total",
      "counter",
      "Answers of the HTTP echo, SSE and CORS preflights, by service and status.",
      [...registry.httpAnswers].map(([key, n]) => {
        const [service, code] = key.split(" ");
        return [{ service, code }, n];
      }),
    ),
    family("echo_http_body_bytes_total", "counter", "Request body bytes the HTTP echo read.", [[
      {},
      registry.httpBodyBytes,
    ]]),
    // Every hub member that is not a WebSocket is an SSE stream.
    family("echo_sse_streams_active", "gauge", "SSE streams open now.", [[
      {},
      hub.sessions.length - live.length,
    ]]),
    family("echo_sse_events_total", "counter", "Server-sent events sent.", [[{}, registry.sseEvents]]),
  ].join("\n") + "\n";
}
