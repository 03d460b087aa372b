/**
 * What the runtimes offer for a faster echo: each way of sending (Bun), each compression rule
 * on a deflate connection (Bun), each binary type (Deno), measured with the same load generator
 * as `bench/run.ts`. `bun run bench/variants.ts [--quick] [--runs N]`; prints a markdown table.
 */
import { type Entry, ROOT, startServer } from "../tests/support/server.ts";
import { type MessageOptions, messageRate, pseudoRandom } from "./load.ts";
import { spread } from "./report.ts";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const runs = Number(args.includes("--runs") ? args[args.indexOf("--runs") + 1] : quick ? 1 : 3);
const timing = quick ? { warmupMs: 150, measureMs: 400 } : { warmupMs: 400, measureMs: 2000 };
const BIN = `${ROOT}node_modules/.bin/`;

const english = "the quick brown fox jumps over the lazy dog while echo servers repeat every word ".repeat(13)
  .slice(0, 1024);
const WORKLOADS: Record<string, MessageOptions> = {
  "32 B text": { connections: 50, inflight: 16, message: "x".repeat(32) },
  "1 KiB English text": { connections: 50, inflight: 4, message: english },
  "64 KiB random binary": { connections: 4, inflight: 4, message: pseudoRandom(64 * 1024) },
  "256 KiB random binary": { connections: 2, inflight: 2, message: pseudoRandom(256 * 1024) },
  "1 MiB random binary": { connections: 2, inflight: 2, message: pseudoRandom(1024 * 1024) },
};

interface Group {
  runtime: string;
  deflate: boolean;
  variants: string[];
  workloads: string[];
  entry(variant: string): Entry;
}

const GROUPS: Group[] = [
  {
    runtime: "Bun",
    deflate: false,
    variants: ["send(m, false)", "send(m)", "sendText / sendBinary", "send(m, true)", "send(m, size ≥ 1 MiB) (Echo)"],
    workloads: ["32 B text", "64 KiB random binary", "256 KiB random binary", "1 MiB random binary"],
    entry: (v) => ({ name: "bun", command: () => [`${BIN}bun`, "run", "bench/variant_bun.ts", "--variant", v] }),
  },
  {
    runtime: "Bun + deflate",
    deflate: true,
    variants: ["compress never", "compress ≥ 64 B (Echo)", "compress always"],
    workloads: ["32 B text", "1 KiB English text", "64 KiB random binary"],
    entry: (v) => ({ name: "bun", command: () => [`${BIN}bun`, "run", "bench/variant_bun.ts", "--variant", v] }),
  },
  {
    runtime: "Deno",
    deflate: false,
    variants: ["arraybuffer", "arraybuffer → Uint8Array (Echo)", "blob"],
    workloads: ["32 B text", "64 KiB random binary"],
    entry: (v) => ({
      name: "deno",
      command: () => [`${BIN}deno`, "run", "--allow-net", "bench/variant_deno.ts", "--variant", v],
    }),
  },
];

interface Sample {
  rate: number;
  perCpu: number;
  bytes: number;
}
const samples = new Map<string, Sample[]>();
const failures = new Map<string, string>();

for (let run = 0; run < runs; run++) {
  for (const group of GROUPS) {
    for (const variant of group.variants) {
      const server = await startServer(group.entry(variant));
      try {
        for (const workload of group.workloads) {
          const key = `${group.runtime}\t${variant}\t${workload}`;
          if (failures.has(key)) continue;
          try {
            const result = await messageRate(
              { port: server.port, deflate: group.deflate },
              server.process.pid!,
              { ...timing, ...WORKLOADS[workload] },
            );
            const list = samples.get(key) ?? [];
            list.push({
              rate: result.perSecond,
              perCpu: result.perSecond / result.cpu.server,
              bytes: result.bytesPerEcho,
            });
            samples.set(key, list);
          } catch (error) {
            const crashed = server.process.exitCode !== null || server.process.signalCode !== null;
            const panic = /panicked at [^\n]*\n[^\n]*/.exec(server.output())?.[0].replace(/\s+/g, " ");
            failures.set(key, crashed ? `server crashed${panic ? `: ${panic}` : ""}` : String(error));
            if (crashed) break;
          }
        }
      } finally {
        await server.stop();
      }
    }
  }
}

const format = (n: number) => Math.round(n).toLocaleString("en-US");
console.log("| runtime | variant | workload | msg/s | msg per server CPU-s | payload bytes per echo on the wire |");
console.log("| --- | --- | --- | ---: | ---: | ---: |");
for (const group of GROUPS) {
  for (const workload of group.workloads) {
    for (const variant of group.variants) {
      const key = `${group.runtime}\t${variant}\t${workload}`;
      const list = samples.get(key);
      const failure = failures.get(key);
      if (!list) {
        console.log(`| ${group.runtime} | ${variant} | ${workload} | ${failure ?? "no result"} | | |`);
        continue;
      }
      const rate = spread(list.map((s) => s.rate));
      const perCpu = spread(list.map((s) => s.perCpu));
      const bytes = spread(list.map((s) => s.bytes));
      console.log(
        `| ${group.runtime} | ${variant} | ${workload} | ${format(rate.median)} | ${format(perCpu.median)} | ${
          format(bytes.median)
        }${failure ? ` (then ${failure})` : ""} |`,
      );
    }
  }
}
console.log(`\nMedians of ${runs} round(s). Command: \`bun run bench/variants.ts${quick ? " --quick" : ""}\``);
