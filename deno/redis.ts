/**
 * The shared fleet's Redis connection on Deno, which has no built-in client: the `redis` npm
 * client, an optional dependency imported only here, only when FLEET_URL names Redis, so the echo
 * path loads no package. Its offline queue is off (a command fails at once while the server is
 * unreachable) and it reconnects with a backoff capped at 1 s. It reads `REDIS_DEBUG_MAINTENANCE`
 * from the environment (without env access its connect loops forever); `--allow-env` grants it.
 *
 * @module
 */
import type { FleetUrl } from "../lib/fleet_url.ts";
import type { RedisConnection } from "../lib/fleet/redis_store.ts";

/** A connection to the server `url` names, opened now in the background. */
export function denoRedis(url: FleetUrl): RedisConnection {
  let generation = 0;
  /** The client's latest error: a failed command says only "The client is offline". */
  let lastError = "";
  const client = import("redis").then(async ({ createClient }) => {
    const client = createClient({
      url: url.href(),
      disableOfflineQueue: true,
      socket: { connectTimeout: 1000, reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 1000) },
    });
    client.on("error", (error: Error) => lastError = error.message);
    client.on("ready", () => generation++);
    // Its socket must not hold the process open: `deno serve` exits on SIGTERM once nothing is pending.
    client.unref();
    // The first batch waits for the first connection or its first failure, not longer.
    await Promise.race([client.connect(), new Promise((resolve) => client.once("error", resolve))])
      .catch(() => {});
    return client;
  }, (error) => {
    throw new Error(`the npm package redis is missing (npm install redis): ${error}`);
  });
  client.catch(() => {});
  return {
    get generation() {
      return generation;
    },
    async send(args) {
      const ready = await client;
      try {
        return await ready.sendCommand(args);
      } catch (error) {
        throw ready.isReady || lastError === "" ? error : new Error(lastError);
      }
    },
    close: () => void client.then((ready) => ready.destroy(), () => {}),
  };
}
