/**
 * The shared fleet's store on a Redis-protocol server (Redis, Valkey), written against one raw
 * command call so that both runtimes' clients fit under it: Bun's built-in `RedisClient`
 * (bun/redis.ts) and the `redis` npm client on Deno (deno/redis.ts).
 *
 * A group is one hash, `echo:fleet:<group>`, with a field per member. Redis before 7.4 cannot expire
 * a hash field alone, so the whole hash expires when no member has written it for `ttlMs`, and a
 * dead member's field is deleted by the lookup that finds it too old (lib/fleet/shared.ts).
 *
 * @module
 */
import type { FleetStore, FleetWrite } from "./shared.ts";

/** A connection to the server as the adapters give it. */
export interface RedisConnection {
  /** Counts connections made so far (lib/fleet/shared.ts rewrites everything after a new one). */
  readonly generation: number;
  /** Sends one command; rejects at once while the server is unreachable, never queues. */
  send(args: string[]): Promise<unknown>;
  close(): void;
}

/** Where the fleet's keys live; a `/db` in FLEET_URL separates fleets sharing one server. */
export const REDIS_PREFIX = "echo:fleet:";

/** A fleet store over `connection`. */
export function redisStore(connection: RedisConnection): FleetStore {
  return {
    get generation() {
      return connection.generation;
    },
    async put(writes: readonly FleetWrite[]) {
      const groups = new Map<string, { fields: string[]; ttlMs: number }>();
      for (const { group, member, value, ttlMs } of writes) {
        const entry = groups.get(group) ?? { fields: [], ttlMs: 0 };
        entry.fields.push(member, value);
        entry.ttlMs = Math.max(entry.ttlMs, ttlMs);
        groups.set(group, entry);
      }
      // Sent together: both clients pipeline commands issued in the same tick.
      await Promise.all([...groups].flatMap(([group, { fields, ttlMs }]) => [
        connection.send(["HSET", REDIS_PREFIX + group, ...fields]),
        connection.send(["PEXPIRE", REDIS_PREFIX + group, String(ttlMs)]),
      ]));
    },
    async read(group: string) {
      return fieldMap(await connection.send(["HGETALL", REDIS_PREFIX + group]));
    },
    async remove(group: string, members: readonly string[]) {
      if (members.length > 0) await connection.send(["HDEL", REDIS_PREFIX + group, ...members]);
    },
    close: () => connection.close(),
  };
}

/**
 * An `HGETALL` reply as a map: a flat array of fields and values (RESP2), a Map or an object
 * (RESP3, or a client that converts it).
 */
export function fieldMap(reply: unknown): Map<string, string> {
  if (reply instanceof Map) return new Map([...reply].map(([k, v]) => [String(k), String(v)]));
  if (Array.isArray(reply)) {
    const map = new Map<string, string>();
    for (let i = 0; i + 1 < reply.length; i += 2) map.set(String(reply[i]), String(reply[i + 1]));
    return map;
  }
  if (reply !== null && typeof reply === "object") {
    return new Map(Object.entries(reply).map(([k, v]) => [k, String(v)]));
  }
  return new Map();
}
