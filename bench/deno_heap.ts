/**
 * Where Echo on Deno's JavaScript heap goes, against bare Deno: `bun run bench/deno_heap.ts`. Each
 * server runs with `heap_probe_deno.ts`; the script opens and closes 500 connections, marks, opens
 * 2,000 idle ones and marks again. Between the two marks it reads
 * - what each connection keeps: the heap snapshots' difference after a forced collection, by kind of
 *   object (a constructor's name; a plain object by its first property names), and
 * - what each upgrade allocated, kept or not: V8's sampling heap profile, by the function allocating.
 * The bench's memory column counts both: what is kept, and the pages the garbage took before it was
 * collected.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, startServer } from "../tests/support/server.ts";
import { connectIdle, warmUp } from "./load.ts";
import { askProbe } from "./probe.ts";

const CONNECTIONS = 2000;
const TOP = 12;
const SERVERS = [
  { name: "Echo on Deno", script: "main.ts" },
  { name: "bare Deno", script: "bench/bare_deno.ts" },
];
const PROBE = [`${ROOT}node_modules/.bin/deno`, "run", "-A", "--v8-flags=--expose-gc", "bench/heap_probe_deno.ts"];

/** Bytes by kind of object in a heap snapshot. */
function objectsByKind(path: string): Map<string, number> {
  const snapshot = JSON.parse(readFileSync(path, "utf8"));
  const { node_fields, node_types, edge_fields, edge_types } = snapshot.snapshot.meta;
  const { nodes, edges, strings } = snapshot as { nodes: number[]; edges: number[]; strings: string[] };
  const width = node_fields.length, edgeWidth = edge_fields.length;
  const [type, name, size, edgeCount] = ["type", "name", "self_size", "edge_count"].map((f) => node_fields.indexOf(f));
  const [edgeType, edgeName] = ["type", "name_or_index"].map((f) => edge_fields.indexOf(f));
  const kinds = new Map<string, number>();
  let edge = 0;
  for (let i = 0; i < nodes.length; i += width) {
    const nodeType: string = node_types[0][nodes[i + type]];
    const count = nodes[i + edgeCount];
    let kind = nodeType.includes("string") ? "(strings)" : `${nodeType} ${strings[nodes[i + name]]}`;
    if (kind === "object Object") {
      const properties = [];
      for (let e = edge; e < edge + count && properties.length < 4; e++) {
        if (edge_types[0][edges[e * edgeWidth + edgeType]] === "property") {
          properties.push(strings[edges[e * edgeWidth + edgeName]]);
        }
      }
      kind = `{${properties.join(", ")}, …}`;
    }
    edge += count;
    kinds.set(kind, (kinds.get(kind) ?? 0) + nodes[i + size]);
  }
  return kinds;
}

/** Bytes allocated by function (name, file, line) in a sampling heap profile. */
function allocationsByFunction(path: string): Map<string, number> {
  const functions = new Map<string, number>();
  type Node = { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: Node[] };
  const visit = ({ callFrame, selfSize, children }: Node) => {
    const where = `${callFrame.functionName || "(anonymous)"} ${callFrame.url.split("/").pop()}:${callFrame.lineNumber + 1}`;
    functions.set(where, (functions.get(where) ?? 0) + selfSize);
    children.forEach(visit);
  };
  visit(JSON.parse(readFileSync(path, "utf8")).head);
  return functions;
}

/** The `TOP` largest entries of `after` − `before`, per connection, with the total. */
function perConnection(after: Map<string, number>, before = new Map<string, number>()): string[] {
  const rows = [...after].map(([key, bytes]) => [key, (bytes - (before.get(key) ?? 0)) / CONNECTIONS] as const);
  const total = rows.reduce((sum, [, bytes]) => sum + bytes, 0);
  const top = rows.sort((a, b) => b[1] - a[1]).slice(0, TOP);
  return [`total ${Math.round(total)} B`, ...top.map(([key, bytes]) => `${Math.round(bytes)} B ${key}`)];
}

const directory = mkdtempSync(join(tmpdir(), "echo-deno-heap-"));
try {
  for (const server of SERVERS) {
    const out = join(directory, server.name.replaceAll(" ", "_"));
    const running = await startServer(
      { name: "deno", command: () => PROBE },
      { env: { HEAP_PROBE_SCRIPT: server.script, HEAP_PROBE_OUT: out } },
    );
    const probed = { output: running.output, pid: running.process.pid! };
    try {
      const target = { port: running.port, deflate: false };
      await warmUp(target, 500);
      await askProbe(probed, "SIGUSR1", "MARK");
      const conns = await connectIdle(target, CONNECTIONS);
      await askProbe(probed, "SIGUSR1", "MARK");
      const kept = perConnection(objectsByKind(`${out}-1.heapsnapshot`), objectsByKind(`${out}-0.heapsnapshot`));
      const allocated = perConnection(allocationsByFunction(`${out}-1.heapprofile`));
      console.log(`## ${server.name}, per connection (${CONNECTIONS.toLocaleString("en")} upgrades)\n`);
      console.log(`kept: ${kept.join("\n  ")}\n`);
      console.log(`allocated: ${allocated.join("\n  ")}\n`);
      await Promise.all(conns.map((conn) => conn.end()));
    } finally {
      await running.stop();
    }
  }
} finally {
  rmSync(directory, { recursive: true, force: true });
}
