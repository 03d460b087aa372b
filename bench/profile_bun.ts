/**
 * Where Echo on Bun spends its JavaScript time under the 32-byte text load or the handshake load:
 * `bun run bench/profile_bun.ts [--workload text|handshakes]`. Starts `bun --cpu-prof bun/server.ts`, drives it with the bench's
 * load generator, stops it with SIGTERM (Echo exits through `process.exit`, which is when Bun writes
 * the profile) and prints the functions with the most self-time samples, and with the most samples
 * in which they are on the stack (total).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../tests/support/server.ts";
import { handshakes, messageRate } from "./load.ts";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

const args = process.argv.slice(2);
const workload = args.includes("--workload") ? args[args.indexOf("--workload") + 1] : "text";
if (workload !== "text" && workload !== "handshakes") throw new Error("--workload is text or handshakes");

const dir = mkdtempSync(join(tmpdir(), "echo-profile-"));
const server = spawn(
  `${ROOT}node_modules/.bin/bun`,
  ["--cpu-prof", "--cpu-prof-interval=200", `--cpu-prof-dir=${dir}`, "run", "bun/server.ts", "--port", "0", "--log-format", "json"],
  { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
);
const port = await new Promise<number>((resolve) => {
  server.stdout!.on("data", (chunk: Buffer) => {
    const match = /listening on ws:\/\/[^\s]*:(\d+)\//.exec(chunk.toString());
    if (match) resolve(Number(match[1]));
  });
});
const timing = { warmupMs: 500, measureMs: 4000 };
const target = { port, deflate: false };
const rate = workload === "text"
  ? `${Math.round((await messageRate(target, server.pid!, { ...timing, connections: 50, inflight: 16, message: "x".repeat(32) })).messagesPerSecond).toLocaleString("en")} messages/s`
  : `${Math.round((await handshakes(target, server.pid!, { ...timing, parallel: 16 })).perSecond).toLocaleString("en")} handshakes/s`;
server.kill("SIGTERM");
await new Promise((resolve) => server.once("exit", resolve));

const profile = JSON.parse(readFileSync(join(dir, readdirSync(dir)[0]), "utf8")) as {
  nodes: ProfileNode[];
  samples: number[];
};
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parents = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
const label = (id: number) => {
  const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
  const where = url ? `${url.replace("file://", "").replace(ROOT, "")}:${lineNumber + 1}` : "native";
  return `${functionName || "(anonymous)"} (${where})`;
};
const self = new Map<string, number>();
const total = new Map<string, number>();
for (const id of profile.samples) {
  self.set(label(id), (self.get(label(id)) ?? 0) + 1);
  const stack = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) stack.add(label(at));
  for (const name of stack) total.set(name, (total.get(name) ?? 0) + 1);
}
console.log(`${rate}; ${profile.samples.length} samples`);
for (const [title, counts] of [["self", self], ["total", total]] as const) {
  console.log(`\n| ${title} % | function |\n| ---: | --- |`);
  for (const [name, count] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    console.log(`| ${((100 * count) / profile.samples.length).toFixed(1)} | ${name} |`);
  }
}
