/**
 * The shared fleet's store on Deno KV: the store Deno Deploy gives every project (`FLEET_URL=kv:`),
 * or a SQLite file that processes on one machine share (`kv:/path/to/file.sqlite`). KV has no
 * pub/sub between processes (`watch` and queues stay within one), which is why the fleet is built on
 * records with expiry. `expireIn` is lazy, so lib/fleet/shared.ts checks each value's own time.
 *
 * @module
 */
import type { FleetUrl } from "../lib/fleet_url.ts";
import type { FleetStore, FleetWrite } from "../lib/fleet/shared.ts";

const PREFIX = ["echo", "fleet"];

/** KV refuses an atomic operation of more than 1,000 mutations or 800 KiB; these stay well under. */
const BATCH_MUTATIONS = 100;
const BATCH_BYTES = 400_000;

/** A store on the KV database `url` names, opened now in the background. */
export function denoKv(url: FleetUrl): FleetStore {
  const kv = Deno.openKv(url.path);
  kv.catch(() => {});
  return {
    generation: 0,
    async put(writes: readonly FleetWrite[]) {
      const db = await kv;
      for (let start = 0; start < writes.length;) {
        const atomic = db.atomic();
        let bytes = 0;
        let end = start;
        while (end < writes.length && end - start < BATCH_MUTATIONS && bytes < BATCH_BYTES) {
          const { group, member, value, ttlMs } = writes[end++];
          atomic.set([...PREFIX, group, member], value, { expireIn: ttlMs });
          bytes += value.length * 3 + group.length * 3;
        }
        await atomic.commit();
        start = end;
      }
    },
    async read(group: string) {
      const db = await kv;
      const values = new Map<string, string>();
      for await (const entry of db.list<string>({ prefix: [...PREFIX, group] })) {
        values.set(String(entry.key[PREFIX.length + 1]), entry.value);
      }
      return values;
    },
    async remove(group: string, members: readonly string[]) {
      const db = await kv;
      const atomic = db.atomic();
      for (const member of members) atomic.delete([...PREFIX, group, member]);
      await atomic.commit();
    },
    close: () => void kv.then((db) => db.close(), () => {}),
  };
}
