/**
 * The live sessions of one server, WebSockets and SSE streams: what shutdown closes, what
 * MAX_CONNECTIONS counts, what `/info` lists as live (the WebSockets), and what the keepalive sweep
 * visits where the runtime does not ping by itself.
 *
 * @module
 */
import type { Connection } from "./connection.ts";

/** What the hub needs of a session. */
export interface Member {
  /** The WebSocket connection's record, which `/info` lists while it is live; `null` for an SSE stream. */
  readonly connection: Connection | null;
  /** The hub's bookkeeping: where it keeps this member, -1 when in no hub. Starts at -1. */
  hubSlot: number;
  close(code: number, reason: string): void;
  /** Pings when silent for half of `idleMs`, closes when silent for `idleMs`. */
  keepalive(now: number, idleMs: number): void;
}

/**
 * Live sessions, shared by the handler, the sessions themselves and shutdown. An array whose members
 * know their slot rather than a Set: on Bun a Set entry cost each idle connection ~110 bytes more.
 */
export class Hub<M extends Member = Member> {
  #members: M[] = [];
  /** Set once shutdown begins: new upgrades are refused. */
  draining = false;
  #emptied: Array<() => void> = [];

  /** The live members, in no particular order: removing one moves the last into its slot. */
  get members(): readonly M[] {
    return this.#members;
  }

  /** The live WebSocket members' connection records, in the members' order (a new array: a snapshot). */
  connections(): Connection[] {
    const records: Connection[] = [];
    for (const member of this.#members) if (member.connection !== null) records.push(member.connection);
    return records;
  }

  /** Adds a member; adding one that is in already changes nothing. */
  add(member: M): void {
    if (this.#has(member)) return;
    member.hubSlot = this.#members.push(member) - 1;
  }

  /** Takes a member out; false when it was not in (already removed). */
  remove(member: M): boolean {
    if (!this.#has(member)) return false;
    const last = this.#members.pop()!;
    if (last !== member) {
      this.#members[member.hubSlot] = last;
      last.hubSlot = member.hubSlot;
    }
    member.hubSlot = -1;
    if (this.#members.length === 0) { for (const resolve of this.#emptied.splice(0)) resolve(); }
    return true;
  }

  #has(member: M): boolean {
    return member.hubSlot >= 0 && this.#members[member.hubSlot] === member;
  }

  /** Sends every member a close frame. */
  closeAll(code: number, reason: string): void {
    for (const member of [...this.#members]) member.close(code, reason);
  }

  /** Resolves `true` once no member is left, or `false` after `timeoutMs`. */
  whenEmpty(timeoutMs: number): Promise<boolean> {
    if (this.#members.length === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#emptied.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /**
   * Starts one sweep for all members, for runtimes whose own idle timeout misbehaves (Bun's
   * closes TCP without a close frame). Returns the function that stops it.
   */
  startKeepalive(idleMs: number, options: { now?: () => number } = {}): () => void {
    const now = options.now ?? Date.now;
    const timer = setInterval(() => {
      const at = now();
      // A copy: a member's keepalive may close it, and a close may take it out at once.
      for (const member of [...this.#members]) member.keepalive(at, idleMs);
    }, Math.max(250, Math.min(1000, idleMs / 8)));
    return () => clearInterval(timer);
  }
}
