/**
 * Where Echo on Bun spends its JavaScript time under the 32-byte text load:
 * `bun run bench/profile_bun.ts`. Starts `bun --cpu-prof bun/server.ts`, drives it with the bench's
 * load generator, stops it with SIGTERM (Echo exits through `process.exit`, which is when Bun writes
 * the profile) and prints the functions with the most self-time samples.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../tests/support/server.ts";
import { messageRate } from "./load.ts";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

const dir = mkdtempSync(join(tmpdir(), "echo-profile-"));
const server = spawn(
  `${ROOT}node_modules/.bin/bun`,
  ["--cpu-prof", `--cpu-prof-dir=${dir}`, "run", "bun/server.ts", "--port", "0", "--log-format", "json"],
  { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
);
const port = await new Promise<number>((resolve) => {
  server.stdout!.on("data", (chunk: Buffer) => {
    const match = /listening on ws:\/\/[^\s]*:(\d+)\//.exec(chunk.toString());
    if (match) resolve(Number(match[1]));
  });
});
const rate = await messageRate({ port, deflate: false }, server.pid!, {
  warmupMs: 500,
  measureMs: 4000,
  connections: 50,
  inflight: 16,
  message: "x".repeat(32),
});
server.kill("SIGTERM");
await new Promise((resolve) => server.once("exit", resolve));

const profile = JSON.parse(readFileSync(join(dir, readdirSync(dir)[0]), "utf8")) as {
  nodes: ProfileNode[];
  samples: number[];
};
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const self = new Map<string, number>();
for (const id of profile.samples) {
  const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
  const where = url ? `${url.replace("file://", "").replace(ROOT, "")}:${lineNumber + 1}` : "native";
  const name = `${functionName || "(anonymous)"} (${where})`;
  self.set(name, (self.get(name) ?? 0) + 1);
}
console.log(`${Math.round(rate.messagesPerSecond).toLocaleString("en")} messages/s; ${profile.samples.length} samples`);
console.log("| self % | function |\n| ---: | --- |");
for (const [name, count] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 12)) {
  console.log(`| ${((100 * count) / profile.samples.length).toFixed(1)} | ${name} |`);
}
