/**
 * The fleet's part of `/info`. With a tag: the connections wherever they live, each saying which
 * member holds it; this member's own registry first, then, if it holds none, each fleet source in
 * turn (lib/fleet_source.ts). Without a tag: the fleet's members (id, live count) and totals, summed from
 * counters each member read when asked.
 *
 * @module
 */
import type { ConnectionRecord, FleetMember, FleetSource, FleetStatus } from "../fleet_source.ts";
import type { ProcessIdentity } from "../identity.ts";
import type { Totals } from "../registry.ts";

/** What this member found itself, as `/info` is about to report it. */
export interface OwnView {
  tag: string | null;
  /** This member's counters. */
  totals: Totals;
  /** This member's live connections (all of them, whatever the tag). */
  liveCount: number;
  live: ConnectionRecord[];
  recent: ConnectionRecord[];
}

/** The fleet `/info` reports from. */
export interface FleetOptions {
  process?: ProcessIdentity;
  fleet?: readonly FleetSource[];
}

/** The `/info` fields this module decides: `totals`, `fleet`, `live` and `recent`. */
export interface FleetView {
  totals: Totals;
  fleet: Record<string, unknown>;
  live: ConnectionRecord[];
  recent: ConnectionRecord[];
}

/** Completes this member's view with what the fleet's other members hold. */
export async function fleetView(own: OwnView, options: FleetOptions): Promise<FleetView> {
  const sources = options.fleet ?? [];
  const self = options.process ?? { pid: 0, id: "" };
  const member = { id: self.id, pid: self.pid };
  const held = (m: { id: string; pid: number }) => (r: ConnectionRecord) => ({ ...r, member: m });
  const statuses = (): FleetStatus[] => sources.map((source) => source.status());
  if (own.tag !== null) {
    const live = own.live.map(held(member));
    const recent = own.recent.map(held(member));
    // The first source that finds the tag answers: an in-process channel before a shared engine.
    for (const source of live.length + recent.length > 0 ? [] : sources) {
      const matches = await source.lookup(own.tag);
      for (const match of matches) {
        const by = { id: match.member.id, pid: match.member.pid };
        live.push(...match.live.map(held(by)));
        recent.push(...match.recent.map(held(by)));
      }
      if (matches.length > 0) break;
    }
    return { totals: own.totals, fleet: { member, sources: statuses() }, live, recent };
  }
  const others = new Map<string, FleetMember>();
  for (const list of await Promise.all(sources.map((source) => source.members()))) {
    for (const other of list) if (other.id !== self.id && !others.has(other.id)) others.set(other.id, other);
  }
  const totals = sum([own.totals, ...[...others.values()].flatMap((m) => m.totals ? [m.totals] : [])]);
  const members = [
    { ...member, live: own.liveCount, self: true },
    ...[...others.values()].map((m) => ({
      id: m.id,
      pid: m.pid,
      live: m.live,
      heardMsAgo: Math.max(0, Date.now() - m.seenAt),
    })),
  ];
  return {
    totals: own.totals,
    fleet: { member, members, live: members.reduce((n, m) => n + m.live, 0), totals, sources: statuses() },
    live: own.live,
    recent: own.recent,
  };
}

function sum(all: Totals[]): Totals {
  const out = { connections: 0, received: { messages: 0, bytes: 0 }, sent: { messages: 0, bytes: 0 } };
  for (const t of all) {
    out.connections += t.connections;
    out.received.messages += t.received.messages;
    out.received.bytes += t.received.bytes;
    out.sent.messages += t.sent.messages;
    out.sent.bytes += t.sent.bytes;
  }
  return out;
}
