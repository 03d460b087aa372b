/**
 * The `delay` knob's queue: items leave in arrival order, each `delayMs` after it arrived, through
 * a single timer per connection however many items wait.
 *
 * @module
 */

/** Bytes a waiting item is counted for beyond its payload, so that empty messages are bounded too. */
export const ITEM_OVERHEAD_BYTES = 64;

interface Waiting<T> {
  due: number;
  item: T;
  size: number;
}

/** A first-in, first-out queue that releases each item a fixed time after it was pushed. */
export class DelayLine<T> {
  #delayMs: number;
  #deliver: (item: T, size: number) => void;
  #now: () => number;
  #queue: Array<Waiting<T>> = [];
  #head = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #bytes = 0;

  /** `deliver` is called with each item and its size when due; it may call `clear()`. */
  constructor(
    delayMs: number,
    deliver: (item: T, size: number) => void,
    options: { now?: () => number } = {},
  ) {
    this.#delayMs = delayMs;
    this.#deliver = deliver;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Bytes waiting, each item counted as its size plus {@link ITEM_OVERHEAD_BYTES}. */
  get pendingBytes(): number {
    return this.#bytes;
  }

  /** Items waiting. */
  get length(): number {
    return this.#queue.length - this.#head;
  }

  /** Queues `item` (of `size` bytes) for delivery `delayMs` from now. */
  push(item: T, size: number): void {
    this.#queue.push({ due: this.#now() + this.#delayMs, item, size });
    this.#bytes += size + ITEM_OVERHEAD_BYTES;
    if (this.#timer === undefined) this.#schedule();
  }

  /** Drops everything waiting and stops the timer. */
  clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue = [];
    this.#head = 0;
    this.#bytes = 0;
  }

  #schedule(): void {
    const next = this.#queue[this.#head];
    if (next === undefined) return;
    this.#timer = setTimeout(() => this.#release(), Math.max(0, next.due - this.#now()));
  }

  #release(): void {
    this.#timer = undefined;
    const now = this.#now();
    // Pushes happen in time order, so the due times are too: stop at the first not yet due.
    while (this.#head < this.#queue.length && this.#queue[this.#head].due <= now) {
      const waiting = this.#queue[this.#head++];
      this.#bytes -= waiting.size + ITEM_OVERHEAD_BYTES;
      this.#deliver(waiting.item, waiting.size);
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.#schedule();
  }
}
