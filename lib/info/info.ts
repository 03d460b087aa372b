/**
 * `GET /info`: what this process is, and what each connection negotiated, as the 101 carried it.
 * A request carrying handshake headers also gets a dry run of the handshake it describes.
 *
 * @module
 */
import { acceptValue } from "./accept.ts";
import type { Config } from "../config.ts";
import { type Connection, receivedTraffic, sentTraffic } from "../connection.ts";
import { declineReason, type ExtensionPolicy } from "../deflate.ts";
import { checkHandshake } from "../handshake.ts";
import type { ConnectionRecord, FleetSource } from "../fleet_source.ts";
import { fleetView } from "./fleet_view.ts";
import type { ProcessIdentity } from "../identity.ts";
import type { Hub } from "../hub.ts";
import { nextLink, parseInfoQuery } from "./paging.ts";
import { newest } from "./newest.ts";
import { NO_LOG } from "../message_log.ts";
import type { Pace } from "../pace.ts";
import type { ClosedConnection, Registry } from "../registry.ts";
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
  /** How the runtime changed the paths before Echo saw them (`Context.pathNote`); absent or null: as sent. */
  pathNote?: string | null;
  /** Which of several processes or isolates sharing the port answered. */
  process?: ProcessIdentity;
  /** Spaces the answers that list more than {@link FREE_RECORDS} connections. */
  infoPace: Pace;
  /** Where connections other members hold are looked up (lib/info/fleet_view.ts); none: this member alone. */
  fleet?: readonly FleetSource[];
}

/** An answer with this many records or fewer (a tag lookup of one's own connections) never waits. */
export const FREE_RECORDS = 4;

/** Fields left out of other clients' connections unless `INFO_DETAILS=full`. */
export const PRIVATE_FIELDS = [
  "tag",
  "query",
  "remoteAddress",
  "origin",
  "userAgent",
  "key",
  "accept",
  "messageLog",
] as const;

/** The answer to `GET /info` (and `/info?tag=`), one page of each list; a bad `limit` or `cursor` gets 400. */
export async function infoResponse(request: Request, options: InfoOptions): Promise<Response> {
  const { registry, hub, config } = options;
  const query = parseInfoQuery(new URL(request.url), config.infoLimit);
  if ("error" in query) {
    return new Response(query.error + "\n", {
      status: 400,
      headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
    });
  }
  const { tag, limit, cursor } = query;
  // A tag is a capability: whoever knows it sees its connections in full, so tags of other
  // connections are private too.
  const full = tag !== null || config.infoDetails === "full";
  const match = (c: Connection) => tag === null || c.tag === tag;
  const [space, version] = [
    options.runtime.indexOf(" "),
    options.runtime.slice(options.runtime.indexOf(" ") + 1),
  ];
  // One synchronous snapshot, taken after the last wait and before the first await: a connection
  // closing while the records are awaited must not show up both live and recent.
  const snapshot = () => {
    const connections = hub.connections();
    // A recent connection's position: the how-manieth close since start it was.
    const firstClose = registry.closedCount - registry.recent.length + 1;
    const position = new Map(registry.recent.map((c, i) => [c, firstClose + i]));
    return {
      totals: registry.totals(connections),
      liveCount: connections.length,
      // Newest first by id without sorting every live member (the hub keeps them in no order).
      live: newest(connections, { limit, before: cursor.live, key: (c) => c.id, match }),
      recent: newest<ClosedConnection>(registry.recent, {
        limit,
        before: cursor.recent,
        key: (c) => position.get(c)!,
        match,
      }),
      position,
    };
  };
  let taken = snapshot();
  if (taken.live.items.length + taken.recent.items.length > FREE_RECORDS) {
    const turn = options.infoPace.turn();
    if (turn === null) return busy(options.infoPace);
    if (turn !== "now") {
      await turn;
      taken = snapshot();
    }
  }
  const { totals, liveCount, live, recent, position } = taken;
  const next = {
    live: live.more && limit > 0 ? live.items.at(-1)!.id : 0,
    recent: recent.more && limit > 0 ? position.get(recent.items.at(-1)!)! : 0,
  };
  // With a tag, the fleet's other members are asked when this one holds none; without, its totals.
  const view = await fleetView({
    tag,
    totals,
    liveCount,
    live: await Promise.all(live.items.map((c) => record(c, full, options))),
    recent: await Promise.all(recent.items.map((c) => record(c, full, options))),
  }, options);
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
    // With a tag found only on other members, their records count too (they answer unpaged, bounded
    // by their own INFO_LIMIT).
    counts: {
      live: live.matched + view.live.length - live.items.length,
      recent: recent.matched + view.recent.length - recent.items.length,
    },
    fleet: view.fleet,
    live: view.live,
    recent: view.recent,
    page: { limit, next: nextLink(query, next) },
    ...(hasHandshakeHeaders(request) ? { dryRun: await dryRun(request, options) } : {}),
  };
  return new Response(JSON.stringify(body, null, 2) + "\n", {
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  });
}

function busy(pace: Pace): Response {
  return new Response(
    `/info is busy: ${pace.waiting} requests wait for their turn (one page every ${pace.intervalMs} ms); ` +
      "retry in a second\n",
    {
      status: 503,
      headers: {
        "content-type": "text/plain; charset=utf-8",
        "cache-control": "no-store",
        "retry-after": "1",
      },
    },
  );
}

/**
 * This member's connections tagged `tag`, in full, newest first and at most `INFO_LIMIT` of each list:
 * what `/info?tag=` lists here, and what this member answers when another member asks.
 */
export async function ownConnections(
  tag: string,
  options: Pick<InfoOptions, "hub" | "registry" | "extensions" | "pathNote" | "config">,
): Promise<{ live: ConnectionRecord[]; recent: ConnectionRecord[] }> {
  const selection = {
    limit: options.config.infoLimit,
    before: Infinity,
    match: (c: Connection) => c.tag === tag,
  };
  const live = newest(options.hub.connections(), { ...selection, key: (c) => c.id });
  // Closes are kept in order, so a recent connection's index is its position.
  const order = new Map(options.registry.recent.map((c, i) => [c, i]));
  const recent = newest<ClosedConnection>(options.registry.recent, {
    ...selection,
    key: (c) => order.get(c)!,
  });
  return {
    live: await Promise.all(live.items.map((c) => record(c, true, options))),
    recent: await Promise.all(recent.items.map((c) => record(c, true, options))),
  };
}

/** A connection as `/info` shows it; `full` adds the fields {@link PRIVATE_FIELDS} names. */
export async function record(
  c: Connection | ClosedConnection,
  full: boolean,
  options: Pick<InfoOptions, "extensions" | "pathNote">,
): Promise<ConnectionRecord> {
  const note = declineReason(c.request.extensions, c.extensions, options.extensions);
  // A digest per record is most of a page's cost when nobody may see it (docs/info.md, "Cost").
  const accept = full ? await acceptValue(c.request.key) : "";
  const out = {
    id: c.id,
    tag: c.tag,
    path: c.path,
    ...(options.pathNote ? { pathNote: options.pathNote } : {}),
    query: c.query,
    remoteAddress: c.remoteAddress,
    openedAt: new Date(c.openedAt).toISOString(),
    request: {
      origin: c.request.origin,
      userAgent: c.request.userAgent,
      key: c.request.key,
      extensions: c.request.extensions,
      protocol: c.request.protocol,
    },
    response: { accept, extensions: c.extensions, protocol: c.protocol },
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
  // Only a tagged connection has a log, and only a full record shows it (the tag's holder's).
  if (full) return c.tag === null ? out : { ...out, messageLog: c.messageLog?.report() ?? NO_LOG };
  const { tag: _t, query: _q, remoteAddress: _r, ...rest } = out;
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
