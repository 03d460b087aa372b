/**
 * What `GET /info` costs, and what it costs everyone else: run `bun run bench/info_load.ts`
 * (`--quick` for fewer live counts and shorter rounds). For each entry it
 *
 * 1. holds 100, 1,000, 3,000 and 10,000 idle connections and times sequential `GET /info` (spaced
 *    by the pace, `INFO_PACE_MS`, so that none waits for its turn) and `GET /info?tag=` (answer size,
 *    median and p99 as the client sees them), to show the cost does not grow with the live count;
 * 2. at 3,000 idle connections, measures one active client's echo round trip (one 32-byte text
 *    message at a time) with and without 20 clients fetching `/info` in a loop, in alternating
 *    rounds; the fetchers run in a child process so that they do not slow the measuring client.
 *
 * Results and the method are in docs/info.md ("Cost").
 *
 * @module
 */
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { INFO_PACE_MS } from "../lib/context.ts";
import { handshakeHeaders, OP, RawClient } from "../tests/support/raw.ts";
import { ENTRIES, type RunningServer, startServer } from "../tests/support/server.ts";

const FETCHERS = 20;

if (process.argv[2] === "--fetch") await fetchLoop(process.argv[3], Number(process.argv[4]));
else await main(process.argv.includes("--quick"));

async function main(quick: boolean): Promise<void> {
  const counts = quick ? [100, 3000] : [100, 1000, 3000, 10_000];
  const rounds = quick ? 2 : 4;
  const roundMs = quick ? 2000 : 4000;
  const costRows: string[] = [];
  const echoRows: string[] = [];
  for (const entry of ENTRIES) {
    // Quiet logs: 10,000 opens would otherwise be 10,000 lines for this process to read; no idle
    // timeout: the idle connections do not answer pings.
    const server = await startServer(entry, {
      env: { LOG_LEVEL: "warn", MAX_CONNECTIONS: "12000", IDLE_TIMEOUT_SECONDS: "0" },
    });
    const idle: RawClient[] = [];
    try {
      for (const count of counts) {
        await openIdle(server, idle, count);
        const all = await timeInfo(server, "/info", quick ? 40 : 100, INFO_PACE_MS + 5);
        const tag = await timeInfo(server, `/info?tag=idle-${Math.floor(count / 2)}`, 300, 0);
        costRows.push(
          `| ${entry.name} | ${count.toLocaleString("en")} | ${all.bytes.toLocaleString("en")} | ` +
            `${ms(all.median)} / ${ms(all.p99)} | ${tag.bytes.toLocaleString("en")} | ` +
            `${ms(tag.median)} / ${ms(tag.p99)} |`,
        );
        console.error(costRows.at(-1));
        if (count === 3000) echoRows.push(await echoUnderInfoLoad(server, entry.name, rounds, roundMs));
      }
    } finally {
      for (const client of idle) client.destroy();
      await server.stop();
    }
  }
  console.log(
    [
      `/info's cost by live count (${new Date().toISOString()}, ${process.argv.slice(1).join(" ")})`,
      ``,
      `| entry | live | /info bytes | /info median / p99 ms | /info?tag= bytes | /info?tag= median / p99 ms |`,
      `| ----- | ---: | ---: | ---: | ---: | ---: |`,
      ...costRows,
      ``,
      `Echo round trip of one active client at 3,000 live, without and with ${FETCHERS} clients ` +
      `fetching /info in a loop (${rounds} alternating rounds of ${roundMs} ms each; p99 is the median ` +
      `of the rounds' p99s)`,
      ``,
      `| entry | p50 without | p99 without | p50 with | p99 with | p99 ratio | /info answered per s |`,
      `| ----- | ---: | ---: | ---: | ---: | ---: | ---: |`,
      ...echoRows,
    ].join("\n"),
  );
}

/** Opens idle connections (tagged `idle-<n>`) until `idle` holds `count`, 250 at a time. */
async function openIdle(server: RunningServer, idle: RawClient[], count: number): Promise<void> {
  while (idle.length < count) {
    const start = idle.length;
    const size = Math.min(250, count - start);
    idle.push(
      ...await Promise.all(
        Array.from(
          { length: size },
          (_, i) => RawClient.open(server.port, handshakeHeaders(), { path: `/?tag=idle-${start + i}` }),
        ),
      ),
    );
  }
}

/** Times `n` sequential GETs of `path`, `spacingMs` apart, after a warm-up. */
async function timeInfo(server: RunningServer, path: string, n: number, spacingMs: number) {
  let bytes = 0;
  for (let i = 0; i < 20; i++) await (await fetch(server.http + path)).arrayBuffer();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    if (spacingMs > 0) await new Promise((resolve) => setTimeout(resolve, spacingMs));
    const start = performance.now();
    const response = await fetch(server.http + path);
    bytes = (await response.arrayBuffer()).byteLength;
    times.push(performance.now() - start);
    if (response.status !== 200) throw new Error(`${path}: ${response.status}`);
  }
  return { bytes, median: percentile(times, 0.5), p99: percentile(times, 0.99) };
}

/** Alternating rounds without and with the fetchers; returns one table row. */
async function echoUnderInfoLoad(server: RunningServer, name: string, rounds: number, roundMs: number) {
  const client = await RawClient.open(server.port, handshakeHeaders(), { path: "/?tag=active" });
  const payload = new TextEncoder().encode("x".repeat(32));
  const without: number[][] = [];
  const withLoad: number[][] = [];
  let answered = 0;
  try {
    await roundTrips(client, payload, 500);
    for (let round = 0; round < rounds; round++) {
      without.push(await roundTrips(client, payload, roundMs));
      const fetchers = spawn(process.execPath, [
        fileURLToPath(import.meta.url),
        "--fetch",
        `${server.http}/info`,
        String(roundMs + 1000),
      ], { stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      fetchers.stdout!.on("data", (chunk: Buffer) => out += chunk);
      const done = new Promise<void>((resolve) => fetchers.once("exit", () => resolve()));
      // The fetchers' first line says they are running; measure only while they all are.
      while (!out.includes("\n")) await new Promise((resolve) => setTimeout(resolve, 20));
      withLoad.push(await roundTrips(client, payload, roundMs));
      await done;
      answered += JSON.parse(out.trim().split("\n").at(-1)!).perSecond / rounds;
    }
  } finally {
    client.destroy();
  }
  const p50 = (samples: number[][]) => median(samples.map((s) => percentile(s, 0.5)));
  const p99 = (samples: number[][]) => median(samples.map((s) => percentile(s, 0.99)));
  return `| ${name} | ${ms(p50(without))} | ${ms(p99(without))} | ${ms(p50(withLoad))} | ${
    ms(p99(withLoad))
  } | ` +
    `${(p99(withLoad) / p99(without)).toFixed(2)}x | ${answered.toFixed(0)} |`;
}

/** Echo round trips, one message at a time, for `durationMs`; each in milliseconds. */
async function roundTrips(client: RawClient, payload: Uint8Array, durationMs: number): Promise<number[]> {
  const times: number[] = [];
  const end = performance.now() + durationMs;
  while (performance.now() < end) {
    const start = performance.now();
    client.send({ opcode: OP.TEXT, payload });
    const frame = await client.next();
    if (frame?.opcode !== OP.TEXT) throw new Error(`expected an echo, got ${JSON.stringify(frame?.opcode)}`);
    times.push(performance.now() - start);
  }
  return times;
}

/** The child's part: FETCHERS loops of `GET url` for `durationMs`; prints a line at start, then the rate. */
async function fetchLoop(url: string, durationMs: number): Promise<void> {
  let answered = 0;
  const end = performance.now() + durationMs;
  const start = performance.now();
  console.log(JSON.stringify({ started: FETCHERS }));
  await Promise.all(Array.from({ length: FETCHERS }, async () => {
    while (performance.now() < end) {
      await (await fetch(url)).arrayBuffer();
      answered++;
    }
  }));
  console.log(JSON.stringify({ perSecond: answered / ((performance.now() - start) / 1000) }));
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function median(values: number[]): number {
  return percentile(values, 0.5);
}

function ms(value: number): string {
  return value.toFixed(value < 1 ? 3 : 2);
}
