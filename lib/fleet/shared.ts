/**
 * The fleet view between separate processes (replicas behind a load balancer, instances on Deno
 * Deploy), through a shared engine named by `FLEET_URL`: Redis or Deno KV.
 *
 * Records with expiry, because that is what both engines offer (Deno KV has no pub/sub between
 * processes). Once per second each member writes, in one batch, a heartbeat `{id, pid, live, seenAt}`
 * and, for each tag whose connections changed since its last write, the full `/info` records of its
 * connections with that tag (live and recently closed), keyed by tag and member. A lookup reads the
 * tag's records and every heartbeat, and keeps another member's live records only while its heartbeat
 * is fresh: a member that died stops vouching for its connections within `staleMs`. Every record
 * carries the time it was written and is checked against it, since an engine's own expiry may be lazy
 * (Deno KV kept a key a minute past its `expireIn`).
 *
 * Nothing here is on the handshake or echo path: the batch is built from the hub and registry on a
 * timer. While the engine is down, a batch that fails is dropped, not queued (the next one is built
 * afresh from the current state and rewrites every tag), and tries are spaced by a backoff.
 *
 * @module
 */
import type { Connection } from "../connection.ts";
import type { Context } from "../context.ts";
import type { ConnectionRecord, FleetMatch, FleetMember, FleetSource, FleetStatus } from "../fleet_source.ts";
import type { FleetUrl } from "../fleet_url.ts";
import { describeError } from "../log.ts";
import type { ClosedConnection } from "../registry.ts";
import { utf8Length } from "../utf8.ts";

/** One value a member writes: under `group` (a tag, or the heartbeats), as `member`. */
export interface FleetWrite {
  group: string;
  member: string;
  value: string;
  /** How long the engine should keep it; freshness itself is checked against the value's own time. */
  ttlMs: number;
}

/**
 * The little a shared engine must do: grouped values with expiry. Adapters: bun/redis.ts and
 * deno/redis.ts (through lib/fleet/redis_store.ts), deno/kv.ts. Each call may reject; none may queue
 * without bound while the engine is unreachable.
 */
export interface FleetStore {
  /** Counts connections made to the engine: a change means it may have lost what was written. */
  readonly generation: number;
  put(writes: readonly FleetWrite[]): Promise<void>;
  /** Every member's value in `group`. */
  read(group: string): Promise<Map<string, string>>;
  remove(group: string, members: readonly string[]): Promise<void>;
  close(): void;
}

/** How often and how long. */
export const FLEET_TIMING = {
  /** Between two batches. */
  flushMs: 1000,
  /** How often a new tagged connection or a close is looked for, to be written without waiting a batch. */
  tickMs: 250,
  /** A heartbeat older than this: the member's live records are not believed. */
  staleMs: 3500,
  /** How long a tag's value is kept (its closed connections stay findable that long). */
  tagTtlMs: 5 * 60_000,
  /** A live tag unchanged this long is written again, before its value expires. */
  refreshMs: 60_000,
  /** A heartbeat this old is deleted (its member is long gone). */
  memberTtlMs: 60_000,
  /** Longest wait for one engine call. */
  timeoutMs: 1000,
  /** Longest pause between tries while the engine is unreachable (they start `tickMs` apart and double). */
  maxBackoffMs: 1000,
};

/** What bounds a batch and its values. */
export const FLEET_LIMITS = {
  /**
   * Tag values in one batch; more wait for the next. With a batch at most every `tickMs`, a member
   * writes at most 512 values a second, each kept `tagTtlMs`, however fast tagged clients churn.
   */
  writesPerFlush: 128,
  /** Newest live, and newest closed, connections stored per tag and member. */
  recordsPerTag: 16,
  /** Deno KV refuses values over 64 KiB. */
  valueBytes: 60_000,
  /** Longer tags are not shared (Deno KV keys are at most 2 KiB). */
  tagChars: 256,
};

/** The group of heartbeats. */
export const MEMBERS_GROUP = "members";

/** The group of a tag's values. */
export function tagGroup(tag: string): string {
  return `tag:${tag}`;
}

/** What one member stores for one tag. */
export interface TagValue {
  member: FleetMember;
  /** When it was written (ms since the epoch). */
  at: number;
  live: ConnectionRecord[];
  recent: ConnectionRecord[];
}

/** The JSON of `value` within `maxBytes` of UTF-8, dropping its oldest records while it is larger. */
export function boundedValue(value: TagValue, maxBytes: number = FLEET_LIMITS.valueBytes): string {
  let json = JSON.stringify(value);
  while (utf8Length(json) > maxBytes && value.live.length + value.recent.length > 0) {
    (value.recent.length >= value.live.length ? value.recent : value.live).shift();
    json = JSON.stringify(value);
  }
  return json;
}

/** Parses one stored JSON value; `undefined` for anything unreadable. */
function parsed<T>(json: string): T | undefined {
  try {
    return JSON.parse(json) as T;
  } catch {
    return undefined;
  }
}

/** The members whose heartbeat is fresh, except `self`, and those gone long enough to delete. */
export function freshMembers(
  heartbeats: ReadonlyMap<string, string>,
  self: string,
  now: number,
  timing = FLEET_TIMING,
): { members: FleetMember[]; expired: string[] } {
  const members: FleetMember[] = [];
  const expired: string[] = [];
  for (const [id, json] of heartbeats) {
    const member = parsed<FleetMember>(json);
    if (member === undefined || now - member.seenAt > timing.memberTtlMs) expired.push(id);
    else if (id !== self && now - member.seenAt <= timing.staleMs) members.push(member);
  }
  return { members, expired };
}

/**
 * Other members' connections with one tag: live ones only from members whose heartbeat is fresh,
 * closed ones from any member while their value is younger than `tagTtlMs`. `expired`: values to delete.
 */
export function matchesFrom(
  values: ReadonlyMap<string, string>,
  heartbeats: ReadonlyMap<string, string>,
  self: string,
  now: number,
  timing = FLEET_TIMING,
): { matches: FleetMatch[]; expired: string[] } {
  const { members } = freshMembers(heartbeats, self, now, timing);
  const fresh = new Map(members.map((member) => [member.id, member]));
  const matches: FleetMatch[] = [];
  const expired: string[] = [];
  for (const [id, json] of values) {
    if (id === self) continue;
    const value = parsed<TagValue>(json);
    if (value === undefined || now - value.at > timing.tagTtlMs) {
      expired.push(id);
      continue;
    }
    const member = fresh.get(id);
    const live = member ? value.live : [];
    if (live.length + value.recent.length > 0) {
      matches.push({ member: member ?? value.member, live, recent: value.recent });
    }
  }
  return { matches, expired };
}

/** A member's connections with one tag. */
interface Held {
  live: Connection[];
  recent: ClosedConnection[];
}

/** What changes in a tag's records between two batches: which connections, their counters, a close. */
function fingerprint(held: Held): string {
  const one = (c: Connection) =>
    `${c.id}.${c.messagesIn}.${c.messagesOut}.${c.pingsSent}.${c.pongs}.${"closedAt" in c ? "x" : ""}`;
  return held.live.map(one).join(",") + "|" + held.recent.map(one).join(",");
}

/** Rejects after `ms`: an engine call never holds a batch or a lookup longer. */
function bounded<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** What the shared fleet reads of the server it belongs to. */
export type FleetHost = Pick<Context, "hub" | "registry" | "process" | "logger">;

/** A connection as `/info?tag=` shows it in full (`record` in lib/info/), which the engine carries. */
export type Describe = (connection: Connection | ClosedConnection) => Promise<ConnectionRecord>;

/** A fleet source over a shared engine; `start()` begins writing this member's batches. */
export class SharedFleet implements FleetSource {
  readonly name: string;
  #store: FleetStore;
  #url: FleetUrl;
  #host: FleetHost;
  #describe: Describe;
  #now: () => number;
  #timing: typeof FLEET_TIMING;
  #status: FleetStatus;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  #flushing = false;
  #failures = 0;
  #retryAt = 0;
  #lastFlush = 0;
  /** The newest closed connection the last batch saw. */
  #lastClosed: Connection | undefined;
  #generation: number;
  /** Per tag: the fingerprint last written and when. Bounded by the tags this member holds. */
  #written = new Map<string, { print: string; at: number }>();

  constructor(
    store: FleetStore,
    url: FleetUrl,
    host: FleetHost,
    describe: Describe,
    options: { now?: () => number; timing?: Partial<typeof FLEET_TIMING> } = {},
  ) {
    this.name = url.engine;
    this.#store = store;
    this.#url = url;
    this.#host = host;
    this.#describe = describe;
    this.#now = options.now ?? Date.now;
    this.#timing = { ...FLEET_TIMING, ...options.timing };
    this.#generation = store.generation;
    this.#status = { source: this.name, available: false, reason: `connecting to ${url.shown}` };
  }

  /**
   * Writes a first batch now and one every `flushMs` after, or sooner when a connection with a new tag
   * opened or a tagged one closed: a page that just connected through one replica asks another for
   * its record a moment later. `unref` (on Deno, its `unrefTimer`) keeps the timer from holding the
   * process open: `deno serve` exits on SIGTERM only once nothing else is pending.
   */
  start(options: { unref?: (timer: number) => void } = {}): this {
    void this.flush();
    this.#timer = setInterval(() => {
      if (this.#now() - this.#lastFlush >= this.#timing.flushMs || this.#news()) void this.flush();
    }, this.#timing.tickMs);
    options.unref?.(this.#timer as unknown as number);
    return this;
  }

  /** Writes one batch: this member's heartbeat and its tags that changed. Never rejects. */
  async flush(): Promise<void> {
    const now = this.#now();
    if (this.#closed || this.#flushing || now < this.#retryAt) return;
    this.#flushing = true;
    this.#lastFlush = now;
    this.#lastClosed = this.#host.registry.recent.at(-1);
    try {
      if (this.#store.generation !== this.#generation) {
        // A new connection to the engine: it may be a restarted server that lost everything.
        this.#generation = this.#store.generation;
        this.#written.clear();
      }
      const held = this.#held();
      for (const tag of this.#written.keys()) if (!held.has(tag)) this.#written.delete(tag);
      const member = this.#member(now);
      const self = member.id;
      const writes: FleetWrite[] = [{
        group: MEMBERS_GROUP,
        member: self,
        value: JSON.stringify(member),
        ttlMs: this.#timing.memberTtlMs,
      }];
      const due = this.#due(held, now);
      for (const [tag] of due) {
        const { live, recent } = held.get(tag)!;
        const [liveRecords, recentRecords] = await Promise.all([
          Promise.all(live.map(this.#describe)),
          Promise.all(recent.map(this.#describe)),
        ]);
        const value = boundedValue({ member, at: now, live: liveRecords, recent: recentRecords });
        writes.push({ group: tagGroup(tag), member: self, value, ttlMs: this.#timing.tagTtlMs });
      }
      await bounded(this.#store.put(writes), this.#timing.timeoutMs);
      for (const [tag, print] of due) this.#written.set(tag, { print, at: now });
      this.#succeeded();
    } catch (error) {
      // Dropped, not queued: the next batch is built from the state then, and rewrites every tag.
      this.#written.clear();
      this.#failed(error, now);
    } finally {
      this.#flushing = false;
    }
  }

  async lookup(tag: string): Promise<FleetMatch[]> {
    const now = this.#now();
    if (this.#closed || tag.length > FLEET_LIMITS.tagChars || now < this.#retryAt) return [];
    try {
      const group = tagGroup(tag);
      const [values, heartbeats] = await bounded(
        Promise.all([this.#store.read(group), this.#store.read(MEMBERS_GROUP)]),
        this.#timing.timeoutMs,
      );
      this.#succeeded();
      const { matches, expired } = matchesFrom(values, heartbeats, this.#host.process.id, now, this.#timing);
      if (expired.length > 0) this.#store.remove(group, expired).catch(() => {});
      return matches;
    } catch (error) {
      this.#failed(error, now);
      return [];
    }
  }

  async members(): Promise<FleetMember[]> {
    const now = this.#now();
    if (this.#closed || now < this.#retryAt) return [];
    try {
      const heartbeats = await bounded(this.#store.read(MEMBERS_GROUP), this.#timing.timeoutMs);
      this.#succeeded();
      const { members, expired } = freshMembers(heartbeats, this.#host.process.id, now, this.#timing);
      if (expired.length > 0) this.#store.remove(MEMBERS_GROUP, expired).catch(() => {});
      return members;
    } catch (error) {
      this.#failed(error, now);
      return [];
    }
  }

  status(): FleetStatus {
    return this.#status;
  }

  /** Stops writing, withdraws this member's heartbeat (its live records stop counting) and disconnects. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    bounded(this.#store.remove(MEMBERS_GROUP, [this.#host.process.id]), this.#timing.timeoutMs)
      .catch(() => {})
      .finally(() => this.#store.close());
  }

  /** Whether a live connection has a tag not written yet, or a tagged connection closed since the last batch. */
  #news(): boolean {
    const closed = this.#host.registry.recent.at(-1);
    if (closed !== this.#lastClosed && closed?.tag != null) return true;
    for (const { connection } of this.#host.hub.sessions) {
      const tag = connection?.tag ?? null; // an SSE stream is a member with no connection
      if (tag !== null && tag.length <= FLEET_LIMITS.tagChars && !this.#written.has(tag)) return true;
    }
    return false;
  }

  /** This member's tagged connections, live and recently closed, by tag (newest kept when many). */
  #held(): Map<string, Held> {
    const held = new Map<string, Held>();
    const add = (c: Connection, list: "live" | "recent") => {
      if (c.tag === null || c.tag.length > FLEET_LIMITS.tagChars) return;
      let entry = held.get(c.tag);
      if (entry === undefined) held.set(c.tag, entry = { live: [], recent: [] });
      (entry[list] as Connection[]).push(c);
      if (entry[list].length > FLEET_LIMITS.recordsPerTag) entry[list].shift();
    };
    // The hub keeps its members in no order; sorted, the newest are the ones kept.
    const live = this.#host.hub.connections().filter((c) => c.tag !== null);
    for (const c of live.sort((a, b) => a.id - b.id)) add(c, "live");
    for (const c of this.#host.registry.recent) add(c, "recent");
    return held;
  }

  /** Tags to write now with their fingerprints: never-written ones first, then changed or aging ones. */
  #due(held: Map<string, Held>, now: number): Array<[string, string]> {
    const fresh: Array<[string, string]> = [];
    const changed: Array<[string, string]> = [];
    for (const [tag, entry] of held) {
      if (fresh.length >= FLEET_LIMITS.writesPerFlush) break;
      const print = fingerprint(entry);
      const last = this.#written.get(tag);
      if (last === undefined) fresh.push([tag, print]);
      else if (last.print !== print || now - last.at >= this.#timing.refreshMs) changed.push([tag, print]);
    }
    return [...fresh, ...changed].slice(0, FLEET_LIMITS.writesPerFlush);
  }

  #member(now: number): FleetMember {
    const { id, pid } = this.#host.process;
    const live = this.#host.hub.connections();
    // Totals ride along so that /info without a tag sums the whole fleet's (lib/info/fleet_view.ts).
    return { id, pid, live: live.length, totals: this.#host.registry.totals(live), seenAt: now };
  }

  #succeeded(): void {
    this.#failures = 0;
    this.#retryAt = 0;
    if (this.#status.available) return;
    this.#status = { source: this.name, available: true };
    this.#host.logger.log("info", "fleet engine available", { engine: this.name, url: this.#url.shown });
  }

  #failed(error: unknown, now: number): void {
    if (this.#closed) return;
    this.#failures++;
    this.#retryAt = now +
      Math.min(this.#timing.tickMs * 2 ** (this.#failures - 1), this.#timing.maxBackoffMs);
    const message = this.#url.scrub(describeError(error).split("\n")[0]);
    const reason = `cannot reach ${this.#url.shown}: ${message}`;
    this.#status = { source: this.name, available: false, reason };
    // Once per outage, not once per try.
    if (this.#failures === 1) {
      this.#host.logger.log("warn", "fleet engine unavailable", { engine: this.name, reason });
    }
  }
}
