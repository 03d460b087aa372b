/**
 * One conformance connection: a raw TCP client that scripts frames at the server and turns
 * what comes back into a trace — a list of short strings such as `text "abc"`, `pong 6869`,
 * `close 1002`, `eof` — which the cases compare with the traces the RFCs allow.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { encodeFrame, type Frame, type FrameSpec, handshakeHeaders, OP, RawClient } from "../support/raw.ts";
import { compressAlone, DeflateCodec, parseResponse } from "./deflate.ts";

/** What a case observed, event by event. */
export type Trace = string[];

/** The event the harness writes when it starts the closing handshake itself. */
export const CLIENT_CLOSE = "→close";

const decoder = new TextDecoder("utf-8", { fatal: true });

/** Short, exact rendering of a payload: small ones in full, large ones by length and digest. */
export function describe(kind: "text" | "binary" | "pong", payload: Uint8Array): string {
  if (kind === "text") {
    let text: string;
    try {
      text = decoder.decode(payload);
    } catch {
      return `text with invalid UTF-8 (${hex(payload.subarray(0, 16))})`;
    }
    if (payload.length <= 40) return `text ${JSON.stringify(text)}`;
  } else if (payload.length <= 16) return `${kind} ${hex(payload) || "(empty)"}`;
  return `${kind} ${payload.length}B sha1:${createHash("sha1").update(payload).digest("hex").slice(0, 12)}`;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The trace event for a close frame received with `code` (none: an empty close frame):
 * `close` when it answers the client's close, `failed` when the server sent it first.
 */
export function closeEvent(code?: number, options: { first?: boolean } = {}): string {
  const word = options.first ? "failed" : "close";
  return code === undefined ? word : `${word} ${code}`;
}

const VALID_CLOSE = (code: number) =>
  (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
  (code >= 3000 && code <= 4999);

/** True when a close frame the client sends is a valid one (RFC 6455 §5.5, §5.5.1, §7.4). */
function validClose(frame: FrameSpec, options: { mask?: boolean }): boolean {
  const payload = typeof frame.payload === "string" ? new TextEncoder().encode(frame.payload) : frame.payload;
  const bytes = payload ?? new Uint8Array();
  if (options.mask === false || frame.fin === false || frame.rsv1 || frame.rsv2 || frame.rsv3) return false;
  if (bytes.length === 1 || bytes.length > 125) return false;
  if (bytes.length === 0) return true;
  if (!VALID_CLOSE((bytes[0] << 8) | bytes[1])) return false;
  try {
    decoder.decode(bytes.subarray(2));
    return true;
  } catch {
    return false;
  }
}

/** Options for opening a {@link Wire}. */
export interface OpenOptions {
  /** A `Sec-WebSocket-Extensions` offer. */
  offer?: string;
  /** The whole header list, instead of a fresh valid handshake. */
  headers?: ReadonlyArray<readonly [string, string]>;
  method?: string;
  path?: string;
}

/** A scripted raw connection that records the server's side as a trace. */
export class Wire {
  readonly client: RawClient;
  readonly codec: DeflateCodec | undefined;
  readonly events: Trace = [];
  /** True once a close frame has been written by this side. */
  sentClose = false;
  /** True once the server's close frame or the end of TCP has been seen. */
  closing = false;
  ended = false;
  /** The client's close frame was itself a protocol error, so the server's close is a failure. */
  #sentBadClose = false;
  #listeners: Array<() => void> = [];
  #message: { kind: "text" | "binary"; parts: Uint8Array[]; compressed: boolean } | undefined;
  #pump: Promise<void>;

  private constructor(client: RawClient, codec: DeflateCodec | undefined) {
    this.client = client;
    this.codec = codec;
    client.socket.setNoDelay(true);
    this.#pump = this.#run();
  }

  /**
   * Opens a connection. A refused handshake or an invalid extension response yields the event
   * that says so in `failure` instead of a wire.
   */
  static async open(port: number, options: OpenOptions = {}): Promise<{ wire?: Wire; failure?: string }> {
    const headers = options.headers ??
      handshakeHeaders(options.offer ? { "Sec-WebSocket-Extensions": options.offer } : {});
    const client = await RawClient.open(port, headers, options);
    if (client.response.status !== 101) {
      client.destroy();
      return { failure: `http ${client.response.status}` };
    }
    return Wire.over(client, options);
  }

  /** Continues a connection whose 101 has arrived, with the codec its response negotiated. */
  static over(client: RawClient, options: OpenOptions = {}): { wire?: Wire; failure?: string } {
    let codec: DeflateCodec | undefined;
    try {
      const params = parseResponse(client.response.headers.get("sec-websocket-extensions"), {
        offeredClientBits: /client_max_window_bits/.test(options.offer ?? ""),
      });
      if (params) codec = new DeflateCodec(params);
    } catch (error) {
      client.destroy();
      return { failure: `invalid extension response: ${(error as Error).message}` };
    }
    return { wire: new Wire(client, codec) };
  }

  /** Writes one frame (masked unless asked otherwise). */
  send(frame: FrameSpec, options: { mask?: boolean } = {}): void {
    if (frame.opcode === OP.CLOSE && !this.sentClose) {
      this.sentClose = true;
      this.#sentBadClose = !validClose(frame, options);
    }
    this.client.write(encodeFrame(frame, options));
  }

  /** Writes bytes as they are. */
  write(bytes: Uint8Array): void {
    this.client.write(bytes);
  }

  /** Writes `bytes` in pieces of `size`, yielding to the event loop between pieces. */
  async chop(bytes: Uint8Array, size: number): Promise<void> {
    for (let i = 0; i < bytes.length; i += size) {
      this.client.write(bytes.subarray(i, i + size));
      await sleep(0);
    }
  }

  /**
   * Sends one message, optionally compressed (RSV1 on the first frame) and split into
   * `fragments` frames. Without a negotiated codec, "compressed" still sets RSV1 on a
   * history-free DEFLATE payload: that is what a server that declined must refuse.
   */
  async message(
    opcode: number,
    payload: Uint8Array | string,
    options: { compress?: boolean; fragments?: number } = {},
  ): Promise<void> {
    let bytes = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
    if (options.compress) bytes = this.codec ? await this.codec.compress(bytes) : compressAlone(bytes);
    const count = Math.max(1, options.fragments ?? 1);
    const size = Math.ceil(bytes.length / count);
    for (let i = 0; i < count; i++) {
      this.send({
        opcode: i === 0 ? opcode : OP.CONT,
        fin: i === count - 1,
        rsv1: i === 0 && !!options.compress,
        payload: bytes.subarray(i * size, (i + 1) * size),
      });
    }
  }

  /** Adds a marker to the trace (e.g. to show whether the server failed before a later step). */
  mark(label: string): void {
    this.#push(`mark ${label}`);
  }

  /** Waits up to `ms` for the server to close; true if it did. */
  async settle(ms: number): Promise<boolean> {
    await this.until(() => this.closing, ms);
    return this.closing;
  }

  /** Resolves when `condition` holds (checked after each event) or after `ms`. */
  until(condition: () => boolean, ms: number): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const check = () => {
        if (condition()) done();
      };
      this.#listeners.push(check);
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  /**
   * Ends the case: waits for `expected` events (or the server's close), starts the closing
   * handshake if nobody has, and waits for the server to end TCP (RFC 6455 §7.1.1).
   */
  async finish(options: { expected: number; serverCloses: boolean; timeoutMs: number }): Promise<Trace> {
    const content = () => this.events.filter((e) => !e.startsWith("mark ")).length;
    await this.until(() => this.closing || content() >= options.expected, options.timeoutMs);
    if (options.serverCloses && !this.closing) await this.settle(3_000);
    if (!this.closing && !this.sentClose) {
      this.#push(CLIENT_CLOSE);
      this.send({ opcode: OP.CLOSE, payload: new Uint8Array([0x03, 0xe8]) });
    }
    await this.until(() => this.ended, 10_000);
    if (!this.ended) this.#push("tcp still open");
    this.client.destroy();
    await this.#pump;
    this.codec?.close();
    return this.events;
  }

  #push(event: string): void {
    this.events.push(event);
    for (const listener of this.#listeners.slice()) listener();
  }

  async #run(): Promise<void> {
    for (;;) {
      let frame: Frame | undefined;
      try {
        frame = await this.client.next(3_600_000);
      } catch {
        frame = undefined;
      }
      if (!frame) {
        this.ended = this.closing = true;
        return this.#push("eof");
      }
      try {
        await this.#frame(frame);
      } catch (error) {
        this.#push(`violation: ${(error as Error).message}`);
      }
    }
  }

  async #frame(frame: Frame): Promise<void> {
    if (frame.masked) throw new Error("server frame is masked (RFC 6455 §5.1)");
    if (frame.rsv2 || frame.rsv3) throw new Error("RSV2/RSV3 set by the server");
    const control = frame.opcode >= 8;
    if (control && (!frame.fin || frame.payload.length > 125)) throw new Error("invalid control frame");
    if (control && frame.rsv1) throw new Error("RSV1 on a control frame");
    if (frame.opcode === OP.PING) return this.#push(`ping ${hex(frame.payload)}`);
    if (frame.opcode === OP.PONG) return this.#push(describe("pong", frame.payload));
    if (frame.opcode === OP.CLOSE) return this.#close(frame.payload);
    if (frame.opcode === OP.TEXT || frame.opcode === OP.BINARY) {
      if (this.#message) throw new Error("new message before the previous one ended");
      if (frame.rsv1 && !this.codec) throw new Error("RSV1 without a negotiated extension");
      this.#message = {
        kind: frame.opcode === OP.TEXT ? "text" : "binary",
        parts: [],
        compressed: frame.rsv1,
      };
    } else if (frame.opcode === OP.CONT) {
      if (!this.#message) throw new Error("continuation without a message");
      if (frame.rsv1) throw new Error("RSV1 on a continuation frame");
    } else throw new Error(`reserved opcode ${frame.opcode}`);
    this.#message.parts.push(frame.payload);
    if (!frame.fin) return;
    const { kind, parts, compressed } = this.#message;
    this.#message = undefined;
    let payload: Uint8Array = new Uint8Array(Buffer.concat(parts));
    if (compressed) payload = await this.codec!.decompress(payload);
    this.#push(describe(kind, payload));
  }

  #close(payload: Uint8Array): void {
    if (this.closing) return this.#push("second close frame");
    this.closing = true;
    if (payload.length === 1) return this.#push("close with a 1-byte payload");
    const code = payload.length >= 2 ? (payload[0] << 8) | payload[1] : undefined;
    if (code !== undefined && !VALID_CLOSE(code)) return this.#push(`close with invalid code ${code}`);
    try {
      decoder.decode(payload.subarray(2));
    } catch {
      return this.#push(`close ${code} with an invalid UTF-8 reason`);
    }
    this.#push(closeEvent(code, { first: !this.sentClose || this.#sentBadClose }));
    if (!this.sentClose) this.send({ opcode: OP.CLOSE, payload: payload.subarray(0, 2) });
  }
}
