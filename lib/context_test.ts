import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULTS } from "./config.ts";
import { createContext } from "./context.ts";
import { DENO_EXTENSIONS } from "./deflate.ts";
import { Hub } from "./hub.ts";
import { createLogger } from "./log.ts";
import { Registry } from "./registry.ts";

const logger = createLogger(() => {}, { format: "json", level: "error" });

describe("createContext", () => {
  test("holds the config, runtime, extension policy and logger it was given", () => {
    const config = { ...DEFAULTS, port: 0 };
    const context = createContext(config, { runtime: "Test 1", extensions: DENO_EXTENSIONS, logger });
    assert.equal(context.config, config);
    assert.equal(context.runtime, "Test 1");
    assert.equal(context.extensions, DENO_EXTENSIONS);
    assert.equal(context.logger, logger);
  });

  test("starts a fresh registry and an empty, accepting hub", () => {
    const context = createContext(DEFAULTS, { runtime: "Test 1", extensions: DENO_EXTENSIONS, logger });
    assert.ok(context.registry instanceof Registry);
    assert.equal(context.registry.totals([]).connections, 0);
    assert.ok(context.hub instanceof Hub);
    assert.equal(context.hub.sessions.length, 0);
    assert.equal(context.hub.draining, false);
  });

  test("uses the registry the caller brings", () => {
    const registry = new Registry();
    registry.nextId();
    const context = createContext(DEFAULTS, {
      runtime: "Test 1",
      extensions: DENO_EXTENSIONS,
      logger,
      registry,
    });
    assert.equal(context.registry, registry);
    assert.equal(context.registry.nextId(), 2);
  });

  test("two contexts share neither registry nor hub", () => {
    const one = createContext(DEFAULTS, { runtime: "Test 1", extensions: DENO_EXTENSIONS, logger });
    const two = createContext(DEFAULTS, { runtime: "Test 1", extensions: DENO_EXTENSIONS, logger });
    assert.notEqual(one.registry, two.registry);
    assert.notEqual(one.hub, two.hub);
    one.hub.draining = true;
    assert.equal(two.hub.draining, false);
  });
});
