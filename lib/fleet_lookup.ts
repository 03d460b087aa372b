/**
 * How `/info?tag=` reaches the rest of the fleet when this member holds no connection with the tag:
 * each source in `Context.fleet` is asked in turn (an in-process channel first, a shared engine
 * after), and the first that finds the tag answers.
 *
 * @module
 */
import type { ConnectionRecord, FleetMatch, FleetMember, FleetSource, FleetStatus } from "./fleet.ts";

/** What the fleet answered for one tag. */
export interface FleetAnswer {
  /** Every source's state after the lookup: whether it could answer, and if not, why. */
  sources: FleetStatus[];
  matches: FleetMatch[];
}

/** Asks `sources` in order until one finds `tag`; each settles within its own bounded wait. */
export async function askFleet(tag: string, sources: readonly FleetSource[]): Promise<FleetAnswer> {
  let matches: FleetMatch[] = [];
  for (const source of sources) {
    matches = await source.lookup(tag);
    if (matches.length > 0) break;
  }
  return { sources: sources.map((source) => source.status()), matches };
}

/** A record another member holds, marked with that member (`/info` shows where a connection lives). */
export function heldBy(record: ConnectionRecord, member: FleetMember): ConnectionRecord {
  return { ...record, member: { id: member.id, pid: member.pid } };
}
