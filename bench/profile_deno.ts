/**
 * Where Echo on Deno spends its JavaScript time under the 32-byte text load or the handshake load:
 * `bun run bench/profile_deno.ts [--workload text|handshakes] [--deflate] [--script bench/bare_deno.ts]`. Deno has no `--cpu-prof`, so this
 * starts `deno run --inspect main.ts`, samples it through the DevTools protocol (`Profiler.start`
 * once Echo listens, `Profiler.stop` after the load), kills it and prints the report of
 * `bench/profile_report.ts`.
 */
import { ROOT } from "../tests/support/server.ts";
import { type CpuProfile, profileEcho, SAMPLING_MICROSECONDS } from "./profile_report.ts";

type Params = Record<string, unknown>;

/** A DevTools protocol session: `send` resolves with the command's result, `on` hears an event. */
interface Inspector {
  send(method: string, params?: Params): Promise<unknown>;
  on(event: string, listener: (params: Params) => void): void;
  close(): void;
}

async function inspect(url: string): Promise<Inspector> {
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = () => reject(new Error(`cannot connect to the inspector at ${url}`));
  });
  const calls = new Map<
    number,
    { method: string; resolve(result: unknown): void; reject(error: Error): void }
  >();
  const listeners = new Map<string, (params: Params) => void>();
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.method) return listeners.get(message.method)?.(message.params);
    const call = calls.get(message.id)!;
    calls.delete(message.id);
    if (message.error) call.reject(new Error(`${call.method}: ${message.error.message}`));
    else call.resolve(message.result);
  };
  let id = 0;
  return {
    send: (method, params = {}) =>
      new Promise((resolve, reject) => {
        calls.set(++id, { method, resolve, reject });
        socket.send(JSON.stringify({ id, method, params }));
      }),
    on: (event, listener) => listeners.set(event, listener),
    close: () => socket.close(),
  };
}

/**
 * V8 labels `(idle)` the samples taken while Deno's thread is outside JavaScript, in its Rust event
 * loop: waiting, but also doing socket I/O (in one text-load run the main thread used 68% of a core
 * while 34% of the samples were not idle). Bun's profiles have no such samples, so dropping them
 * makes both reports' percentages shares of the time spent in JavaScript and the natives it calls.
 */
function withoutIdle(profile: CpuProfile): CpuProfile {
  const idle = new Set(
    profile.nodes.filter((node) => node.callFrame.functionName === "(idle)").map((node) => node.id),
  );
  return { ...profile, samples: profile.samples.filter((id) => !idle.has(id)) };
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * A source map's `mappings`, decoded to: for each generated line, its segments as
 * [generated column, original line], in column order (Source Map v3: base64 VLQ fields, the
 * column relative to the line's previous segment, the original line to the previous segment).
 */
function decodeMappings(mappings: string): Array<Array<[number, number]>> {
  let line = 0;
  return mappings.split(";").map((generated) => {
    let column = 0;
    const segments: Array<[number, number]> = [];
    for (const segment of generated.split(",").filter(Boolean)) {
      const fields: number[] = [];
      let value = 0;
      let shift = 0;
      for (const char of segment) {
        const digit = BASE64.indexOf(char);
        value += (digit & 31) << shift;
        shift += 5;
        if (digit & 32) continue;
        fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
        value = 0;
        shift = 0;
      }
      column += fields[0];
      if (fields.length < 4) continue;
      line += fields[2];
      segments.push([column, line]);
    }
    return segments;
  });
}

/**
 * The profile with Echo's positions moved from the JavaScript Deno emitted back to the TypeScript
 * lines, through the inline source maps V8 announces (again, for every loaded script) when the
 * debugger is enabled.
 */
async function withSourceLines(inspector: Inspector, profile: CpuProfile): Promise<CpuProfile> {
  const maps = new Map<string, string>();
  inspector.on("Debugger.scriptParsed", ({ scriptId, url, sourceMapURL }) => {
    if (String(url).startsWith("file:") && String(sourceMapURL).startsWith("data:")) {
      maps.set(String(scriptId), String(sourceMapURL));
    }
  });
  await inspector.send("Debugger.enable");
  const lines = new Map<string, Array<Array<[number, number]>>>();
  for (const [scriptId, map] of maps) {
    lines.set(scriptId, decodeMappings((await (await fetch(map)).json()).mappings));
  }
  const nodes = profile.nodes.map((node) => {
    const { scriptId, lineNumber, columnNumber } = node.callFrame;
    const segments = lines.get(scriptId)?.[lineNumber] ?? [];
    const segment = segments.filter(([column]) => column <= columnNumber).at(-1) ?? segments[0];
    return segment ? { ...node, callFrame: { ...node.callFrame, lineNumber: segment[1] } } : node;
  });
  return { ...profile, nodes };
}

/** The inspector session, from `start` to `finish`. */
let inspector: Inspector;
const args = process.argv.slice(2);
// `--script bench/bare_deno.ts` profiles the bare echo under the same load, for comparison.
const script = args.includes("--script") ? args[args.indexOf("--script") + 1] : "main.ts";

await profileEcho({
  command: [
    `${ROOT}node_modules/.bin/deno`,
    "run",
    "--inspect=127.0.0.1:0",
    "--allow-net",
    "--allow-env",
    script,
  ],
  async start(echo) {
    // Deno prints the inspector's address before it runs main.ts.
    const [, url] = await echo.stderr(/Debugger listening on (ws:\/\/\S+)/);
    inspector = await inspect(url);
    await inspector.send("Profiler.enable");
    await inspector.send("Profiler.setSamplingInterval", { interval: SAMPLING_MICROSECONDS });
    await inspector.send("Profiler.start");
  },
  async finish() {
    const { profile } = await inspector.send("Profiler.stop") as { profile: CpuProfile };
    const mapped = await withSourceLines(inspector, withoutIdle(profile));
    inspector.close();
    return mapped;
  },
}, args);
