/**
 * The start sequence, written once for every entry: logger → context → fleet sources → handler, then
 * the listening line once the runtime has bound, and the drain on a signal. An entry hands over its
 * runtime's facts ({@link Runtime}) and serves what comes back ({@link Echo}); where each runtime's
 * part lives is in [docs/design.md](../../docs/design.md).
 *
 * @module
 */
import type { Connection } from "../connection.ts";
import { type Context, createContext } from "../context.ts";
import type { ExtensionPolicy } from "../deflate.ts";
import { type FleetChannel } from "../fleet/channel.ts";
import { joinProcessFleet } from "../fleet/process.ts";
import { type FleetStore, SharedFleet } from "../fleet/shared.ts";
import type { FleetUrl } from "../fleet_url.ts";
import { ownConnections, record } from "../info/info.ts";
import type { KnobParameter } from "../knobs.ts";
import { createLogger } from "../log.ts";
import { type Opening, type PeerWrapper, unwrapped } from "../peer.ts";
import { listeningLine, type Settings } from "./cli.ts";
import { createHandler, type Handler } from "./handler.ts";
import { shutDown, type ShutdownOptions } from "./shutdown.ts";

/** Options every entry takes: lets a caller (a test fixture, an embedding program) wrap each socket. */
export interface ServeOptions {
  peer?: PeerWrapper;
}

/** What an entry tells the start sequence about its runtime. */
export interface Runtime {
  /** e.g. `Deno 2.9.6`. */
  name: string;
  /** The OS process id, which lib/ cannot read. */
  pid: number;
  /**
   * The host's name, looked up once at start without asking for a permission: `HOSTNAME` from the
   * environment (container runtimes and Kubernetes set it), else the runtime's own call where it is
   * already allowed; `undefined` where neither is. An exception counts as `undefined`.
   */
  hostname?(): string | undefined;
  /** Where log lines go, one call per batch of lines. */
  write(text: string): void;
  /** What the runtime answers to `Sec-WebSocket-Extensions`. */
  extensions: ExtensionPolicy;
  /** Knobs the runtime cannot offer, each with the reason a refused client reads. */
  unsupportedKnobs?: Partial<Record<KnobParameter, string>>;
  /** How the runtime changes a request's path before Echo sees it, where it does (`Context.pathNote`). */
  pathNote?: string;
  /** The channel to the other threads or isolates of this process, where it has any. */
  channel?: FleetChannel;
  /** The shared engine `FLEET_URL` names, reached with the runtime's own client. */
  fleetStore?(url: FleetUrl): FleetStore;
  /** Keeps a timer from holding the process open, where the runtime needs telling (Deno). */
  unref?(timer: number): void;
  /**
   * Performs the runtime's native upgrade of an accepted handshake: returns the 101 (Deno) or
   * `undefined` when the runtime answers itself (Bun). It must not throw once the runtime has the request.
   */
  upgrade(request: Request, connection: Connection, opening: Opening): Response | undefined;
}

/** What an entry serves. */
export interface Echo {
  context: Context;
  handler: Handler;
  /** What each connection's session opens with (for a runtime whose socket events come apart from the upgrade). */
  opening: Opening;
  /** Prints the listening line once the runtime has bound, and records the port for `/info`. */
  announce(address: { hostname: string; port: number }): void;
  /** The graceful shutdown, for the entry's signal listeners. */
  drain(options: ShutdownOptions): Promise<never>;
}

/** The runtime's answer for the host's name; a lookup that throws leaves it unknown. */
function lookUpHostname(runtime: Runtime): string | undefined {
  try {
    return runtime.hostname?.();
  } catch {
    return undefined;
  }
}

/** Builds the logger, context, fleet sources and handler one thread or isolate serves with. */
export function startEcho(settings: Settings, runtime: Runtime, options: ServeOptions = {}): Echo {
  const { config, tls } = settings;
  const logger = createLogger(runtime.write, {
    format: settings.logFormat,
    level: config.logLevel,
    batch: true,
  });
  // A copy, so that /info can report the port actually bound when 0 was asked for.
  const context = createContext({ ...config }, {
    runtime: runtime.name,
    logger,
    extensions: runtime.extensions,
    pid: runtime.pid,
    hostname: lookUpHostname(runtime),
    unsupportedKnobs: runtime.unsupportedKnobs,
    pathNote: runtime.pathNote,
  });
  // `deno serve --parallel` announces in one isolate only: the others learn the port from the fleet,
  // so that each one's /info reports the port it serves.
  let listened = false;
  if (runtime.channel) {
    joinProcessFleet(context, runtime.channel, (tag) => ownConnections(tag, context), {
      port: () => listened ? context.config.port : 0,
      heard: (member) => {
        if (!listened && member.port) context.config.port = member.port;
      },
    });
  }
  const url = config.fleetUrl;
  if (url && runtime.fleetStore) {
    const shared = new SharedFleet(runtime.fleetStore(url), url, context, (c) => record(c, true, context));
    context.fleet.push(shared.start({ unref: runtime.unref }));
  }
  const opening: Opening = { context, wrap: options.peer ?? unwrapped };
  const handler = createHandler(
    (request, connection) => runtime.upgrade(request, connection, opening),
    context,
  );
  return {
    context,
    handler,
    opening,
    announce(address) {
      listened = true;
      context.config.port = address.port;
      const line = listeningLine(address, { runtime: runtime.name, tls: tls !== undefined });
      logger.announce("listening", line, {
        port: address.port,
        hostname: context.process.hostname,
        pid: runtime.pid,
        id: context.process.id,
      });
    },
    drain: (shutdown) => shutDown(context, shutdown),
  };
}
