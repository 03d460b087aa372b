/**
 * Turns spaced in time, for work that anyone may ask for in a loop and that shares the thread with
 * every echo: one turn at most every `intervalMs`, the first at once, the rest waiting in order.
 * A client that waits for its answer before asking again is slowed to the pace instead of taking
 * the thread (docs/info.md, "Cost": 20 clients fetching `/info` in a loop).
 *
 * @module
 */

/** A process-wide pace for one kind of request. */
export class Pace {
  readonly intervalMs: number;
  /** Most callers waiting for a turn at once; one more is refused (bounded memory). */
  readonly maxWaiting: number;
  #now: () => number;
  /** When the next turn may start. */
  #next = -Infinity;
  #waiting = 0;

  constructor(intervalMs: number, maxWaiting: number, now: () => number = Date.now) {
    this.intervalMs = intervalMs;
    this.maxWaiting = maxWaiting;
    this.#now = now;
  }

  /** Callers waiting now. */
  get waiting(): number {
    return this.#waiting;
  }

  /**
   * Takes the next turn: `"now"` when the last one began `intervalMs` ago or more, else a promise
   * that resolves when it comes; `null` when `maxWaiting` callers wait already (the caller answers
   * "busy" instead).
   */
  turn(): "now" | Promise<void> | null {
    const now = this.#now();
    const at = Math.max(now, this.#next);
    if (at > now && this.#waiting >= this.maxWaiting) return null;
    this.#next = at + this.intervalMs;
    if (at === now) return "now";
    this.#waiting++;
    return new Promise((resolve) =>
      setTimeout(() => {
        this.#waiting--;
        resolve();
      }, at - now)
    );
  }
}
