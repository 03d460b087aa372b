/**
 * Turns benchmark runs into medians, same-round ratios and the markdown table.
 * Runtime-free: takes numbers, returns numbers and text.
 *
 * @module
 */

/** CPU use over a window, as a fraction of one core. */
export interface CpuUse {
  client: number;
  server: number;
}

/** One server's figures from one round. */
export interface Figures {
  /** 32-byte text messages echoed per second. */
  text: number;
  /** The same per second of server CPU: steadier than the rate when other work shares the cores. */
  textPerCpu: number;
  /** Round-trip latency, microseconds. */
  p50: number;
  p99: number;
  /** MiB/s of 64 KiB and of 1 MiB binary messages echoed. */
  kib64: number;
  mib1: number;
  handshakes: number;
  /**
   * The same per second of server CPU. The handshake load keeps the load generator's core busy (a
   * loopback connect and close cost the client as much kernel time as the server) while the server's
   * is not, so this, not the rate, is what tells the servers' cost apart.
   */
  handshakesPerCpu: number;
  /** Growth of the server's anonymous resident memory per idle connection, bytes (`RssAnon`). */
  idleBytes: number;
  /** Growth of its whole RSS per idle connection, bytes (`VmRSS`, file-backed pages included). */
  idleRssBytes: number;
  cpu: Record<"text" | "kib64" | "mib1" | "handshakes", CpuUse>;
}

/** A server and its figures, one per round (same index = same round; `null`: that round failed). */
export interface Row {
  name: string;
  runs: Array<Figures | null>;
  /** Why rounds failed (a crashed server, an error from the load generator). */
  failures: string[];
}

/** A column of the table. */
export interface Column {
  key: keyof Omit<Figures, "cpu">;
  title: string;
  /** Whether more is better (throughput) or less (latency, memory). */
  higher: boolean;
  get(figures: Figures): number;
  format(value: number): string;
}

const thousands = (value: number) => Math.round(value).toLocaleString("en-US");
const column = (
  key: Column["key"],
  title: string,
  higher: boolean,
  format: (v: number) => string,
): Column => ({
  key,
  title,
  higher,
  get: (figures) => figures[key],
  format,
});

/** The table's columns, in order. */
export const COLUMNS: readonly Column[] = [
  column("text", "32 B text msg/s", true, thousands),
  column("textPerCpu", "32 B msg per server CPU-s", true, thousands),
  column("p50", "RTT p50 µs", false, (v) => v.toFixed(0)),
  column("p99", "RTT p99 µs", false, (v) => v.toFixed(0)),
  column("kib64", "64 KiB MiB/s", true, (v) => v.toFixed(0)),
  column("mib1", "1 MiB MiB/s", true, (v) => v.toFixed(0)),
  column("handshakes", "handshakes/s", true, thousands),
  column("handshakesPerCpu", "handshakes per server CPU-s", true, thousands),
  column("idleBytes", "anon bytes/idle conn", false, thousands),
  column("idleRssBytes", "RSS bytes/idle conn", false, thousands),
];

/** Median and extremes of a set of measurements. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** The median (mean of the middle two for an even count) with min and max. */
export function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1] };
}

/** Echo against its baseline: which rows are compared in each round. */
export const PAIRS: ReadonlyArray<[string, string]> = [
  ["Echo on Bun", "bare Bun"],
  ["Echo on Bun + deflate", "bare Bun + deflate"],
  ["Echo on Deno", "bare Deno"],
];

/** Everything the table and the chart show. */
export interface Summary {
  rows: Array<
    { name: string; runs: number; failures: number; columns: Record<string, Spread>; cpu: Figures["cpu"] }
  >;
  /** Per pair and column: Echo ÷ baseline (throughput) or Echo − baseline (latency, memory), same round. */
  pairs: Array<{ echo: string; bare: string; columns: Record<string, Spread> }>;
}

const medianCpu = (runs: Figures[], key: keyof Figures["cpu"]): CpuUse => ({
  client: spread(runs.map((f) => f.cpu[key].client)).median,
  server: spread(runs.map((f) => f.cpu[key].server)).median,
});

/** Medians per server, and same-round comparisons of Echo with its bare baseline. */
export function summarise(rows: Row[]): Summary {
  const byName = new Map(rows.map((row) => [row.name, row]));
  return {
    rows: rows.map((row) => ({ row, runs: row.runs.filter((f): f is Figures => f !== null) }))
      .filter(({ runs }) => runs.length > 0)
      .map(({ row, runs }) => ({
        name: row.name,
        runs: runs.length,
        failures: row.failures.length,
        columns: Object.fromEntries(COLUMNS.map((c) => [c.key, spread(runs.map(c.get))])),
        cpu: {
          text: medianCpu(runs, "text"),
          kib64: medianCpu(runs, "kib64"),
          mib1: medianCpu(runs, "mib1"),
          handshakes: medianCpu(runs, "handshakes"),
        },
      })),
    pairs: PAIRS.map(([echo, bare]) => {
      const e = byName.get(echo)?.runs ?? [];
      const b = byName.get(bare)?.runs ?? [];
      const rounds = e.map((f, r) => [f, b[r]]).filter((pair): pair is [Figures, Figures] =>
        !!pair[0] && !!pair[1]
      );
      return { echo, bare, rounds };
    }).filter(({ rounds }) => rounds.length > 0)
      .map(({ echo, bare, rounds }) => {
        const compare = (c: Column) =>
          spread(rounds.map(([e, b]) => c.higher ? c.get(e) / c.get(b) : c.get(e) - c.get(b)));
        return { echo, bare, columns: Object.fromEntries(COLUMNS.map((c) => [c.key, compare(c)])) };
      }),
  };
}

function cell(column: Column, s: Spread): string {
  const deviation = Math.max(s.max - s.median, s.median - s.min) / Math.abs(s.median || 1);
  const pm = s.min === s.max ? "" : ` ±${Math.round(deviation * 100)}%`;
  return `${column.format(s.median)}${pm}`;
}

function comparison(column: Column, s: Spread): string {
  // Three decimals: the targets sit at 0.95, and 0.948 must not print as 0.95.
  if (column.higher) return `**${s.median.toFixed(3)}×** (${s.min.toFixed(3)}–${s.max.toFixed(3)})`;
  const signed = (v: number) => `${v >= 0 ? "+" : "−"}${column.format(Math.abs(v))}`;
  return `${signed(s.median)} (${signed(s.min)}…${signed(s.max)})`;
}

/** A fraction as a whole percentage. */
export const percent = (fraction: number): string => `${Math.round(fraction * 100)}%`;

/** The markdown table, with the notes that make it readable. */
export function table(
  summary: Summary,
  meta: { command: string; runs: number; cpus: number; pinning: string },
): string {
  const lines = [
    `| server | ${COLUMNS.map((c) => c.title).join(" | ")} |`,
    `| --- | ${COLUMNS.map(() => "---:").join(" | ")} |`,
    ...summary.rows.map((row) =>
      `| ${row.name}${row.failures ? ` (${row.failures} round(s) failed)` : ""} | ${
        COLUMNS.map((c) => cell(c, row.columns[c.key])).join(" | ")
      } |`
    ),
    ...summary.pairs.map((pair) =>
      `| *${pair.echo} vs ${pair.bare}* | ${
        COLUMNS.map((c) => comparison(c, pair.columns[c.key])).join(" | ")
      } |`
    ),
  ];
  const fastest = [...summary.rows].sort((a, b) => b.columns.text.median - a.columns.text.median)[0];
  const notes = [
    "",
    `Medians of ${meta.runs} round(s) on ${meta.cpus} CPU(s), ${meta.pinning}; ±: the largest deviation of a round ` +
    "from the median. " +
    "Comparison rows: Echo ÷ bare (throughput) or Echo − bare (latency, memory) within each round; median (range).",
  ];
  if (fastest) {
    notes.push(
      `Load generator (one Bun process) against the fastest server, ${fastest.name}, as share of one core, ` +
        `client / server: 32 B ${percent(fastest.cpu.text.client)} / ${percent(fastest.cpu.text.server)}, ` +
        `64 KiB ${percent(fastest.cpu.kib64.client)} / ${percent(fastest.cpu.kib64.server)}, ` +
        `1 MiB ${percent(fastest.cpu.mib1.client)} / ${percent(fastest.cpu.mib1.server)}, ` +
        `handshakes ${percent(fastest.cpu.handshakes.client)} / ${percent(fastest.cpu.handshakes.server)}.`,
    );
  }
  notes.push(`Command: \`${meta.command}\``);
  return [...lines, ...notes].join("\n");
}
