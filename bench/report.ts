/**
 * Turns benchmark samples into medians, Echo-against-bare comparisons, the markdown table and the SVG
 * chart. Runtime-free: takes numbers, returns numbers and text.
 *
 * @module
 */

/** The figures a server gets, each a list of samples (one per round, or per window). */
export interface Figures {
  /** 32-byte text messages echoed per second, one per round. */
  text: number[];
  /** The same per second of server CPU: steadier than the rate when other work shares the cores. */
  textPerCpu: number[];
  /**
   * 32-byte text messages echoed per second when the client writes one new frame for each echo it
   * receives (not one write for all the echoes a read brought), one per round; and per server CPU-second.
   */
  textPerEcho: number[];
  textPerEchoPerCpu: number[];
  /** Round-trip latency of one 32-byte message at a time, microseconds. */
  p50: number[];
  p99: number[];
  /**
   * MiB/s of 64 KiB and of 1 MiB binary messages echoed, one per round, on the process that has just
   * run the 32-byte text loads (as a server's traffic changes over its life).
   */
  kib64: number[];
  mib1: number[];
  /** The server's `VmRSS`, MiB, at the end of each 64 KiB and each 1 MiB round. */
  kib64Rss: number[];
  mib1Rss: number[];
  /**
   * The same without file-backed pages (`RssAnon`): what the process holds, without the pages of the
   * runtime's executable that its code paths have run (shared, and larger for a program that uses more
   * of the runtime; docs/benchmarks.md, "Idle memory").
   */
  kib64Anon: number[];
  mib1Anon: number[];
  /** Opening and closing handshakes per second, one per round. */
  handshakes: number[];
  /**
   * The same per second of server CPU. The handshake load keeps the load generator's core busy (a
   * loopback connect and close cost the client as much kernel time as the server), so this, not the
   * rate, is what tells the servers' cost apart.
   */
  handshakesPerCpu: number[];
  /** MiB/s of 64 KiB messages in each window of the sustained round, on a process of its own. */
  sustained: number[];
  /** The sustained round's last third of windows ÷ its first third (median each), one per run. */
  aging: number[];
  /**
   * Growth of resident memory per idle connection, KiB, no forced collection: `VmRSS` without the
   * runtime's executable pages (`RssFile`), which a window pages in once, not per connection.
   */
  idleRss: number[];
  /** The same with the executable's pages: the growth of `VmRSS` as `ps` shows it. */
  idleVmRss: number[];
  /** MiB of the executable paged in (`RssFile` growth) in the same window. */
  codePagedIn: number[];
  /** Growth of `RssAnon` per idle connection, KiB, after a full collection before each reading. */
  idleAnonGc: number[];
}

/** A server's samples, and why some of its measurements failed. */
export interface Row {
  name: string;
  figures: Partial<Figures>;
  /** The sustained round's windows, MiB/s, one list per run. */
  windows: number[][];
  /**
   * Client and server CPU (fractions of a core) under the 32 B (batched and one frame per echo), 64 KiB
   * and 1 MiB loads, one per round (results from before the per-echo and 1 MiB loads lack those).
   */
  cpu: {
    text: Array<[number, number]>;
    textPerEcho?: Array<[number, number]>;
    kib64: Array<[number, number]>;
    mib1?: Array<[number, number]>;
  };
  /**
   * The machine's 1-minute load average after each run's sequential workloads: above ~2 on 2 CPUs, other
   * work was taking CPU from the server and the load generator, and that run's rates say little.
   */
  load: number[];
  failures: string[];
}

/** A new row with no samples yet. */
export const emptyRow = (name: string): Row => ({
  name,
  figures: {},
  windows: [],
  cpu: { text: [], textPerEcho: [], kib64: [], mib1: [] },
  load: [],
  failures: [],
});

/** A column of the table. */
export interface Column {
  key: keyof Figures;
  title: string;
  /** Whether more is better (throughput) or less (latency, memory). */
  higher: boolean;
  format(value: number): string;
}

const thousands = (value: number) => Math.round(value).toLocaleString("en-US");
const fixed = (digits: number) => (value: number) => value.toFixed(digits);

/** The table's columns, in order. */
export const COLUMNS: readonly Column[] = [
  { key: "text", title: "32 B msg/s", higher: true, format: thousands },
  { key: "textPerCpu", title: "32 B msg per server CPU-s", higher: true, format: thousands },
  { key: "textPerEcho", title: "32 B one frame per echo msg/s", higher: true, format: thousands },
  {
    key: "textPerEchoPerCpu",
    title: "32 B one frame per echo per server CPU-s",
    higher: true,
    format: thousands,
  },
  { key: "p50", title: "RTT p50 µs", higher: false, format: fixed(0) },
  { key: "p99", title: "RTT p99 µs", higher: false, format: fixed(0) },
  { key: "kib64", title: "64 KiB MiB/s after text", higher: true, format: fixed(0) },
  { key: "mib1", title: "1 MiB MiB/s after text", higher: true, format: fixed(0) },
  { key: "kib64Rss", title: "64 KiB RSS MiB", higher: false, format: fixed(0) },
  { key: "mib1Rss", title: "1 MiB RSS MiB", higher: false, format: fixed(0) },
  { key: "kib64Anon", title: "64 KiB anon RSS MiB", higher: false, format: fixed(0) },
  { key: "mib1Anon", title: "1 MiB anon RSS MiB", higher: false, format: fixed(0) },
  { key: "handshakes", title: "handshakes/s", higher: true, format: thousands },
  { key: "handshakesPerCpu", title: "handshakes per server CPU-s", higher: true, format: thousands },
  { key: "sustained", title: "64 KiB sustained MiB/s", higher: true, format: fixed(0) },
  { key: "aging", title: "sustained late ÷ early", higher: true, format: fixed(2) },
  { key: "idleRss", title: "idle RSS KiB/conn", higher: false, format: fixed(2) },
  { key: "idleVmRss", title: "idle VmRSS KiB/conn", higher: false, format: fixed(2) },
  { key: "codePagedIn", title: "code paged in MiB", higher: false, format: fixed(1) },
  { key: "idleAnonGc", title: "idle anon KiB/conn after GC", higher: false, format: fixed(2) },
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

/** Echo against its baseline: which rows are compared. */
export const PAIRS: ReadonlyArray<[string, string]> = [
  ["Echo on Bun", "bare Bun"],
  ["Echo on Bun + deflate", "bare Bun + deflate"],
  ["Echo on Deno", "bare Deno"],
];

/** Everything the table and the chart show. */
export interface Summary {
  rows: Array<
    { name: string; failures: number; columns: Partial<Record<keyof Figures, Spread>>; cpu: Row["cpu"] }
  >;
  /**
   * Per pair and column: Echo ÷ bare (throughput) or Echo − bare (latency, memory), sample by sample
   * (the k-th round or window of one against the k-th of the other, both on fresh processes).
   */
  pairs: Array<{ echo: string; bare: string; columns: Partial<Record<keyof Figures, Spread>> }>;
}

/** Medians per server, and comparisons of Echo with its bare baseline. */
export function summarise(rows: Row[]): Summary {
  const byName = new Map(rows.map((row) => [row.name, row]));
  const present = (values: number[] | undefined): values is number[] => !!values && values.length > 0;
  return {
    rows: rows.map((row) => ({
      name: row.name,
      failures: row.failures.length,
      cpu: row.cpu,
      columns: Object.fromEntries(
        COLUMNS.filter((c) => present(row.figures[c.key])).map((c) => [c.key, spread(row.figures[c.key]!)]),
      ),
    })).filter((row) => Object.keys(row.columns).length > 0),
    pairs: PAIRS.filter(([echo, bare]) => byName.has(echo) && byName.has(bare)).map(([echo, bare]) => {
      const e = byName.get(echo)!.figures;
      const b = byName.get(bare)!.figures;
      const columns = COLUMNS.filter((c) => present(e[c.key]) && present(b[c.key])).map((c) => {
        const n = Math.min(e[c.key]!.length, b[c.key]!.length);
        const compared = e[c.key]!.slice(0, n).map((v, k) => c.higher ? v / b[c.key]![k] : v - b[c.key]![k]);
        return [c.key, spread(compared)];
      });
      return { echo, bare, columns: Object.fromEntries(columns) };
    }).filter((pair) => Object.keys(pair.columns).length > 0),
  };
}

function cell(column: Column, s: Spread | undefined): string {
  if (!s) return "–";
  const deviation = Math.max(s.max - s.median, s.median - s.min) / Math.abs(s.median || 1);
  const pm = s.min === s.max ? "" : ` ±${Math.round(deviation * 100)}%`;
  return `${column.format(s.median)}${pm}`;
}

function comparison(column: Column, s: Spread | undefined): string {
  if (!s) return "–";
  // Three decimals: the targets sit at 0.95, and 0.948 must not print as 0.95.
  if (column.higher) return `**${s.median.toFixed(3)}×** (${s.min.toFixed(3)}–${s.max.toFixed(3)})`;
  const signed = (v: number) => `${v >= 0 ? "+" : "−"}${column.format(Math.abs(v))}`;
  return `**${signed(s.median)}** (${signed(s.min)}…${signed(s.max)})`;
}

/** A fraction as a whole percentage. */
export const percent = (fraction: number): string => `${Math.round(fraction * 100)}%`;

/** What the notes under the table need to know about the run. */
export interface TableMeta {
  command: string;
  runs: number;
  cpus: number;
  rounds: number;
  roundMs: number;
  windows: number;
  windowMs: number;
  idleConnections: number;
}

/** The markdown table, with the notes that make it readable. */
export function table(summary: Summary, rows: Row[], meta: TableMeta): string {
  const columns = COLUMNS.filter((c) => summary.rows.some((row) => row.columns[c.key]));
  const lines = [
    `| server | ${columns.map((c) => c.title).join(" | ")} |`,
    `| --- | ${columns.map(() => "---:").join(" | ")} |`,
    ...summary.rows.map((row) =>
      `| ${row.name}${row.failures ? ` (${row.failures} failure(s))` : ""} | ${
        columns.map((c) => cell(c, row.columns[c.key])).join(" | ")
      } |`
    ),
    ...summary.pairs.map((pair) =>
      `| *${pair.echo} vs ${pair.bare}* | ${
        columns.map((c) => comparison(c, pair.columns[c.key])).join(" | ")
      } |`
    ),
  ];
  const seconds = (ms: number) => `${ms / 1000} s`;
  const notes = [
    "",
    `${meta.runs} run(s) on ${meta.cpus} CPU(s), nothing pinned; each server started fresh and measured alone. ` +
    `Throughput: on one process, ${meta.rounds} rounds of ${
      seconds(meta.roundMs)
    } per workload, one workload ` +
    "after the other (32 B, 32 B one frame per echo, latency, 64 KiB, 1 MiB, handshakes): 64 KiB and 1 MiB come " +
    "after the text loads, RSS is the server's `VmRSS` at each round's end and anon RSS its `RssAnon`; " +
    "32 B one frame per echo is driven by `bench/pump.c` (C, one write per frame, the deflate rows not), the " +
    "rest by one Bun process; medians, ±: the largest deviation of a round. " +
    `Sustained: ${meta.windows} windows of ${seconds(meta.windowMs)} of 64 KiB on another fresh process. ` +
    `Idle: ${meta.idleConnections} idle connections held after as many opened and closed, growth per connection, on fresh processes. ` +
    "Comparison rows: Echo ÷ bare (throughput) or Echo − bare (latency, memory), round by round; median (range).",
  ];
  for (const row of rows) {
    for (const run of row.windows) {
      notes.push(`Sustained ${row.name}, MiB/s per window: ${run.map((v) => v.toFixed(0)).join(", ")}.`);
    }
  }
  const cpu = (samples: Array<[number, number]> = []) =>
    samples.length
      ? `${percent(spread(samples.map((s) => s[0])).median)} / ${
        percent(spread(samples.map((s) => s[1])).median)
      }`
      : "–";
  notes.push(
    "Load generator / server CPU, as share of one core, 32 B, 32 B one frame per echo, " +
      "64 KiB and 1 MiB: " +
      summary.rows.map((row) =>
        `${row.name} ${
          [row.cpu.text, row.cpu.textPerEcho, row.cpu.kib64, row.cpu.mib1].map((samples) => cpu(samples))
            .join(", ")
        }`
      ).join("; ") + ".",
    "Load average (1 min) after each run's sequential workloads: " +
      rows.map((row) => `${row.name} ${row.load.map((v) => v.toFixed(1)).join(", ")}`).join("; ") + ".",
    `Command: \`${meta.command}\``,
  );
  return [...lines, ...notes].join("\n");
}

/** A cell of the terminal summary: the median, and its range only when the samples differ. */
function brief(column: Column, s: Spread, compared: boolean): string {
  const range = (a: string, b: string, to = "–") => s.min === s.max ? "" : ` (${a}${to}${b})`;
  if (compared && column.higher) {
    return `${s.median.toFixed(3)}×${range(s.min.toFixed(3), s.max.toFixed(3))}`;
  }
  const signed = (v: number) => `${v >= 0 ? "+" : "−"}${column.format(Math.abs(v))}`;
  if (compared) return `${signed(s.median)}${range(signed(s.min), signed(s.max), "…")}`;
  return `${column.format(s.median)}${range(column.format(s.min), column.format(s.max))}`;
}

/**
 * A plain-text grid of at most `width` characters a line: one row per measure, one column per server (or
 * pair). Columns that do not fit go to a second block under the first, and so on.
 */
function grid(measures: string[], headers: string[], cells: string[][], width: number): string[] {
  const first = Math.max(...measures.map((m) => m.length));
  const widths = headers.map((h, k) => Math.max(h.length, ...cells.map((row) => row[k].length)));
  const blocks: number[][] = [];
  for (let k = 0, used = Infinity; k < headers.length; k++) {
    if (used + 2 + widths[k] > width) {
      blocks.push([]);
      used = first;
    }
    blocks[blocks.length - 1].push(k);
    used += 2 + widths[k];
  }
  const lines: string[] = [];
  for (const block of blocks) {
    if (lines.length > 0) lines.push("");
    const line = (title: string, texts: string[]) =>
      [title.padEnd(first), ...block.map((k, i) => texts[i].padStart(widths[k]))].join("  ").trimEnd();
    lines.push(line("", block.map((k) => headers[k])));
    measures.forEach((measure, m) => lines.push(line(measure, block.map((k) => cells[m][k]))));
  }
  return lines;
}

/**
 * What a terminal shows of a run, in lines of at most `width` characters: Echo against its bare echo on each
 * measure (÷ for throughput, − for latency and memory), one column per runtime; or, with no pair measured
 * (`--only`), each server's medians. The full table is {@link table}'s.
 */
export function terminalSummary(summary: Summary, width = 120): string[] {
  if (summary.pairs.length > 0) {
    const columns = COLUMNS.filter((c) => summary.pairs.some((pair) => pair.columns[c.key]));
    const cells = columns.map((c) =>
      summary.pairs.map((pair) => pair.columns[c.key] ? brief(c, pair.columns[c.key]!, true) : "–")
    );
    return [
      "Echo ÷ bare (throughput) or Echo − bare (latency µs, memory): median (range of the rounds, if several)",
      ...grid(
        columns.map((c) => c.title),
        summary.pairs.map((pair) => pair.echo.replace(/^Echo on /, "")),
        cells,
        width,
      ),
    ];
  }
  const columns = COLUMNS.filter((c) => summary.rows.some((row) => row.columns[c.key]));
  const cells = columns.map((c) =>
    summary.rows.map((row) => row.columns[c.key] ? brief(c, row.columns[c.key]!, false) : "–")
  );
  return [
    "Each server: median (range of the rounds, if several)",
    ...grid(columns.map((c) => c.title), summary.rows.map((row) => row.name), cells, width),
  ];
}

// The chart: a self-contained SVG, one panel per throughput column, one bar per server (median, with
// the range of rounds as a whisker), each panel scaled to its own best.

const COLORS = ["#1f6feb", "#79b8ff", "#8250df", "#c297ff", "#1a7f37", "#6fdd8b", "#bc4c00"];
const PANEL_W = 250;
const BAR_H = 18;
const GAP = 6;
const LABEL_W = 150;

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Renders the summary's throughput columns as an SVG document. */
export function chart(summary: Summary, meta: { command: string; date: string }): string {
  const rows = summary.rows;
  // Rates only: the late ÷ early ratio is not a rate, and memory and latency are better small.
  const columns = COLUMNS.filter((c) =>
    c.higher && c.key !== "aging" && rows.some((row) => row.columns[c.key])
  );
  const panelH = rows.length * (BAR_H + GAP);
  const width = LABEL_W + columns.length * (PANEL_W + 20) + 10;
  const height = 50 + panelH + 40;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="600">Echo benchmark: median of rounds, whisker = range ` +
    `(each panel scaled to its best)</text>`,
  ];
  rows.forEach((row, i) => {
    const y = 50 + i * (BAR_H + GAP) + BAR_H * 0.75;
    parts.push(`<text x="${LABEL_W - 8}" y="${y}" text-anchor="end">${escape(row.name)}</text>`);
  });
  columns.forEach((column, p) => {
    const x0 = LABEL_W + p * (PANEL_W + 20);
    const best = Math.max(...rows.map((row) => row.columns[column.key]?.max ?? 0));
    const scale = (value: number) => (value / best) * (PANEL_W - 60);
    parts.push(`<text x="${x0}" y="42" font-weight="600">${escape(column.title)}</text>`);
    parts.push(`<line x1="${x0}" y1="46" x2="${x0}" y2="${50 + panelH}" stroke="#888"/>`);
    rows.forEach((row, i) => {
      const s = row.columns[column.key];
      if (!s) return;
      const y = 50 + i * (BAR_H + GAP);
      const mid = y + BAR_H / 2;
      parts.push(
        `<rect x="${x0}" y="${y}" width="${scale(s.median).toFixed(1)}" height="${BAR_H}" fill="${
          COLORS[i % COLORS.length]
        }"/>`,
        `<line x1="${(x0 + scale(s.min)).toFixed(1)}" y1="${mid}" x2="${
          (x0 + scale(s.max)).toFixed(1)
        }" y2="${mid}" ` +
          `stroke="#000" stroke-width="1.5"/>`,
        `<text x="${(x0 + scale(s.max) + 4).toFixed(1)}" y="${y + BAR_H * 0.75}">${
          column.format(s.median)
        }</text>`,
      );
    });
  });
  parts.push(
    `<text x="10" y="${height - 12}" fill="#555">${escape(`${meta.command} · ${meta.date}`)}</text>`,
    "</svg>",
  );
  return parts.join("\n") + "\n";
}
