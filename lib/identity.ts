/**
 * Which process (and which isolate within it) answered: with `deno serve --parallel` or Bun's
 * `--workers`, several copies of Echo share one port and each keeps its own registry.
 *
 * @module
 */

/** The identity `/info` and `/metrics` report. */
export interface ProcessIdentity {
  /** Operating-system process id, as the entry reports it (0 where unknown). */
  pid: number;
  /**
   * Random per isolate, drawn at start: `deno serve --parallel` runs several isolates in one
   * process, and neither runtime exposes a worker index to user code.
   */
  id: string;
}

/** A fresh identity for this isolate. */
export function processIdentity(pid: number): ProcessIdentity {
  return { pid, id: crypto.randomUUID().slice(0, 8) };
}
