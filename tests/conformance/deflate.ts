/**
 * The client's half of permessage-deflate (RFC 7692), on `node:zlib`: parsing the negotiated
 * parameters, and compressing and inflating messages with the agreed window bits and context
 * takeover. Streams are kept across messages unless a `*_no_context_takeover` says otherwise.
 *
 * @module
 */
import { constants, createDeflateRaw, createInflateRaw, deflateRawSync } from "node:zlib";

/** The 4 octets a sync flush ends with, removed from each message on the wire (RFC 7692 §7.2.1). */
export const TAIL: Uint8Array = new Uint8Array([0x00, 0x00, 0xff, 0xff]);

/** The parameters of a permessage-deflate response (RFC 7692 §7). */
export interface DeflateParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number;
  clientMaxWindowBits: number;
}

/**
 * Parses the server's `Sec-WebSocket-Extensions` response. Returns `undefined` when the server
 * declined, and throws when the response is one a client must fail the connection for (§7.1).
 */
export function parseResponse(header: string | undefined, options: { offeredClientBits: boolean }):
  | DeflateParams
  | undefined {
  if (header === undefined || header.trim() === "") return undefined;
  const extensions = header.split(",").map((e) => e.trim());
  if (extensions.length !== 1) throw new Error(`more than one extension accepted: ${header}`);
  const [name, ...params] = extensions[0].split(";").map((p) => p.trim());
  if (name !== "permessage-deflate") throw new Error(`unoffered extension ${name}`);
  const result: DeflateParams = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: 15,
    clientMaxWindowBits: 15,
  };
  const seen = new Set<string>();
  for (const param of params) {
    const [key, raw] = param.split("=").map((s) => s.trim());
    if (seen.has(key)) throw new Error(`duplicate parameter ${key}`);
    seen.add(key);
    const value = raw?.replace(/^"(.*)"$/, "$1");
    if (key === "server_no_context_takeover" && value === undefined) result.serverNoContextTakeover = true;
    else if (key === "client_no_context_takeover" && value === undefined) {
      result.clientNoContextTakeover = true;
    } else if (key === "server_max_window_bits" && /^(8|9|1[0-5])$/.test(value ?? "")) {
      result.serverMaxWindowBits = Number(value);
    } else if (key === "client_max_window_bits" && /^(8|9|1[0-5])$/.test(value ?? "")) {
      if (!options.offeredClientBits) throw new Error("client_max_window_bits answered but not offered");
      result.clientMaxWindowBits = Number(value);
    } else throw new Error(`invalid parameter ${param}`);
  }
  return result;
}

/** Runs one zlib stream message by message, flushing with Z_SYNC_FLUSH after each. */
class Flusher {
  #stream: ReturnType<typeof createDeflateRaw> | ReturnType<typeof createInflateRaw>;
  #chunks: Uint8Array[] = [];
  #error: Error | undefined;

  constructor(stream: ReturnType<typeof createDeflateRaw> | ReturnType<typeof createInflateRaw>) {
    this.#stream = stream;
    stream.on("data", (chunk: Uint8Array) => this.#chunks.push(chunk));
    stream.on("error", (error: Error) => this.#error = error);
  }

  run(input: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      this.#stream.write(input);
      this.#stream.flush(constants.Z_SYNC_FLUSH, () => {
        if (this.#error) return reject(this.#error);
        resolve(new Uint8Array(Buffer.concat(this.#chunks.splice(0))));
      });
    });
  }

  close(): void {
    this.#stream.close();
  }
}

/** One connection's compressor (client → server) and decompressor (server → client). */
export class DeflateCodec {
  readonly params: DeflateParams;
  #deflater: Flusher | undefined;
  #inflater: Flusher | undefined;

  constructor(params: DeflateParams) {
    this.params = params;
  }

  /** Compresses one message and removes the trailing 00 00 ff ff (RFC 7692 §7.2.1). */
  async compress(data: Uint8Array): Promise<Uint8Array> {
    // zlib cannot write an 8-bit raw window (it would use 9), so 8 is only ever offered, not used.
    const windowBits = Math.max(9, this.params.clientMaxWindowBits);
    const deflater = this.#deflater ?? new Flusher(createDeflateRaw({ windowBits }));
    const out = await deflater.run(data);
    if (this.params.clientNoContextTakeover) deflater.close();
    else this.#deflater = deflater;
    return stripTail(out);
  }

  /** Inflates one message received with RSV1 set (RFC 7692 §7.2.2). */
  async decompress(data: Uint8Array): Promise<Uint8Array> {
    const inflater = this.#inflater ?? new Flusher(createInflateRaw({ windowBits: 15 }));
    const out = await inflater.run(Buffer.concat([data, TAIL]));
    if (this.params.serverNoContextTakeover) inflater.close();
    else this.#inflater = inflater;
    return out;
  }

  /** Releases the zlib streams. */
  close(): void {
    this.#deflater?.close();
    this.#inflater?.close();
  }
}

/** Removes the sync-flush tail; throws if it is missing. */
export function stripTail(data: Uint8Array): Uint8Array {
  const at = data.length - 4;
  if (at < 0 || !TAIL.every((byte, i) => data[at + i] === byte)) throw new Error("no sync-flush tail");
  return data.subarray(0, at);
}

/** A message compressed on its own (no history), ready for the wire. */
export function compressAlone(data: Uint8Array, options: { windowBits?: number } = {}): Uint8Array {
  return stripTail(
    deflateRawSync(data, { windowBits: options.windowBits ?? 15, finishFlush: constants.Z_SYNC_FLUSH }),
  );
}

/**
 * A decompression bomb: `mebibytes` MiB of zeros as one compressed payload of about 1 KiB per
 * MiB, built by repeating one flushed, history-free block of 1 MiB of zeros.
 */
export function zeroBomb(mebibytes: number): Uint8Array {
  // Each block keeps its flush tail (an empty stored block) so the next one starts byte-aligned.
  const block = deflateRawSync(new Uint8Array(1 << 20), { finishFlush: constants.Z_SYNC_FLUSH });
  const out = new Uint8Array(block.length * mebibytes);
  for (let i = 0; i < mebibytes; i++) out.set(block, i * block.length);
  return stripTail(out);
}
