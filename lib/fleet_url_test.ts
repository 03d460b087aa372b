import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "./config.ts";
import { FLEET_URL_FORMS, parseFleetUrl, redactFleetUrl } from "./fleet_url.ts";

describe("FLEET_URL", () => {
  test("redis://[user:password@]host:port[/db]: the client gets it whole, everything else without the password", () => {
    const url = parseFleetUrl("redis://echo:s3cret@cache.internal:6380/2");
    assert.equal(url.engine, "redis");
    assert.equal(url.href(), "redis://echo:s3cret@cache.internal:6380/2");
    assert.equal(url.shown, "redis://echo:***@cache.internal:6380/2");
    assert.equal(JSON.stringify({ url }), `{"url":"redis://echo:***@cache.internal:6380/2"}`);
    assert.equal(`${url}`, url.shown);
    assert.equal(url.scrub("AUTH s3cret failed"), "AUTH *** failed");
    assert.equal(parseFleetUrl("redis://:p%40ss@h:1").scrub("p@ss and p%40ss"), "*** and ***");
    assert.equal(parseFleetUrl("redis://:pw@h:1").shown, "redis://:***@h:1");
    assert.equal(parseFleetUrl("redis://127.0.0.1:6379").shown, "redis://127.0.0.1:6379");
    assert.equal(parseFleetUrl("redis://h/").shown, "redis://h");
    assert.equal(parseFleetUrl("rediss://u@h:6379/15").shown, "rediss://u@h:6379/15");
  });

  test("kv: is Deno KV's default database, kv:PATH a file", () => {
    assert.deepEqual([parseFleetUrl("kv:").engine, parseFleetUrl("kv:").path], ["kv", undefined]);
    assert.equal(parseFleetUrl("kv:/tmp/fleet.sqlite").path, "/tmp/fleet.sqlite");
    assert.equal(parseFleetUrl("kv:/tmp/fleet.sqlite").shown, "kv:/tmp/fleet.sqlite");
  });

  for (
    const bad of [
      "http://h:1",
      "redis://",
      "redis://h:1/x",
      "redis://h:1/2?db=3",
      "redis://h#x",
      "kv://x",
      "h:6379",
    ]
  ) {
    test(`refuses ${bad}`, () => assert.throws(() => parseFleetUrl(bad), { message: FLEET_URL_FORMS }));
  }

  test("a bad value is refused in one line naming FLEET_URL, without the password", () => {
    for (const raw of ["redis://u:hunter2@h:1/x", "redis://u:hunter2@h:1/99x", "redis://u:a/b@c@h:99999"]) {
      assert.throws(() => parseConfig([], { FLEET_URL: raw }), (error: Error) => {
        assert.match(error.message, /^FLEET_URL: expected redis:\/\//);
        assert.ok(!/hunter2|a\/b@c/.test(error.message), error.message);
        assert.ok(!error.message.includes("\n"));
        return true;
      });
    }
    assert.throws(
      () => parseConfig(["--fleet-url", "redis://x:pw@"], {}),
      /^ConfigError: --fleet-url: .*\*\*\*@/,
    );
    assert.equal(redactFleetUrl("redis://u:p@h"), "redis://***@h");
  });

  test("unset by default; the flag and the variable both set it", () => {
    assert.equal((parseConfig([], {}) as { fleetUrl: unknown }).fleetUrl, null);
    const config = parseConfig(["--fleet-url", "kv:"], { FLEET_URL: "redis://h:1" });
    assert.equal(config !== "help" && config.fleetUrl?.engine, "kv");
  });
});
