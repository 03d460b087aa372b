/**
 * The load generator: raw TCP WebSocket clients on `Bun.connect`, and the one-frame-per-echo load in C
 * (`bench/pump.c`). Every frame either sends is built and masked once, before the clock starts; what
 * comes back is counted, never copied or unmasked, so the client does far less work per message than
 * any server it drives.
 *
 * @module
 */
import type { Socket, SocketHandler } from "bun";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** A workload's client side, connected and idle until `resume`. */
export interface Load {
  /** Starts (or starts again) driving the server. */
  resume(): void;
  /** Stops starting new work and resolves once what was in flight has come back. */
  pause(): Promise<void>;
  /** Units completed so far: echoes, or closing handshakes. */
  completed(): number;
  /** The client's process when it is not this one (the pump), for its CPU use. */
  clientPid?: number;
}

/** CPU use over a window, as a fraction of one core. */
export interface CpuUse {
  client: number;
  server: number;
}

/**
 * Completed units per second over a window, the CPU the client and the server used meanwhile, and the
 * server's resident memory (`VmRSS`, bytes) at the window's end.
 */
export interface Measured {
  perSecond: number;
  cpu: CpuUse;
  rss: number;
  /** `RssAnon` at the window's end, bytes. */
  anon: number;
}

/** CPU seconds (user + system, all threads) a process has used, from /proc (Linux). */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ (100 on Linux)
}

/**
 * Measures a running load over consecutive windows of `windowMs`, without pausing between them, and
 * returns each window's figures: a server that slows down with traffic shows it window by window.
 */
export async function measureWindows(
  load: Load,
  pid: number,
  options: { windowMs: number; windows: number },
): Promise<Measured[]> {
  const measured: Measured[] = [];
  let units = load.completed();
  let at = performance.now();
  const clientSeconds = () => {
    if (load.clientPid !== undefined) return processCpuSeconds(load.clientPid);
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1e6;
  };
  let client = clientSeconds();
  let server = processCpuSeconds(pid);
  for (let k = 0; k < options.windows; k++) {
    await sleep(options.windowMs);
    const [nowUnits, now, nowClient, nowServer] = [
      load.completed(),
      performance.now(),
      clientSeconds(),
      processCpuSeconds(pid),
    ];
    const seconds = (now - at) / 1000;
    const { rss, anon } = residentBytes(pid);
    measured.push({
      perSecond: (nowUnits - units) / seconds,
      cpu: { client: (nowClient - client) / seconds, server: (nowServer - server) / seconds },
      rss,
      anon,
    });
    [units, at, client, server] = [nowUnits, now, nowClient, nowServer];
  }
  return measured;
}

/** How long a pause may wait for what is in flight before the server counts as stuck. */
const PAUSE_TIMEOUT_MS = 10_000;

/**
 * Runs `load` on the server `pid` for a warm-up, then measures it in windows, and pauses it again;
 * throws if what was in flight does not come back.
 */
export async function drive(
  load: Load,
  pid: number,
  options: { warmupMs: number; windowMs: number; windows: number },
): Promise<Measured[]> {
  load.resume();
  try {
    await sleep(options.warmupMs);
    return await measureWindows(load, pid, options);
  } finally {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stuck = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`in-flight work not back after ${PAUSE_TIMEOUT_MS} ms`)),
        PAUSE_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([load.pause(), stuck]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Where to connect, and whether to offer permessage-deflate. */
export interface Target {
  port: number;
  deflate: boolean;
}

/** How long the latency workload warms up and then measures. */
export interface Timing {
  warmupMs: number;
  measureMs: number;
}

const MASK = [0x37, 0xfa, 0x21, 0x3d];

/** One masked client frame (RFC 6455 §5.2), built once and sent many times. */
export function maskedFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const n = payload.length;
  const extended = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const out = new Uint8Array(6 + extended + n);
  out[0] = 0x80 | opcode;
  out[1] = 0x80 | (extended === 0 ? n : extended === 2 ? 126 : 127);
  const view = new DataView(out.buffer);
  if (extended === 2) view.setUint16(2, n);
  if (extended === 8) view.setBigUint64(2, BigInt(n));
  const start = 2 + extended;
  out.set(MASK, start);
  for (let i = 0; i < n; i++) out[start + 4 + i] = payload[i] ^ MASK[i & 3];
  return out;
}

/** Incompressible bytes, the same every run (binary payloads are usually compressed already). */
export function pseudoRandom(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let x = 0x9e3779b9;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

/** Counts the server's frames in a byte stream without copying their payloads. */
export class FrameCounter {
  /** Payload bytes of all completed frames, to check the echo kept every message's size. */
  payloadBytes = 0;
  #skip = 0;
  #length = 0;
  #carry: Uint8Array | null = null;

  /** Consumes a chunk; returns how many frames it completed. */
  push(input: Uint8Array): number {
    let chunk = input;
    if (this.#carry) {
      chunk = new Uint8Array(this.#carry.length + input.length);
      chunk.set(this.#carry);
      chunk.set(input, this.#carry.length);
      this.#carry = null;
    }
    let done = 0;
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.#skip > 0) {
        const take = Math.min(this.#skip, n - i);
        this.#skip -= take;
        i += take;
        if (this.#skip === 0) {
          done++;
          this.payloadBytes += this.#length;
        }
        continue;
      }
      if (n - i < 2) break;
      const short = chunk[i + 1] & 0x7f;
      const header = short < 126 ? 2 : short === 126 ? 4 : 10;
      if (n - i < header) break;
      let length = short;
      if (short === 126) length = (chunk[i + 2] << 8) | chunk[i + 3];
      else if (short === 127) length = (chunk[i + 6] * 2 ** 24) + (chunk[i + 7] << 16) + (chunk[i + 8] << 8) + chunk[i + 9];
      i += header;
      if (length === 0) done++;
      this.#skip = length;
      this.#length = length;
    }
    if (i < n) this.#carry = chunk.slice(i);
    return done;
  }
}

/** What a workload does when a connection opens and when echoes come back. */
interface Behaviour {
  open(conn: Conn): void;
  frames(conn: Conn, count: number): void;
  closed?(conn: Conn): void;
}

const HEAD_END = "\r\n\r\n";
const LATIN1 = new TextDecoder("latin1");

/** One client connection: handshake, write queue, frame counting. */
class Conn {
  socket!: Socket<Conn>;
  /** Whether the 101 carried permessage-deflate. */
  deflate = false;
  readonly counter = new FrameCounter();
  readonly ready: Promise<void>;
  readonly gone: Promise<void>;
  #head = "";
  #upgraded = false;
  #queue: Uint8Array[] = [];
  #resolveReady!: () => void;
  #rejectReady!: (error: Error) => void;
  #resolveGone!: () => void;

  constructor(readonly behaviour: Behaviour) {
    this.ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.gone = new Promise((resolve) => this.#resolveGone = resolve);
  }

  write(bytes: Uint8Array): void {
    if (this.#queue.length > 0) {
      this.#queue.push(bytes);
      return;
    }
    const written = this.socket.write(bytes);
    if (written < bytes.length) this.#queue.push(bytes.subarray(Math.max(written, 0)));
  }

  drain(): void {
    while (this.#queue.length > 0) {
      const bytes = this.#queue[0];
      const written = this.socket.write(bytes);
      if (written < bytes.length) {
        this.#queue[0] = bytes.subarray(Math.max(written, 0));
        return;
      }
      this.#queue.shift();
    }
  }

  receive(chunk: Uint8Array): void {
    if (this.#upgraded) {
      const count = this.counter.push(chunk);
      if (count > 0) this.behaviour.frames(this, count);
      return;
    }
    this.#head += LATIN1.decode(chunk);
    const end = this.#head.indexOf(HEAD_END);
    if (end < 0) return;
    const head = this.#head.slice(0, end);
    if (!head.startsWith("HTTP/1.1 101")) {
      this.#rejectReady(new Error(`upgrade refused: ${head.split("\r\n")[0]}`));
      this.socket.terminate();
      return;
    }
    this.#upgraded = true;
    this.deflate = head.includes("permessage-deflate") &&
      /^sec-websocket-extensions:.*permessage-deflate/im.test(head);
    this.#resolveReady();
    this.behaviour.open(this);
    // Latin-1 maps bytes to characters one to one, so what follows the head is the chunk's tail.
    const rest = this.#head.length - end - HEAD_END.length;
    if (rest > 0) this.receive(chunk.subarray(chunk.length - rest));
  }

  closed(error?: Error): void {
    this.#rejectReady(error ?? new Error("connection closed before the upgrade"));
    this.#resolveGone();
    this.behaviour.closed?.(this);
  }

  /** Waits for the server to close; ends the connection itself only after `ms`. */
  closeSoon(ms: number): void {
    const timer = setTimeout(() => this.socket.end(), ms);
    this.gone.then(() => clearTimeout(timer));
  }

  /** Ends the connection and waits (at most 2 s) for the server to let go. */
  async end(): Promise<void> {
    this.socket.end();
    const timer = setTimeout(() => this.socket.terminate(), 2000);
    await this.gone;
    clearTimeout(timer);
  }
}

const HANDLER: SocketHandler<Conn> = {
  open(socket) {
    socket.data.socket = socket;
  },
  data: (socket, chunk) => socket.data.receive(chunk),
  drain: (socket) => socket.data.drain(),
  close: (socket, error) => socket.data.closed(error),
  error: (socket, error) => socket.data.closed(error),
  connectError: (socket, error) => socket.data.closed(error),
};

function upgradeRequest(target: Target): Uint8Array {
  return new TextEncoder().encode(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1:${target.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n` +
      (target.deflate ? "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" : "") +
      "\r\n",
  );
}

/** Opens one connection; resolves once the server has answered 101. */
async function connect(target: Target, behaviour: Behaviour, request = upgradeRequest(target)): Promise<Conn> {
  const conn = new Conn(behaviour);
  const socket = await Bun.connect<Conn>({ hostname: "127.0.0.1", port: target.port, data: conn, socket: HANDLER });
  conn.socket = socket;
  socket.write(request);
  await conn.ready;
  return conn;
}

/** Opens `count` connections, at most `parallel` handshakes at a time. */
export async function connectMany(target: Target, count: number, behaviour: Behaviour, parallel = 100): Promise<Conn[]> {
  const conns: Conn[] = [];
  const request = upgradeRequest(target);
  let next = 0;
  async function worker() {
    while (next < count) {
      next++;
      conns.push(await connect(target, behaviour, request));
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  return conns;
}

/** What an idle connection does once open: nothing, and it expects nothing. */
const IDLE: Behaviour = { open() {}, frames() {} };

/** Opens `count` connections that stay idle until ended. */
export function connectIdle(target: Target, count: number): Promise<Conn[]> {
  return connectMany(target, count, IDLE);
}

/**
 * Opens and closes `count` connections, so that a reading after it already includes what a server
 * allocates once (compiled code, the first buffers).
 */
export async function warmUp(target: Target, count: number): Promise<void> {
  const warm = await connectIdle(target, count);
  await Promise.all(warm.map((conn) => conn.end()));
}

/** A process's resident memory in bytes, from /proc/<pid>/status (Linux). */
export interface Resident {
  /** `VmRSS`: every resident page, what `ps` and `top` show. */
  rss: number;
  /** `RssAnon`: the resident pages no file backs (heaps, stacks, buffers, compiled code). */
  anon: number;
  /**
   * `RssFile`: resident pages of mapped files, mostly the runtime's executable, shared with every other
   * process running it and paged in the first time a code path runs.
   */
  file: number;
}

/** How much of a process is resident. */
export function residentBytes(pid: number): Resident {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)![1]) * 1024;
  return { rss: field("VmRSS"), anon: field("RssAnon"), file: field("RssFile") };
}

/** Options for {@link openMessages}. */
export interface MessageOptions {
  connections: number;
  inflight: number;
  /** The message: a string goes as a text frame, bytes as binary. */
  message: string | Uint8Array;
}

/** What came back over a message load's life, checked when it ends. */
export interface MessageCheck {
  /** Whether the connections negotiated permessage-deflate. */
  deflate: boolean;
  /** Payload bytes the server sent per echo (less than the message when it compressed). */
  bytesPerEcho: number;
}

/** A message load: {@link Load} plus the end of its connections. */
export interface MessageLoad extends Load {
  /** Closes the connections; throws if an echo came back at another size (without deflate). */
  end(): Promise<MessageCheck>;
}

/**
 * Opens `connections` and, while resumed, keeps `inflight` messages outstanding on each: every echo
 * that returns is answered with the same pre-built frame, written together with the other answers to
 * the same chunk (one frame per echo is {@link openPump}).
 */
export async function openMessages(target: Target, options: MessageOptions): Promise<MessageLoad> {
  const payload = typeof options.message === "string" ? new TextEncoder().encode(options.message) : options.message;
  const frame = maskedFrame(typeof options.message === "string" ? 1 : 2, payload);
  const batch = new Uint8Array(frame.length * options.inflight);
  for (let i = 0; i < options.inflight; i++) batch.set(frame, i * frame.length);
  let running = false;
  let sent = 0;
  let counted = 0;
  let settled: (() => void) | undefined;
  const conns = await connectMany(target, options.connections, {
    open() {},
    frames(conn, count) {
      counted += count;
      if (running) {
        conn.write(batch.subarray(0, count * frame.length));
        sent += count;
      } else if (counted === sent && settled) {
        settled();
        settled = undefined;
      }
    },
  });
  return {
    resume() {
      running = true;
      for (const conn of conns) conn.write(batch);
      sent += conns.length * options.inflight;
    },
    pause() {
      running = false;
      return counted === sent ? Promise.resolve() : new Promise<void>((resolve) => settled = resolve);
    },
    completed: () => counted,
    async end() {
      running = false;
      await Promise.all(conns.map((conn) => conn.end()));
      const deflate = conns.every((conn) => conn.deflate);
      const received = conns.reduce((sum, conn) => sum + conn.counter.payloadBytes, 0);
      if (!deflate && received !== counted * payload.length) {
        throw new Error(`echoes changed size: ${received} bytes in ${counted} messages of ${payload.length}`);
      }
      return { deflate, bytesPerEcho: received / counted };
    },
  };
}

/** Result of the latency workload, in microseconds. */
export interface LatencyResult {
  p50: number;
  p99: number;
  samples: number;
}

/** One connection, one message in flight: round-trip times of a small text message. */
export async function latency(target: Target, options: Timing & { message: string }): Promise<LatencyResult> {
  const frame = maskedFrame(1, new TextEncoder().encode(options.message));
  const samples: number[] = [];
  let sentAt = 0;
  let recording = false;
  let running = true;
  const send = (conn: Conn) => {
    sentAt = performance.now();
    conn.write(frame);
  };
  const [conn] = await connectMany(target, 1, {
    open: send,
    frames(conn) {
      if (recording) samples.push(performance.now() - sentAt);
      if (running) send(conn);
    },
  });
  await sleep(options.warmupMs);
  recording = true;
  await sleep(options.measureMs);
  running = false;
  recording = false;
  await conn.end();
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] * 1000;
  return { p50: at(0.5), p99: at(0.99), samples: samples.length };
}

/** Close frame with status 1000, masked. */
const CLOSE = maskedFrame(8, new Uint8Array([0x03, 0xe8]));

/**
 * While resumed, `parallel` loops of: connect, upgrade, send close, receive the server's close, and
 * wait for the server to close TCP. Counts completed closing handshakes.
 */
export function openHandshakes(target: Target, options: { parallel: number }): Load {
  let running = false;
  let completed = 0;
  let failed: Error | undefined;
  let loops: Promise<void>[] = [];
  const request = upgradeRequest(target);
  const behaviour: Behaviour = {
    open: (conn) => conn.write(CLOSE),
    frames(conn) {
      completed++;
      // The server closes TCP first (RFC 6455 §7.1.1), so TIME_WAIT stays on its side and this
      // side's connect() does not wade through thousands of TIME_WAIT ports.
      conn.closeSoon(2000);
    },
  };
  async function loop() {
    while (running && !failed) {
      const conn = await connect(target, behaviour, request).catch((error) => failed = error);
      if (failed) return;
      await (conn as Conn).gone;
    }
  }
  return {
    resume() {
      running = true;
      loops = Array.from({ length: options.parallel }, loop);
    },
    async pause() {
      running = false;
      await Promise.all(loops);
      if (failed) throw failed;
    },
    completed: () => completed,
  };
}

/** Result of the idle-memory workload. */
export interface MemoryResult {
  /** Growth of the server's whole resident memory (`VmRSS`) per idle connection, in bytes. */
  rssPerConnection: number;
  /** The same without file-backed pages (`VmRSS` − `RssFile`): memory the process itself holds. */
  ownPerConnection: number;
  /** Growth of its anonymous resident memory (`RssAnon`) per idle connection, in bytes. */
  anonPerConnection: number;
  /** Growth of its file-backed resident pages (`RssFile`), in bytes: paged in once, not per connection. */
  fileBytes: number;
  connections: number;
  deflate: boolean;
}

/**
 * Server memory with `connections` idle connections held, minus its memory before, per connection.
 * First as many connections are opened and closed, so that the "before" already includes what the
 * server allocates once (compiled code, the first buffers). Both readings come `settleMs` after the
 * connections opened (or closed), and, when `collect` is given, after a full garbage collection in the
 * server (`run.ts`, `collectGarbage`). Without it the figure is what the process holds as a user runs
 * it: what the connections keep plus the handshakes' garbage not yet collected.
 *
 * `VmRSS` also counts pages of the runtime's executable that the window ran for the first time: Bun
 * 1.4.5 maps ~2.5 MB of JavaScriptCore's optimizing compilers once a handler gets hot, a few thousand
 * upgrades into a process's life, Echo's or the bare echo's alike (docs/benchmarks.md, "Idle memory").
 * That is why `ownPerConnection` leaves file-backed pages out and `fileBytes` reports them apart.
 */
export async function idleMemory(
  target: Target,
  pid: number,
  options: { connections: number; settleMs: number; collect?: () => Promise<void> },
): Promise<MemoryResult> {
  const settle = async () => {
    await options.collect?.();
    await sleep(options.settleMs);
  };
  await warmUp(target, options.connections);
  await settle();
  const before = residentBytes(pid);
  const conns = await connectIdle(target, options.connections);
  await settle();
  const after = residentBytes(pid);
  const deflate = conns.every((conn) => conn.deflate);
  await Promise.all(conns.map((conn) => conn.end()));
  const { connections } = options;
  return {
    rssPerConnection: (after.rss - before.rss) / connections,
    ownPerConnection: (after.rss - after.file - before.rss + before.file) / connections,
    anonPerConnection: (after.anon - before.anon) / connections,
    fileBytes: after.file - before.file,
    connections,
    deflate,
  };
}

// The one-frame-per-echo load: bench/pump.c, compiled with the machine's C compiler on first use and
// driven over its stdin. A JavaScript client writing one frame per echo spends a core before the server
// does (~125,000 echoes/s here), so this load runs in C, where the server is the busy side
// (docs/benchmarks.md, "The one-frame-per-echo client").

const SOURCE = new URL("./pump.c", import.meta.url).pathname;
let built: string | undefined;

/** Compiles the pump once per process; a missing compiler is named in the error. */
function pumpBinary(): string {
  if (built) return built;
  const output = join(mkdtempSync(join(tmpdir(), "echo-pump-")), "pump");
  try {
    execFileSync("cc", ["-O2", "-o", output, SOURCE], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (error) {
    throw new Error(
      `cannot build bench/pump.c with cc (install gcc): ${(error as Error).message.split("\n")[0]}`,
    );
  }
  return built = output;
}

/**
 * Reads the pump's stdout line by line; a line asked for after the pump exited is an error that
 * carries what the pump printed on stderr.
 */
function lines(child: ChildProcess): () => Promise<string> {
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => stderr += chunk);
  const queued: string[] = [];
  const waiting: Array<{ resolve(line: string): void; reject(error: Error): void }> = [];
  let exited: Error | undefined;
  let rest = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    for (const line of parts) waiting.length > 0 ? waiting.shift()!.resolve(line) : queued.push(line);
  });
  child.once("exit", (code) => {
    exited = new Error(`the pump exited (${code}): ${stderr.trim()}`);
    for (const waiter of waiting.splice(0)) waiter.reject(exited);
  });
  return () =>
    new Promise((resolve, reject) => {
      if (queued.length > 0) resolve(queued.shift()!);
      else if (exited) reject(exited);
      else waiting.push({ resolve, reject });
    });
}

/**
 * Opens `connections` from the pump, each keeping `inflight` text messages outstanding while resumed,
 * answering each echo with one write of one frame. `clientPid` is the pump, whose CPU the windows read.
 */
export async function openPump(
  target: Target,
  options: MessageOptions,
): Promise<MessageLoad & { clientPid: number }> {
  if (target.deflate) throw new Error("the pump does not offer permessage-deflate");
  const size = options.message.length;
  if (options.message !== "x".repeat(size)) throw new Error("the pump sends 'x' repeated, as text");
  const counter = join(mkdtempSync(join(tmpdir(), "echo-pump-")), "count");
  const args = [target.port, options.connections, options.inflight, size, "text", counter].map(String);
  const child = spawn(pumpBinary(), args, { stdio: ["pipe", "pipe", "pipe"] });
  const next = lines(child);
  const ready = await next();
  if (ready !== "ready") throw new Error(`the pump did not start: ${ready}`);
  const completed = () => Number(readFileSync(counter).readBigUInt64LE(0));
  return {
    clientPid: child.pid!,
    resume: () => void child.stdin!.write("r\n"),
    async pause() {
      child.stdin!.write("p\n");
      const line = await next();
      if (line !== "paused") throw new Error(`the pump answered ${line}`);
    },
    completed,
    async end() {
      child.stdin!.write("q\n");
      const bytes = Number((await next()).split(" ")[1]);
      const echoes = completed();
      if (bytes !== echoes * size) {
        throw new Error(`echoes changed size: ${bytes} bytes in ${echoes} messages of ${size}`);
      }
      return { deflate: false, bytesPerEcho: size };
    },
  };
}
