/**
 * `GET /info`: what this process is, and what each connection negotiated, as the 101 carried it.
 * A request carrying handshake headers also gets a dry run of the handshake it describes.
 *
 * @module
 */
import { acceptValue } from "./accept.ts";
import type { Config } from "./config.ts";
import { type Connection, receivedTraffic, sentTraffic } from "./connection.ts";
import { declineReason, type ExtensionPolicy } from "./deflate.ts";
import type { FleetSource } from "./fleet.ts";
import { askFleet, heldBy } from "./fleet_lookup.ts";
import { checkHandshake } from "./handshake.ts";
import type { ProcessIdentity } from "./process.ts";
import type { Hub } from "./hub.ts";
import type { ClosedConnection, Registry } from "./registry.ts";
import { VERSION } from "./version.ts";

/** What `/info` reports from. */
export interface InfoOptions {
  registry: Registry;
  /** Whose members are the live connections. */
  hub: Hub;
  /** Runtime name and version, e.g. `Deno 2.9.6`. */
  runtime: string;
  config: Readonly<Config>;
  extensions: ExtensionPolicy;
  /** Which of several processes or isolates sharing the port answered. */
  process?: ProcessIdentity;
  /** Where a tag this process does not hold is looked for (lib/fleet_lookup.ts). */
  fleet?: readonly FleetSource[];
}

/** Fields left out of other clients' connections unless `INFO_DETAILS=full`. */
export const PRIVATE_FIELDS = ["tag", "remoteAddress", "origin", "userAgent", "key", "accept"] as const;

/** The answer to `GET /info` (and `/info?tag=`). */
export async function infoResponse(request: Request, options: InfoOptions): Promise<Response> {
  const tag = new URL(request.url).searchParams.get("tag");
  const { registry, hub, config } = options;
  // A tag is a capability: whoever knows it sees its connections in full, so tags of other
  // connections are private too.
  const full = tag !== null || config.infoDetails === "full";
  const chosen = (c: Connection) => tag === null || c.tag === tag;
  const [space, version] = [
    options.runtime.indexOf(" "),
    options.runtime.slice(options.runtime.indexOf(" ") + 1),
  ];
  // One synchronous snapshot: a connection closing while the records are awaited must not show
  // up both live and recent.
  const connections = hub.connections();
  const totals = registry.totals(connections);
  // Oldest first: the hub keeps its members in no particular order.
  const live = connections.filter(chosen).sort((a, b) => a.id - b.id);
  const recent = registry.recent.filter(chosen);
  const fleet = options.fleet ?? [];
  const remote = tag !== null && live.length + recent.length === 0 && fleet.length > 0
    ? await askFleet(tag, fleet)
    : undefined;
  const elsewhere = (list: "live" | "recent") =>
    remote?.matches.flatMap((match) => match[list].map((r) => heldBy(r, match.member))) ?? [];
  const body = {
    echo: { version: VERSION },
    runtime: { name: options.runtime.slice(0, space), version },
    ...(options.process ? { process: options.process } : {}),
    config,
    extensions: options.extensions.summary,
    privacy: full
      ? "full records"
      : `other connections are listed without ${PRIVATE_FIELDS.join(", ")} (INFO_DETAILS=full shows them; ` +
        "/info?tag=YOUR_TAG shows your own in full)",
    ...(tag === null ? {} : { tag }),
    totals,
    ...(fleet.length > 0 ? { fleet: remote?.sources ?? fleet.map((source) => source.status()) } : {}),
    live: [...await Promise.all(live.map((c) => record(c, full, options))), ...elsewhere("live")],
    recent: [...await Promise.all(recent.map((c) => record(c, full, options))), ...elsewhere("recent")],
    ...(hasHandshakeHeaders(request) ? { dryRun: await dryRun(request, options) } : {}),
  };
  return new Response(JSON.stringify(body, null, 2) + "\n", {
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  });
}

/**
 * One connection as `/info` shows it: in full, or without {@link PRIVATE_FIELDS}. The shared fleet
 * (lib/shared_fleet.ts) stores the full form, so a replica answers for another exactly as it would.
 */
export async function record(
  c: Connection | ClosedConnection,
  full: boolean,
  options: Pick<InfoOptions, "extensions">,
): Promise<Record<string, unknown>> {
  const note = declineReason(c.request.extensions, c.extensions, options.extensions);
  const out = {
    id: c.id,
    tag: c.tag,
    path: c.path,
    remoteAddress: c.remoteAddress,
    openedAt: new Date(c.openedAt).toISOString(),
    request: {
      origin: c.request.origin,
      userAgent: c.request.userAgent,
      key: c.request.key,
      extensions: c.request.extensions,
      protocol: c.request.protocol,
    },
    response: { accept: await acceptValue(c.request.key), extensions: c.extensions, protocol: c.protocol },
    ...(note ? { extensionsNote: note } : {}),
    knobs: c.knobs,
    pings: { sent: c.pingsSent, pongs: c.pongs },
    received: receivedTraffic(c),
    sent: sentTraffic(c),
    ...("closedAt" in c
      ? {
        closed: {
          at: new Date(c.closedAt).toISOString(),
          durationMs: c.durationMs,
          code: c.code,
          reason: c.reason,
          by: c.closedBy,
        },
      }
      : {}),
  };
  if (full) return out;
  const { tag: _t, remoteAddress: _r, ...rest } = out;
  const { origin: _o, userAgent: _u, key: _k, ...request } = out.request;
  const { accept: _a, ...response } = out.response;
  return { ...rest, request, response };
}

const HANDSHAKE_HEADERS = ["sec-websocket-key", "sec-websocket-extensions", "sec-websocket-protocol"];

function hasHandshakeHeaders(request: Request): boolean {
  return HANDSHAKE_HEADERS.some((name) => request.headers.has(name));
}

/** What an upgrade with these headers would get, without upgrading. */
async function dryRun(request: Request, options: InfoOptions) {
  const headers = new Headers(request.headers);
  headers.set("upgrade", "websocket");
  headers.set("connection", "Upgrade");
  if (!headers.has("sec-websocket-version")) headers.set("sec-websocket-version", "13");
  const offer = headers.get("sec-websocket-extensions");
  const asked = {
    key: headers.get("sec-websocket-key"),
    extensions: offer,
    protocol: headers.get("sec-websocket-protocol"),
  };
  const handshake = checkHandshake(new Request(request.url, { headers }), options.config);
  if (!handshake.ok) {
    const reason = (await handshake.response.text()).trim();
    return { request: asked, status: handshake.response.status, reason };
  }
  const extensions = options.extensions.negotiate(offer);
  const note = declineReason(offer, extensions, options.extensions);
  const response: Record<string, string> = { "Sec-WebSocket-Accept": await acceptValue(asked.key!) };
  if (handshake.protocol) response["Sec-WebSocket-Protocol"] = handshake.protocol;
  if (extensions) response["Sec-WebSocket-Extensions"] = extensions;
  return { request: asked, status: 101, response, ...(note ? { extensionsNote: note } : {}) };
}
