/**
 * The live sessions of one server, WebSockets and SSE streams: what shutdown closes, what
 * MAX_CONNECTIONS counts, what `/info` lists as live (the WebSockets), and what the keepalive sweep
 * visits where the runtime does not ping by itself.
 *
 * @module
 */
import type { Connection } from "./connection.ts";

/** What the hub needs of a session. */
export interface LiveSession {
  /** The WebSocket connection's record, which `/info` lists while it is live; `null` for an SSE stream. */
  readonly connection: Connection | null;
  /** The hub's bookkeeping: where it keeps this session, -1 when in no hub. Starts at -1. */
  hubSlot: number;
  close(code: number, reason: string): void;
  /** Pings when silent for half of `idleMs`, closes when silent for `idleMs`. */
  keepalive(now: number, idleMs: number): void;
}

/**
 * Live sessions, shared by the handler, the sessions themselves and shutdown. An array whose entries
 * know their slot rather than a Set: on Bun a Set entry cost each idle connection more memory
 * (docs/benchmarks.md, "Idle memory").
 */
export class Hub<S extends LiveSession = LiveSession> {
  #sessions: S[] = [];
  /** Set once shutdown begins: new upgrades are refused. */
  draining = false;
  #emptied: Array<() => void> = [];

  /** The live sessions, in no particular order: removing one moves the last into its slot. */
  get sessions(): readonly S[] {
    return this.#sessions;
  }

  /** The live WebSocket sessions' connection records, in the sessions' order (a new array: a snapshot). */
  connections(): Connection[] {
    const records: Connection[] = [];
    for (const session of this.#sessions) if (session.connection !== null) records.push(session.connection);
    return records;
  }

  /** Adds a session; adding one that is in already changes nothing. */
  add(session: S): void {
    if (this.#has(session)) return;
    session.hubSlot = this.#sessions.push(session) - 1;
  }

  /** Takes a session out; false when it was not in (already removed). */
  remove(session: S): boolean {
    if (!this.#has(session)) return false;
    const last = this.#sessions.pop()!;
    if (last !== session) {
      this.#sessions[session.hubSlot] = last;
      last.hubSlot = session.hubSlot;
    }
    session.hubSlot = -1;
    if (this.#sessions.length === 0) { for (const resolve of this.#emptied.splice(0)) resolve(); }
    return true;
  }

  #has(session: S): boolean {
    return session.hubSlot >= 0 && this.#sessions[session.hubSlot] === session;
  }

  /** Sends every session a close frame. */
  closeAll(code: number, reason: string): void {
    for (const session of [...this.#sessions]) session.close(code, reason);
  }

  /** Resolves `true` once no session is left, or `false` after `timeoutMs`. */
  whenEmpty(timeoutMs: number): Promise<boolean> {
    if (this.#sessions.length === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#emptied.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /**
   * Starts one sweep for all sessions, for runtimes whose own idle timeout misbehaves (Bun's
   * closes TCP without a close frame). Returns the function that stops it.
   */
  startKeepalive(idleMs: number, options: { now?: () => number } = {}): () => void {
    const now = options.now ?? Date.now;
    const timer = setInterval(() => {
      const at = now();
      // A copy: a session's keepalive may close it, and a close may take it out at once.
      for (const session of [...this.#sessions]) session.keepalive(at, idleMs);
    }, Math.max(250, Math.min(1000, idleMs / 8)));
    return () => clearInterval(timer);
  }
}
