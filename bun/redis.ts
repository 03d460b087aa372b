/**
 * The shared fleet's Redis connection on Bun: its built-in `RedisClient`, with no queue while
 * offline (a command then fails at once, and lib/fleet/shared.ts drops that batch) and no
 * reconnection of its own: the next command reconnects, and the fleet spaces its tries.
 *
 * @module
 */
import { RedisClient } from "bun";
import type { FleetUrl } from "../lib/fleet_url.ts";
import type { RedisConnection } from "../lib/fleet/redis_store.ts";

/** A connection to the server `url` names, made at the first command. */
export function bunRedis(url: FleetUrl): RedisConnection {
  const client = new RedisClient(url.href(), {
    autoReconnect: false,
    enableOfflineQueue: false,
    connectionTimeout: 1000,
  });
  let generation = 0;
  let connecting: Promise<void> | undefined;
  client.onconnect = () => generation++;
  const connected = () =>
    client.connected ? undefined : connecting ??= client.connect().finally(() => connecting = undefined);
  return {
    get generation() {
      return generation;
    },
    async send([command, ...args]) {
      await connected();
      return await client.send(command, args);
    },
    close: () => client.close(),
  };
}
