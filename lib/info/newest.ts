/**
 * The newest few of many, without sorting them all: `/info` shows a page of the live connections,
 * which the hub keeps in no particular order, and at 10,000 live a full sort per request is the
 * cost a bounded `/info` must not pay (docs/info.md, "Cost").
 *
 * @module
 */

/** One page of a list, newest first. */
export interface Page<T> {
  /** At most `limit` items, largest key first. */
  items: T[];
  /** Items that match, on this page or any other. */
  matched: number;
  /** Whether matching items older than the page's last one are left for a next page. */
  more: boolean;
}

/** What {@link newest} selects. */
export interface Selection<T> {
  /** Largest number of items on the page. */
  limit: number;
  /** Only items whose key is below this are on the page (`Infinity`: from the newest). */
  before: number;
  /** An item's position in the list; distinct per item, larger is newer. */
  key(item: T): number;
  /** Whether an item belongs to the list at all (e.g. has the tag asked for). */
  match(item: T): boolean;
}

/**
 * The `limit` items with the largest keys below `before`, largest first: one pass with a heap of
 * `limit` items, O(n log limit) instead of a sort's O(n log n), and no copy of the whole list.
 */
export function newest<T>(items: Iterable<T>, selection: Selection<T>): Page<T> {
  const { limit, before, key, match } = selection;
  // A min-heap by key: its root is the oldest item kept, the one a newer item replaces.
  const heap: T[] = [];
  const keys: number[] = [];
  let matched = 0;
  let eligible = 0;
  for (const item of items) {
    if (!match(item)) continue;
    matched++;
    const k = key(item);
    if (k >= before) continue;
    eligible++;
    if (heap.length < limit) {
      push(heap, keys, item, k);
    } else if (limit > 0 && k > keys[0]) {
      replaceRoot(heap, keys, item, k);
    }
  }
  const order = heap.map((item, i) => ({ item, key: keys[i] })).sort((a, b) => b.key - a.key);
  return { items: order.map((entry) => entry.item), matched, more: eligible > heap.length };
}

function push<T>(heap: T[], keys: number[], item: T, k: number): void {
  let i = heap.length;
  heap.push(item);
  keys.push(k);
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (keys[parent] <= k) break;
    heap[i] = heap[parent];
    keys[i] = keys[parent];
    i = parent;
  }
  heap[i] = item;
  keys[i] = k;
}

function replaceRoot<T>(heap: T[], keys: number[], item: T, k: number): void {
  const n = heap.length;
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= n) break;
    const right = left + 1;
    const child = right < n && keys[right] < keys[left] ? right : left;
    if (keys[child] >= k) break;
    heap[i] = heap[child];
    keys[i] = keys[child];
    i = child;
  }
  heap[i] = item;
  keys[i] = k;
}
