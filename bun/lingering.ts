/**
 * WebSocket connections Bun has reported closed but still holds open. Bun (uWebSockets) fires a
 * socket's `close` handler as soon as `ws.close()` has written the close frame and a FIN, before the
 * client answers; from then on the `ServerWebSocket` reports nothing more, yet Bun keeps the TCP
 * connection open until the client ends its side, or drops it a few seconds later (docs/design.md,
 * "Shutdown"). The drain asks this module how many of those are left, by looking each one up in the
 * kernel's table of TCP sockets: one is left while a process holds its row (inode not 0), or while its
 * client has not ended its side after Echo's FIN (FIN_WAIT1 or FIN_WAIT2: the kernel keeps the row
 * after Bun drops the socket), so a client that never answers holds the drain as long on Bun as on Deno.
 *
 * Linux only (`/proc/self/net/tcp`, `tcp6`); where the table cannot be read, every connection
 * counts as held, so the drain waits the whole grace period rather than cut clients short.
 *
 * @module
 */
import { readFileSync } from "node:fs";

/** The TCP connections of one listener, each known by its client's port, that Bun may still hold. */
export class Lingering {
  readonly #localPort: () => number;
  /** Client ports of the connections closed by Echo whose end has not been seen yet. */
  #ports: number[] = [];

  constructor(localPort: () => number) {
    this.#localPort = localPort;
  }

  /** Notes a connection Echo closed and Bun reported closed; its client came from `remotePort`. */
  add(remotePort: number): void {
    this.#ports.push(remotePort);
  }

  /** How many of the noted connections Bun still holds open (all of them, where that cannot be read). */
  count(): number {
    if (this.#ports.length === 0) return 0;
    const held = heldRemotePorts(this.#localPort());
    if (held !== undefined) this.#ports = this.#ports.filter((port) => held.has(port));
    return this.#ports.length;
  }
}

const TABLES = ["/proc/self/net/tcp", "/proc/self/net/tcp6"];

/** `st` of a row whose client has not yet ended its side after ours (Linux's TCP_FIN_WAIT1, TCP_FIN_WAIT2). */
const WAITING_FOR_CLIENT = new Set(["04", "05"]);

/**
 * The client ports of the TCP connections on `localPort` that a process still holds (inode not 0) or
 * whose client has not yet answered our FIN, or `undefined` when the kernel's tables cannot be read.
 */
export function heldRemotePorts(localPort: number): Set<number> | undefined {
  const held = new Set<number>();
  let read = false;
  const local = `:${localPort.toString(16).toUpperCase().padStart(4, "0")}`;
  for (const table of TABLES) {
    let text: string;
    try {
      text = readFileSync(table, "latin1");
    } catch {
      continue;
    }
    read = true;
    // "sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ..."
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || !fields[1].endsWith(local)) continue;
      if (fields[9] === "0" && !WAITING_FOR_CLIENT.has(fields[3])) continue;
      const remotePort = parseInt(fields[2].slice(fields[2].indexOf(":") + 1), 16);
      if (remotePort !== 0) held.add(remotePort); // 0: the listening socket itself
    }
  }
  return read ? held : undefined;
}
