import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { captureConnection, countReceived, countSent } from "../connection.ts";
import { METRICS_CONTENT_TYPE, renderMetrics } from "./metrics.ts";
import { testConnection, testContext } from "../testing_context.ts";

interface Family {
  help?: string;
  type?: string;
  samples: Map<string, number>;
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL_VALUE = String.raw`"(?:[^"\\\n]|\\[\\"n])*"`;
const LABELS = String
  .raw`\{(?:[a-zA-Z_][a-zA-Z0-9_]*=${LABEL_VALUE}(?:,[a-zA-Z_][a-zA-Z0-9_]*=${LABEL_VALUE})*)?\}`;
const VALUE = String.raw`(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)`;
/** A sample line of the text exposition format 0.0.4: name, optional labels, value, optional timestamp. */
const SAMPLE = new RegExp(`^(${NAME})(${LABELS})? (${VALUE})(?: -?\\d+)?$`);

/**
 * Parses Prometheus text, asserting the syntax as it goes: every line is a HELP, a TYPE or a
 * sample; each family's HELP and TYPE come once, before its samples; no sample is repeated.
 */
function parse(text: string): Map<string, Family> {
  assert.ok(text.endsWith("\n"), "the exposition ends with a line feed");
  const families = new Map<string, Family>();
  const family = (name: string) => {
    if (!families.has(name)) families.set(name, { samples: new Map() });
    return families.get(name)!;
  };
  for (const line of text.slice(0, -1).split("\n")) {
    const comment = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (comment) {
      const [, kind, name, rest] = comment;
      assert.match(name, new RegExp(`^${NAME}$`), line);
      const f = family(name);
      assert.equal(f.samples.size, 0, `${kind} of ${name} comes before its samples`);
      if (kind === "HELP") {
        assert.equal(f.help, undefined, `one HELP for ${name}`);
        assert.ok(rest.length > 0, line);
        f.help = rest;
      } else {
        assert.equal(f.type, undefined, `one TYPE for ${name}`);
        assert.match(rest, /^(counter|gauge|histogram|summary|untyped)$/, line);
        f.type = rest;
      }
      continue;
    }
    assert.ok(!line.startsWith("#"), `a comment other than HELP or TYPE: ${line}`);
    const sample = SAMPLE.exec(line);
    assert.ok(sample, `not a valid sample line: ${JSON.stringify(line)}`);
    const [, name, labels = "", value] = sample;
    const f = families.get(name);
    assert.ok(f?.help !== undefined && f.type !== undefined, `${name} has HELP and TYPE before its samples`);
    assert.ok(!f.samples.has(labels), `duplicate sample ${name}${labels}`);
    f.samples.set(labels, Number(value));
  }
  return families;
}

function sample(families: Map<string, Family>, name: string, labels = ""): number | undefined {
  return families.get(name)?.samples.get(labels);
}

describe("the metrics parser used here", () => {
  test("rejects what is not Prometheus text", () => {
    assert.throws(() => parse("# HELP a x\n# TYPE a counter\na 1 2 3\n"));
    assert.throws(() => parse("a 1\n"), /HELP and TYPE/);
    assert.throws(() => parse('# HELP a x\n# TYPE a counter\na{b="c} 1\n'));
    assert.throws(() => parse("# HELP a x\n# TYPE a counter\na 1"));
    assert.throws(() => parse("# HELP a x\n# TYPE a counter\n# comment\n"));
    assert.deepEqual(
      [...parse('# HELP a x\n# TYPE a counter\na{b="c\\"d",e="f"} 1.5\n').get("a")!.samples],
      [['{b="c\\"d",e="f"}', 1.5]],
    );
  });
});

describe("renderMetrics", () => {
  test("METRICS_CONTENT_TYPE is the text format 0.0.4", () => {
    assert.equal(METRICS_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
  });

  test("a fresh server parses, with HELP and TYPE for every family and zeros", () => {
    const families = parse(renderMetrics(testContext().context));
    assert.deepEqual(
      [...families].map(([name, f]) => [name, f.type]),
      [
        ["echo_process_info", "gauge"],
        ["echo_connections_active", "gauge"],
        ["echo_connections_total", "counter"],
        ["echo_messages_total", "counter"],
        ["echo_bytes_total", "counter"],
        ["echo_handshakes_refused_total", "counter"],
        ["echo_closes_total", "counter"],
        ["echo_http_requests_total", "counter"],
        ["echo_http_body_bytes_total", "counter"],
        ["echo_sse_streams_active", "gauge"],
        ["echo_sse_events_total", "counter"],
      ],
    );
    for (const [name, f] of families) assert.ok(f.help, `${name} has a HELP text`);
    assert.equal(sample(families, "echo_connections_active"), 0);
    assert.equal(sample(families, "echo_connections_total"), 0);
    assert.equal(sample(families, "echo_messages_total", '{direction="in"}'), 0);
    assert.equal(sample(families, "echo_bytes_total", '{direction="out"}'), 0);
    assert.equal(families.get("echo_handshakes_refused_total")?.samples.size, 0);
    assert.equal(families.get("echo_closes_total")?.samples.size, 0);
    assert.equal(families.get("echo_http_requests_total")?.samples.size, 0);
    assert.equal(sample(families, "echo_sse_streams_active"), 0);
  });

  test("HTTP answers, body bytes and SSE streams and events are counted", () => {
    const ctx = testContext().context;
    ctx.registry.httpAnswered("echo", 200);
    ctx.registry.httpAnswered("echo", 200);
    ctx.registry.httpAnswered("sse", 503);
    ctx.registry.httpBodyBytes += 12;
    ctx.registry.sseEvents += 3;
    ctx.hub.add({ connection: null, hubSlot: -1, close() {}, keepalive() {} });
    const families = parse(renderMetrics(ctx));
    assert.equal(sample(families, "echo_http_requests_total", '{service="echo",code="200"}'), 2);
    assert.equal(sample(families, "echo_http_requests_total", '{service="sse",code="503"}'), 1);
    assert.equal(sample(families, "echo_http_body_bytes_total"), 12);
    assert.equal(sample(families, "echo_sse_events_total"), 3);
    assert.equal(sample(families, "echo_sse_streams_active"), 1);
    assert.equal(sample(families, "echo_connections_active"), 0, "a stream is not a WebSocket");
  });

  test("echo_process_info names the process and isolate that answered", () => {
    const ctx = testContext().context;
    const { pid, id } = ctx.process;
    assert.match(id, /^[0-9a-f]{8}$/);
    assert.equal(sample(parse(renderMetrics(ctx)), "echo_process_info", `{pid="${pid}",id="${id}"}`), 1);
    assert.notEqual(testContext().context.process.id, id, "each context draws its own id");
  });

  test("every counter moves with the registry and the hub", () => {
    const ctx = testContext().context;
    const connection = testConnection(ctx.registry.nextId());
    const member = { connection, hubSlot: -1, close() {}, keepalive() {} };
    ctx.registry.opened();
    ctx.hub.add(member);
    countReceived(connection, 6);
    countReceived(connection, 10);
    countSent(connection, 6);
    ctx.registry.refusedHandshake("origin");
    ctx.registry.refusedHandshake("origin");
    ctx.registry.refusedHandshake("capacity");
    let families = parse(renderMetrics(ctx));
    assert.equal(sample(families, "echo_connections_active"), 1);
    assert.equal(sample(families, "echo_connections_total"), 1);
    assert.equal(sample(families, "echo_messages_total", '{direction="in"}'), 2);
    assert.equal(sample(families, "echo_messages_total", '{direction="out"}'), 1);
    assert.equal(sample(families, "echo_bytes_total", '{direction="in"}'), 16);
    assert.equal(sample(families, "echo_bytes_total", '{direction="out"}'), 6);
    assert.equal(sample(families, "echo_handshakes_refused_total", '{reason="origin"}'), 2);
    assert.equal(sample(families, "echo_handshakes_refused_total", '{reason="capacity"}'), 1);

    ctx.registry.closed(connection, { code: 1001, reason: "bye", closedBy: "server" });
    ctx.hub.remove(member);
    families = parse(renderMetrics(ctx));
    assert.equal(sample(families, "echo_connections_active"), 0);
    assert.equal(sample(families, "echo_connections_total"), 1, "a total never goes down");
    assert.equal(
      sample(families, "echo_messages_total", '{direction="in"}'),
      2,
      "nor when its connection closes",
    );
    assert.equal(sample(families, "echo_bytes_total", '{direction="out"}'), 6);
    assert.equal(sample(families, "echo_closes_total", '{code="1001"}'), 1);
  });

  test("closes are counted per code", () => {
    const ctx = testContext().context;
    for (const code of [1000, 1009, 1000, 1006]) {
      const connection = captureConnection(new Request("http://echo.test/"), {
        id: ctx.registry.nextId(),
        remoteAddress: "::1",
        protocol: undefined,
        extensions: "",
      });
      ctx.registry.opened();
      ctx.registry.closed(connection, { code, reason: "", closedBy: "client" });
    }
    const closes = parse(renderMetrics(ctx)).get("echo_closes_total")!.samples;
    assert.deepEqual(Object.fromEntries(closes), {
      '{code="1000"}': 2,
      '{code="1009"}': 1,
      '{code="1006"}': 1,
    });
  });

  test("label values are escaped so that any reason still parses", () => {
    const ctx = testContext().context;
    ctx.registry.refusedHandshake('odd "reason"\\ with\nnewline');
    const refused = parse(renderMetrics(ctx)).get("echo_handshakes_refused_total")!.samples;
    assert.equal(refused.size, 1);
    assert.deepEqual([...refused.values()], [1]);
  });
});
