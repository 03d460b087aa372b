/**
 * The fleet view's contract. Several members serve one address (the threads or isolates of one
 * process, or replicas behind a load balancer); each keeps its own registry. When `/info?tag=` finds
 * nothing in this member's registry, it asks each fleet source in `Context.fleet` in turn: an
 * in-process channel between threads or isolates, then a shared engine between processes.
 * Sources are runtime-free here; the entries build them from their runtime's primitives.
 *
 * @module
 */
import type { Totals } from "./registry.ts";

/** A connection as `/info` shows it in full (the JSON `/info?tag=` returns for a local one). */
export type ConnectionRecord = Record<string, unknown>;

/** One member of the fleet, as a source last heard of it. */
export interface FleetMember {
  /** `ProcessIdentity.id` of the member. */
  id: string;
  pid: number;
  /** Live connections it held when last heard. */
  live: number;
  /** Milliseconds since the epoch when that was heard. */
  seenAt: number;
  /** Its counters when last heard, where the source carries them (summed into the fleet's totals). */
  totals?: Totals;
  /** The port it serves, where known (0 until its listener reported one). */
  port?: number;
}

/** Connections with one tag held by one other member. */
export interface FleetMatch {
  member: FleetMember;
  live: ConnectionRecord[];
  recent: ConnectionRecord[];
}

/** Whether a source can answer now, and if not, why (never containing a secret such as a password). */
export interface FleetStatus {
  source: string;
  available: boolean;
  reason?: string;
}

/** A way to reach the other members of the fleet. */
export interface FleetSource {
  /** Short name shown in `/info`, e.g. `process` or `redis`. */
  readonly name: string;
  /** Connections with `tag` held by other members; settles within a bounded wait and never rejects. */
  lookup(tag: string): Promise<FleetMatch[]>;
  /** The other members this source knows of; settles within a bounded wait and never rejects. */
  members(): Promise<FleetMember[]>;
  status(): FleetStatus;
  /** Stops answering and releases the channel or connection (at shutdown). */
  close(): void;
}
