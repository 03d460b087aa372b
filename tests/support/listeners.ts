/**
 * Which TCP ports a process tree listens on, from /proc (Linux): proves that several workers
 * share one port and that nothing else was bound by accident.
 *
 * @module
 */
import { readdir, readFile, readlink } from "node:fs/promises";

/** `pid` and its descendants. */
export async function processTree(pid: number): Promise<number[]> {
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    const tasks = await readdir(`/proc/${tree[i]}/task`).catch(() => []);
    for (const task of tasks) {
      const children = await readFile(`/proc/${tree[i]}/task/${task}/children`, "utf8").catch(() => "");
      tree.push(...children.split(" ").filter((s) => s.trim() !== "").map(Number));
    }
  }
  return tree;
}

/** Every listening TCP socket of these processes, as `port → number of sockets`. */
export async function listeningPorts(pids: readonly number[]): Promise<Map<number, number>> {
  const inodes = new Set<string>();
  for (const pid of pids) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode) inodes.add(inode);
    }
  }
  const ports = new Map<number, number>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const lines = (await readFile(table, "utf8").catch(() => "")).split("\n").slice(1);
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex, state 0A is LISTEN, the inode is the tenth field.
      if (fields.length < 10 || fields[3] !== "0A" || !inodes.has(fields[9])) continue;
      const port = parseInt(fields[1].split(":")[1], 16);
      ports.set(port, (ports.get(port) ?? 0) + 1);
    }
  }
  return ports;
}
