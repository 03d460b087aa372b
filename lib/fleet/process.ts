/**
 * Joins a member to the in-process fleet: a {@link ChannelFleet} that answers from this member's own
 * context, added to `Context.fleet` so `/info` asks it. The entries call this with their runtime's
 * `BroadcastChannel`; tests call it with two channels in one process.
 *
 * @module
 */
import { ChannelFleet, type ChannelFleetOptions, type FleetChannel } from "./channel.ts";
import type { Context } from "../context.ts";
import type { FleetMatch } from "../fleet_source.ts";

/** This member's connections with a tag, as `/info?tag=` shows them (`ownConnections` in lib/info/). */
export type OwnConnections = (tag: string) => Promise<Pick<FleetMatch, "live" | "recent">>;

/** Options of {@link joinProcessFleet}. */
export interface JoinOptions extends ChannelFleetOptions {
  /** The port this member serves, 0 while it does not know it (a `deno serve` isolate without onListen). */
  port?(): number;
}

/** Builds the in-process source for `context`, adds it to `context.fleet` and returns it. */
export function joinProcessFleet(
  context: Context,
  channel: FleetChannel,
  own: OwnConnections,
  options: JoinOptions = {},
): ChannelFleet {
  const port = options.port ?? (() => context.config.port);
  const source = new ChannelFleet(channel, {
    self: () => {
      const live = context.hub.connections();
      return {
        id: context.process.id,
        pid: context.process.pid,
        live: live.length,
        totals: context.registry.totals(live),
        port: port(),
      };
    },
    find: own,
  }, options);
  // First among the sources: the channel answers in about a millisecond, a shared engine over the network.
  context.fleet.unshift(source);
  return source;
}
