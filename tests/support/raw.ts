/**
 * A raw-TCP WebSocket client for tests: exact handshake bytes in, exact frames out, nothing
 * corrected on the way. Built on `node:net` so it runs under both Deno and Bun.
 *
 * @module
 */
import { connect, type Socket } from "node:net";
import { randomBytes } from "node:crypto";

/** The opening handshake the seed notes recorded from Chrome (`../shared/seed-notes.txt`). */
export const SEED_HEADERS: ReadonlyArray<[string, string]> = [
  ["Pragma", "no-cache"],
  ["Origin", "null"],
  ["Accept-Language", "en-US,en;q=0.9"],
  ["Sec-WebSocket-Key", "1CrKNZMpvvE2RDF4Aa866w=="],
  [
    "User-Agent",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/92.0.4515.131 Safari/537.36",
  ],
  ["Upgrade", "websocket"],
  ["Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"],
  ["Cache-Control", "no-cache"],
  ["Connection", "Upgrade"],
  ["Sec-WebSocket-Version", "13"],
];
/** The accept value RFC 6455 §4.2.2 gives for the seed's key. */
export const SEED_ACCEPT = "GV9ZWv2AENn5HFPL/OnNHijnKcI=";

/** A valid handshake with a fresh key, to which tests add or override headers. */
export function handshakeHeaders(extra: Record<string, string | null> = {}): Array<[string, string]> {
  const base: Record<string, string | null> = {
    Host: "localhost",
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Key": randomBytes(16).toString("base64"),
    "Sec-WebSocket-Version": "13",
    ...extra,
  };
  return Object.entries(base).filter((e): e is [string, string] => e[1] !== null);
}

/** WebSocket opcodes (RFC 6455 §5.2). */
export const OP = { CONT: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 } as const;

/** One frame as it is on the wire (payload unmasked). */
export interface Frame {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  masked: boolean;
  payload: Uint8Array;
}

/** A frame to send: flags default to a final, unreserved frame; a string payload is UTF-8. */
export type FrameSpec = Partial<Omit<Frame, "payload" | "masked">> & {
  opcode: number;
  payload?: Uint8Array | string;
};

/** Encodes a frame; client frames are masked unless `mask: false` is asked for. */
export function encodeFrame(frame: FrameSpec, options: { mask?: boolean } = {}): Uint8Array {
  const payload = typeof frame.payload === "string"
    ? new TextEncoder().encode(frame.payload)
    : frame.payload ?? new Uint8Array();
  const mask = options.mask ?? true;
  const length = payload.length;
  const extended = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const out = new Uint8Array(2 + extended + (mask ? 4 : 0) + length);
  out[0] = ((frame.fin ?? true) ? 0x80 : 0) | (frame.rsv1 ? 0x40 : 0) | (frame.rsv2 ? 0x20 : 0) |
    (frame.rsv3 ? 0x10 : 0) | (frame.opcode & 0x0f);
  out[1] = (mask ? 0x80 : 0) | (extended === 0 ? length : extended === 2 ? 126 : 127);
  const view = new DataView(out.buffer);
  if (extended === 2) view.setUint16(2, length);
  if (extended === 8) view.setBigUint64(2, BigInt(length));
  let offset = 2 + extended;
  if (mask) {
    const key = randomBytes(4);
    out.set(key, offset);
    offset += 4;
    for (let i = 0; i < length; i++) out[offset + i] = payload[i] ^ key[i & 3];
  } else out.set(payload, offset);
  return out;
}

/** Incremental frame decoder. */
export class FrameParser {
  #buffer = new Uint8Array(0);

  /** Adds bytes and returns every frame now complete. */
  push(chunk: Uint8Array): Frame[] {
    const joined = new Uint8Array(this.#buffer.length + chunk.length);
    joined.set(this.#buffer);
    joined.set(chunk, this.#buffer.length);
    this.#buffer = joined;
    const frames: Frame[] = [];
    for (;;) {
      const frame = this.#next();
      if (!frame) return frames;
      frames.push(frame);
    }
  }

  #next(): Frame | undefined {
    const b = this.#buffer;
    if (b.length < 2) return undefined;
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    let length = b[1] & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (b.length < 4) return undefined;
      length = view.getUint16(2);
      offset = 4;
    } else if (length === 127) {
      if (b.length < 10) return undefined;
      length = Number(view.getBigUint64(2));
      offset = 10;
    }
    const masked = (b[1] & 0x80) !== 0;
    const keyOffset = offset;
    if (masked) offset += 4;
    if (b.length < offset + length) return undefined;
    const payload = b.slice(offset, offset + length);
    if (masked) { for (let i = 0; i < length; i++) payload[i] ^= b[keyOffset + (i & 3)]; }
    this.#buffer = b.slice(offset + length);
    return {
      fin: (b[0] & 0x80) !== 0,
      rsv1: (b[0] & 0x40) !== 0,
      rsv2: (b[0] & 0x20) !== 0,
      rsv3: (b[0] & 0x10) !== 0,
      opcode: b[0] & 0x0f,
      masked,
      payload,
    };
  }
}

/** A parsed HTTP response head. */
export interface ResponseHead {
  status: number;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Map<string, string>;
  /** The head exactly as received, up to and including the blank line. */
  raw: string;
  /** Body bytes received after the head (for refusals, the whole body once the server closes). */
  body: string;
}

/** A raw TCP connection that has sent an opening handshake. */
export class RawClient {
  readonly socket: Socket;
  readonly response: ResponseHead;
  #frames: Frame[] = [];
  #waiters: Array<() => void> = [];
  #ended = false;
  #parser = new FrameParser();

  private constructor(socket: Socket, response: ResponseHead, rest: Uint8Array) {
    this.socket = socket;
    this.response = response;
    const take = (chunk: Uint8Array) => {
      this.#frames.push(...this.#parser.push(chunk));
      this.#wake();
    };
    if (rest.length) take(rest);
    socket.on("data", take);
    socket.on("close", () => {
      this.#ended = true;
      this.#wake();
    });
    socket.on("error", () => {});
  }

  /**
   * Connects and sends `GET path` with exactly `headers`, then waits for the response head.
   * For a non-101 answer it also waits for the body (the server closes or sends Content-Length).
   */
  static open(
    port: number,
    headers: ReadonlyArray<readonly [string, string]>,
    options: {
      path?: string;
      method?: string;
      version?: string;
      localAddress?: string;
      /**
       * Keep this side open when the server ends its own (node:net ends it by default): a client that
       * never answers a close frame nor hangs up, as a frozen peer would.
       */
      allowHalfOpen?: boolean;
    } = {},
  ): Promise<RawClient> {
    const head = `${options.method ?? "GET"} ${options.path ?? "/"} ${options.version ?? "HTTP/1.1"}\r\n` +
      headers.map(([name, value]) => `${name}: ${value}\r\n`).join("") + "\r\n";
    return new Promise((resolve, reject) => {
      const socket = connect(
        { port, host: "127.0.0.1", localAddress: options.localAddress, allowHalfOpen: options.allowHalfOpen },
        () => socket.write(head),
      );
      let received = Buffer.alloc(0);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no complete response in 10 s: ${JSON.stringify(received.toString("latin1"))}`));
      }, 10_000);
      const finish = (response: ResponseHead, rest: Uint8Array) => {
        clearTimeout(timer);
        socket.off("data", onData);
        socket.off("end", onEnd);
        resolve(new RawClient(socket, response, rest));
      };
      const onData = (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        const end = received.indexOf("\r\n\r\n");
        if (end < 0) return;
        const response = parseHead(received.subarray(0, end + 4).toString("latin1"));
        const rest = received.subarray(end + 4);
        if (response.status === 101) return finish(response, rest);
        const length = Number(response.headers.get("content-length") ?? NaN);
        if (rest.length >= length) {
          finish({ ...response, body: rest.subarray(0, length).toString() }, new Uint8Array());
        }
      };
      const onEnd = () => {
        const end = received.indexOf("\r\n\r\n");
        if (end < 0) {
          clearTimeout(timer);
          return reject(new Error(`connection closed before a response: ${received.toString("latin1")}`));
        }
        const response = parseHead(received.subarray(0, end + 4).toString("latin1"));
        finish({ ...response, body: received.subarray(end + 4).toString() }, new Uint8Array());
      };
      socket.on("data", onData);
      socket.on("end", onEnd);
      socket.on("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  /** Writes raw bytes (frames, or garbage). */
  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Encodes and writes one client frame. */
  send(frame: FrameSpec, options: { mask?: boolean } = {}): void {
    this.write(encodeFrame(frame, options));
  }

  /** Resolves with the next frame, or `undefined` once the TCP connection has ended. */
  async next(timeoutMs = 10_000): Promise<Frame | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.#frames.length === 0 && !this.#ended) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.#frames.shift();
  }

  /** Resolves once the server has closed the TCP connection. */
  async ended(timeoutMs = 10_000): Promise<void> {
    while (await this.next(timeoutMs) !== undefined);
  }

  /** Destroys the TCP connection. */
  destroy(): void {
    this.socket.destroy();
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }
}

function parseHead(raw: string): ResponseHead {
  const [statusLine, ...lines] = raw.split("\r\n").filter((line) => line !== "");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? NaN);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
  }
  return { status, headers, raw, body: "" };
}

/** Close frame payload: 2-byte code then UTF-8 reason. */
export function closePayload(code: number, reason = ""): Uint8Array {
  const text = new TextEncoder().encode(reason);
  const out = new Uint8Array(2 + text.length);
  new DataView(out.buffer).setUint16(0, code);
  out.set(text, 2);
  return out;
}

/** Reads a close frame's code and reason. */
export function parseClose(payload: Uint8Array): { code: number; reason: string } {
  if (payload.length < 2) return { code: 1005, reason: "" };
  return {
    code: new DataView(payload.buffer, payload.byteOffset).getUint16(0),
    reason: new TextDecoder().decode(payload.subarray(2)),
  };
}

/** `GET /readyz`'s status over a connection of its own, or the error that refused it. */
export async function readyz(port: number): Promise<number | string> {
  try {
    const answer = await RawClient.open(port, [["Host", "localhost"], ["Connection", "close"]], {
      path: "/readyz",
    });
    answer.destroy();
    return answer.response.status;
  } catch (error) {
    return String((error as { code?: string }).code ?? error);
  }
}
