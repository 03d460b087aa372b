/**
 * Which host, process and isolate answered: behind a load balancer several hosts (containers, pods)
 * serve one address, and with `deno serve --parallel` or Bun's `--workers` several copies of Echo share
 * one port on a host, each keeping its own registry.
 *
 * @module
 */

/** The identity the HTTP echo, SSE, `/info` and `/metrics` report. */
export interface ProcessIdentity {
  /**
   * The host's name as the entry found it without asking for a permission (`HOSTNAME` from the
   * environment, else the runtime's own call where it is allowed): in a container, the container's
   * hostname (Podman and Docker: the short container id unless `--hostname` names it; Kubernetes: the
   * pod's name). `null` where neither is available (Deno without `--allow-sys=hostname` and no
   * `HOSTNAME` exported).
   */
  hostname: string | null;
  /** Operating-system process id, as the entry reports it (0 where unknown). */
  pid: number;
  /**
   * Random per isolate, drawn at start: `deno serve --parallel` runs several isolates in one
   * process, and neither runtime exposes a worker index to user code.
   */
  id: string;
}

/** The longest hostname reported (RFC 1035 §2.3.4 allows 253 characters in text). */
export const MAX_HOSTNAME = 253;

/**
 * A hostname as reported: trimmed; `null` when absent, empty, longer than {@link MAX_HOSTNAME} or
 * holding anything but printable ASCII (it goes into text answers and log lines as it is).
 */
export function reportedHostname(name: string | null | undefined): string | null {
  const trimmed = name?.trim() ?? "";
  if (trimmed === "" || trimmed.length > MAX_HOSTNAME || !/^[\x21-\x7e]+$/.test(trimmed)) return null;
  return trimmed;
}

/** A fresh identity for this isolate; `hostname` as the entry found it (see {@link reportedHostname}). */
export function processIdentity(pid: number, hostname?: string | null): ProcessIdentity {
  return { hostname: reportedHostname(hostname), pid, id: crypto.randomUUID().slice(0, 8) };
}

/** Who answered, in words: `vm (Deno 2.9.6, pid 42, id 7ba3cc60)`, for text answers. */
export function describeIdentity(runtime: string, identity: ProcessIdentity): string {
  const host = identity.hostname ?? "an unnamed host";
  return `${host} (${runtime}, pid ${identity.pid}, id ${identity.id})`;
}
