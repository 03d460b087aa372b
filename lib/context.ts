/**
 * What one server's handler and sessions share, built once at start-up by the entry.
 *
 * @module
 */
import type { Config } from "./config.ts";
import type { ExtensionPolicy } from "./deflate.ts";
import type { FleetSource } from "./fleet_source.ts";
import { Hub } from "./hub.ts";
import type { KnobParameter } from "./knobs.ts";
import type { Logger } from "./log.ts";
import { MessageLogs } from "./message_log.ts";
import { Pace } from "./pace.ts";
import { type ProcessIdentity, processIdentity } from "./identity.ts";
import { Registry } from "./registry.ts";

/** Shared state and facts of one server. */
export interface Context {
  config: Config;
  /** e.g. `Deno 2.9.6`. */
  runtime: string;
  /** What the runtime answers to `Sec-WebSocket-Extensions` (the 101 as `/info` reports it). */
  extensions: ExtensionPolicy;
  registry: Registry;
  hub: Hub;
  logger: Logger;
  /** Which host, process and isolate this is (several share a port on all cores). */
  process: ProcessIdentity;
  /** Test knobs this runtime cannot offer, each with the reason a refused client reads. */
  unsupportedKnobs: Partial<Record<KnobParameter, string>>;
  /**
   * How the runtime changes a request's path before Echo sees it, declared by an entry whose runtime
   * normalises it (Bun); `null` where the path reaches Echo as sent. The HTTP echo and `/info` show it
   * beside every path, since a normalised path cannot tell whether it was changed.
   */
  pathNote: string | null;
  /** Where `/info` looks for connections other members hold, in order (empty: this member alone). */
  fleet: FleetSource[];
  /** Spaces `/info`'s larger answers ({@link INFO_PACE_MS}). */
  infoPace: Pace;
  /** The tagged connections' message logs, bounded for the process (lib/message_log.ts). */
  messageLogs: MessageLogs;
}

/**
 * At most one `/info` answer listing more than a few connections per this many ms, per process, so that
 * clients fetching `/info` in a loop cannot take the thread (docs/info.md, "Cost").
 */
export const INFO_PACE_MS = 50;
/** Requests waiting for their turn beyond which `/info` answers 503 at once (bounded memory). */
export const MAX_INFO_WAITING = 100;

/** Builds a context; a caller may bring its own registry (a test fixture does). */
export function createContext(
  config: Config,
  options: {
    runtime: string;
    logger: Logger;
    extensions: ExtensionPolicy;
    registry?: Registry;
    /** The OS process id, which lib/ cannot read (0 where unknown). */
    pid?: number;
    /** The host's name, as the entry found it (lib/identity.ts); absent: unknown. */
    hostname?: string | null;
    unsupportedKnobs?: Partial<Record<KnobParameter, string>>;
    pathNote?: string;
  },
): Context {
  return {
    config,
    runtime: options.runtime,
    extensions: options.extensions,
    registry: options.registry ?? new Registry(),
    hub: new Hub(),
    logger: options.logger,
    process: processIdentity(options.pid ?? 0, options.hostname),
    unsupportedKnobs: options.unsupportedKnobs ?? {},
    pathNote: options.pathNote ?? null,
    fleet: [],
    infoPace: new Pace(INFO_PACE_MS, MAX_INFO_WAITING),
    messageLogs: new MessageLogs(),
  };
}
