/**
 * Real WebSocket clients that nobody here wrote — the runtime's built-in `WebSocket` and Node's
 * `ws` — behind one small interface, so a test can run the same exchange through each.
 *
 * @module
 */
import WsWebSocket from "ws";

/** A message as a client received it, with its type. */
export type Received = { type: "text"; data: string } | { type: "binary"; data: Uint8Array };

/** What one exchange saw. */
export interface Exchange {
  received: Received[];
  protocol: string;
  extensions: string;
}

/** Options for an exchange. */
export interface ExchangeOptions {
  protocols?: string[];
  /**
   * `ws` only: offer permessage-deflate, optionally with window bits (the built-in clients
   * decide for themselves).
   */
  deflate?: boolean | { clientMaxWindowBits?: number; serverMaxWindowBits?: number };
  /** `ws` only: send each non-empty message in this many frames. */
  fragments?: number;
}

/** A client library able to send messages and collect their echoes. */
export interface Client {
  name: string;
  /** Opens `url`, sends `messages` in order, waits for as many echoes, and closes. */
  exchange(url: string, messages: Array<string | Uint8Array>, options?: ExchangeOptions): Promise<Exchange>;
}

const TIMEOUT_MS = 15_000;

function toReceived(data: unknown): Received {
  if (typeof data === "string") return { type: "text", data };
  if (data instanceof ArrayBuffer) return { type: "binary", data: new Uint8Array(data) };
  throw new Error(`unexpected message data ${Object.prototype.toString.call(data)}`);
}

/** The runtime's own `WebSocket` (Deno's under `deno test`, Bun's under `bun test`). */
export const builtIn: Client = {
  name: `built-in WebSocket (${"Bun" in globalThis ? "Bun" : "Deno"})`,
  exchange(url, messages, options = {}) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options.protocols ?? []);
      ws.binaryType = "arraybuffer";
      const received: Received[] = [];
      const timer = setTimeout(
        () => reject(new Error(`timed out with ${received.length} echoes`)),
        TIMEOUT_MS,
      );
      ws.onopen = () => messages.forEach((m) => ws.send(m));
      ws.onerror = (event) => {
        clearTimeout(timer);
        reject(new Error(`WebSocket error: ${(event as ErrorEvent).message ?? event.type}`));
      };
      ws.onmessage = (event) => {
        received.push(toReceived(event.data));
        if (received.length === messages.length) ws.close(1000);
      };
      ws.onclose = () => {
        clearTimeout(timer);
        if (received.length === messages.length) {
          resolve({ received, protocol: ws.protocol, extensions: ws.extensions });
        } else reject(new Error(`closed after ${received.length} of ${messages.length} echoes`));
      };
    });
  },
};

/** Node's `ws` client. */
export const nodeWs: Client = {
  name: "ws",
  exchange(url, messages, options = {}) {
    return new Promise((resolve, reject) => {
      const ws = new WsWebSocket(url, options.protocols ?? [], {
        perMessageDeflate: options.deflate ?? false,
      });
      const received: Received[] = [];
      const timer = setTimeout(
        () => reject(new Error(`timed out with ${received.length} echoes`)),
        TIMEOUT_MS,
      );
      ws.on("open", () => messages.forEach((m) => sendFragmented(ws, m, options.fragments ?? 1)));
      ws.on("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      ws.on("message", (data, isBinary) => {
        const bytes = new Uint8Array(
          Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data as ArrayBuffer)]),
        );
        received.push(
          isBinary
            ? { type: "binary", data: bytes }
            : { type: "text", data: new TextDecoder().decode(bytes) },
        );
        if (received.length === messages.length) ws.close(1000);
      });
      ws.on("close", () => {
        clearTimeout(timer);
        if (received.length === messages.length) {
          resolve({ received, protocol: ws.protocol, extensions: ws.extensions });
        } else reject(new Error(`closed after ${received.length} of ${messages.length} echoes`));
      });
    });
  },
};

/** Sends one message with `ws` in `fragments` frames (`ws` marks continuation frames itself). */
function sendFragmented(ws: WsWebSocket, message: string | Uint8Array, fragments: number): void {
  const bytes = typeof message === "string" ? new TextEncoder().encode(message) : message;
  if (fragments <= 1 || bytes.length === 0) return ws.send(message);
  const size = Math.ceil(bytes.length / fragments);
  for (let i = 0; i < bytes.length; i += size) {
    ws.send(bytes.subarray(i, i + size), {
      binary: typeof message !== "string",
      fin: i + size >= bytes.length,
    });
  }
}

/** Every high-level client, for tests that loop over them. */
export const CLIENTS: readonly Client[] = [builtIn, nodeWs];

/** The echo a message must produce: the same bytes, the same type. */
export function expected(message: string | Uint8Array): Received {
  return typeof message === "string" ? { type: "text", data: message } : { type: "binary", data: message };
}
