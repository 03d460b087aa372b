/**
 * The page at `GET /` in a real browser: Debian's Chromium driven by playwright-core, against
 * both entries. It connects, sends text and binary, sees the echoes, and shows the extension the
 * browser negotiated beside the server's `/info?tag=` record. Screenshots go to tests/artifacts/.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { ENTRIES, ROOT, type RunningServer, startServer } from "./support/server.ts";
import { handshakeHeaders, RawClient } from "./support/raw.ts";
import { FLEETS, twoMembers } from "./support/fleets.ts";
import { type RunningNginx, startNginx } from "./support/nginx.ts";
import { type RunningRedis, startRedis } from "./support/redis.ts";

const ARTIFACTS = join(ROOT, "tests", "artifacts");
const LONG = { timeout: 60_000 };

/** Launches Chromium headless with a fresh profile. */
async function launch(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), "echo-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Chromium as {@link launch} gives it. */
type Browser = Awaited<ReturnType<typeof launch>>;

/**
 * A server and Chromium for one describe block, started before its tests (the server awaited by
 * `ready` if given) and stopped after; the tests read them off the returned object.
 */
function serverAndBrowser(
  start: () => Promise<RunningServer>,
  ready?: (server: RunningServer) => Promise<void>,
): { server: RunningServer; browser: Browser } {
  const running = {} as { server: RunningServer; browser: Browser };
  before(async () => {
    running.server = await start();
    await ready?.(running.server);
    running.browser = await launch();
  }, LONG);
  after(async () => {
    await running.browser?.close();
    await running.server?.stop();
  }, LONG);
  return running;
}

/** The text of the `<dd>` after the `<dt>` named `term` inside `scope`. */
function detail(page: Page, scope: string, term: string) {
  return page.locator(`${scope} dt:text-is("${term}") + dd`);
}

for (const entry of ENTRIES) {
  describe(`the page in Chromium on ${entry.name}`, () => {
    const running = serverAndBrowser(() => startServer(entry));

    test(
      "connects, echoes text and binary, and shows the negotiated extension on both sides",
      LONG,
      async () => {
        const page = await running.browser.context.newPage();
        const dialogs: string[] = [];
        page.on("dialog", (dialog) => {
          dialogs.push(dialog.message());
          dialog.dismiss();
        });
        await page.goto(`${running.server.http}/`);
        assert.equal(await page.title(), "Echo: WebSocket echo server");
        assert.equal(await page.inputValue("#url"), `${running.server.ws}/`);
        const tag = await page.inputValue("#tag");
        assert.match(tag, /^[0-9a-f]{12}$/, "a random tag is prefilled");
        await page.fill("#protocol", "echo.test, other");
        await page.click("#connect");
        await page.locator("#browser-state", { hasText: "open" }).waitFor();

        await page.fill("#text", "hello from Chromium ✓");
        await page.click("#send-text");
        await page.fill("#hex", "00 01 fe ff");
        await page.click("#send-binary");
        const rows = page.locator("#log tr");
        await rows.nth(3).waitFor();
        const cells = await Promise.all(
          [0, 1, 2, 3].map(async (i) => (await rows.nth(i).locator("td").allTextContents()).slice(1)),
        );
        const sent = cells.filter((c) => c[0].startsWith("→"));
        const echoed = cells.filter((c) => c[0].startsWith("←"));
        assert.deepEqual(sent.map((c) => c.slice(1)), [
          ["text", "23", "hello from Chromium ✓"],
          ["binary", "4", "00 01 fe ff"],
        ]);
        assert.deepEqual(
          echoed.map((c) => c.slice(1)),
          sent.map((c) => c.slice(1)),
          "each echo as it was sent",
        );

        // The browser's own view, straight from the WebSocket object.
        const browserView = {
          extensions: await page.textContent("#browser-extensions"),
          protocol: await page.textContent("#browser-protocol"),
        };
        const socket = await page.evaluate("({ extensions: ws.extensions, protocol: ws.protocol })");
        assert.deepEqual(socket, {
          extensions: browserView.extensions === "(none)" ? "" : browserView.extensions,
          protocol: browserView.protocol,
        }, "the page shows what the WebSocket object says");
        assert.equal(browserView.protocol, "echo.test");
        if (entry.name === "bun") {
          assert.match(
            browserView.extensions ?? "",
            /^permessage-deflate; /,
            "Chromium negotiated deflate with Bun",
          );
        } else assert.equal(browserView.extensions, "(none)", "Deno negotiates no extension");

        // The server's record as the page shows it, and as /info gives it.
        const server101 = detail(page, "#server-records", "101 Sec-WebSocket-Extensions");
        await page.locator("#server-records dd", { hasText: "2 messages, 27 bytes" }).first().waitFor();
        const expected = entry.name === "bun" ? browserView.extensions : "(none)";
        assert.equal(await server101.textContent(), expected);
        const info = await (await fetch(`${running.server.http}/info?tag=${tag}`)).json();
        assert.equal(info.live.length, 1);
        assert.equal(info.live[0].response.extensions, entry.name === "bun" ? browserView.extensions : "");
        assert.equal(info.live[0].response.protocol, "echo.test");
        assert.match(info.live[0].request.userAgent, /Chrome/);
        assert.equal(
          await detail(page, "#server-records", "request User-Agent").textContent(),
          info.live[0].request.userAgent,
        );
        if (entry.name === "deno") {
          assert.match(
            await detail(page, "#server-records", "why no extension").textContent() ?? "",
            /does not implement permessage-deflate/,
          );
        }

        // The server's list of the same messages beside the browser's (the record's messageLog).
        const serverRows = page.locator("#server-log tr");
        await serverRows.nth(3).waitFor();
        const serverCells = await Promise.all(
          [0, 1, 2, 3].map(async (i) => (await serverRows.nth(i).locator("td").allTextContents()).slice(1)),
        );
        assert.deepEqual(serverCells, [
          ["→ received", "text", "23", "hello from Chromium ✓"],
          ["← sent", "text", "23", "hello from Chromium ✓"],
          ["→ received", "binary", "4", "00 01 fe ff"],
          ["← sent", "binary", "4", "00 01 fe ff"],
        ]);
        assert.deepEqual(
          serverCells.filter((c) => c[0] === "→ received").map((c) => c.slice(1)),
          sent.map((c) => c.slice(1)),
          "the server received what the browser sent",
        );
        assert.match(await page.textContent("#server-log-note") ?? "", /the last 4 of 4 messages/);
        assert.equal(info.live[0].messageLog.logged, 4);

        mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: join(ARTIFACTS, `page-${entry.name}.png`), fullPage: true });
        assert.deepEqual(dialogs, []);
        await page.click("#disconnect");
        await page.locator("#browser-close", { hasText: "1000 bye" }).waitFor();
        await page.close();
      },
    );

    test("an EventSource receives /sse's events; the HTTP echo link answers JSON", LONG, async () => {
      const page = await running.browser.context.newPage();
      try {
        await page.goto(`${running.server.http}/`);
        await page.fill("#sse-count", "3");
        await page.fill("#sse-interval", "100");
        await page.click("#sse-start");
        // After the third event the stream ends; the EventSource reconnects with Last-Event-ID: 3 and
        // Echo's 204 closes it for good.
        await page.locator("#sse-state", { hasText: "ended after 3 events" }).waitFor();
        const items = await page.locator("#sse-log li").allTextContents();
        assert.equal(items.length, 3);
        items.forEach((item, i) => assert.match(item, new RegExp(` id ${i + 1}: \\{"id":${i + 1},"time":`)));
        const href = await page.getAttribute("#http-echo", "href");
        await page.goto(`${running.server.http}${href}`);
        const echoed = JSON.parse(await page.locator("body").innerText());
        assert.equal(echoed.path, "/echo/example");
        assert.deepEqual(echoed.query, { x: "1" });
        assert.match(echoed.headers["user-agent"], /Chrome/);
      } finally {
        await page.close();
      }
    });

    test("a hostile User-Agent and tag are shown as text, never run", LONG, async () => {
      const hostile = `<script>window.__xss=1</script><img src=x onerror="window.__xss=2">"'`;
      const tag = `<script>window.__xss=3</script>"'&`;
      const client = await RawClient.open(
        running.server.port,
        handshakeHeaders({ "User-Agent": hostile, Origin: `"><svg onload=alert(1)>` }),
        { path: `/?tag=${encodeURIComponent(tag)}` },
      );
      assert.equal(client.response.status, 101);
      const page = await running.browser.context.newPage();
      const dialogs: string[] = [];
      page.on("dialog", (dialog) => {
        dialogs.push(dialog.message());
        dialog.dismiss();
      });
      try {
        await page.goto(`${running.server.http}/?tag=${encodeURIComponent(tag)}`);
        assert.equal(await page.inputValue("#tag"), tag);
        await page.click("#refresh");
        const userAgent = detail(page, "#server-records", "request User-Agent");
        await userAgent.waitFor();
        assert.equal(await userAgent.textContent(), hostile, "shown exactly, as text");
        assert.equal(await detail(page, "#server-records", "tag").textContent(), tag);
        assert.equal(
          await detail(page, "#server-records", "request Origin").textContent(),
          `"><svg onload=alert(1)>`,
        );
        assert.equal(
          await page.locator("#server-records img, #server-records script, #server-records svg").count(),
          0,
        );
        assert.equal(await page.evaluate(() => (globalThis as { __xss?: number }).__xss), undefined);
        mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: join(ARTIFACTS, `page-xss-${entry.name}.png`), fullPage: true });
        assert.deepEqual(dialogs, []);
      } finally {
        client.destroy();
        await page.close();
      }
    });
  });
}

for (const fleet of FLEETS) {
  describe(`the page in Chromium on a two-member fleet: ${fleet.name}`, () => {
    const running = serverAndBrowser(() => fleet.start(), (server) => twoMembers(server.port));

    test(
      "every reload shows the server's view of its connection, whichever member holds it",
      LONG,
      async () => {
        const page = await running.browser.context.newPage();
        const holders = new Set<string>();
        try {
          // Each load is a new tag and a new WebSocket; the kernel or the runtime picks the member,
          // so reload until both members have held one (at most 30 loads).
          for (let load = 0; load < 30 && (load < 4 || holders.size < 2); load++) {
            await page.goto(`${running.server.http}/`);
            await page.click("#connect");
            await page.locator("#browser-state", { hasText: "open" }).waitFor();
            const held = detail(page, "#server-records", "held by member");
            await held.waitFor();
            assert.match(await page.textContent("#server-records h3") ?? "", /\(live\)$/);
            assert.equal(
              await detail(page, "#server-records", "tag").textContent(),
              await page.inputValue("#tag"),
            );
            assert.match(
              await detail(page, "#server-records", "request User-Agent").textContent() ?? "",
              /Chrome/,
            );
            assert.equal(
              await page.textContent("#extensions-note"),
              "(they agree)",
              "Chromium reports the 101's value",
            );
            holders.add((await held.textContent())!.split(" ")[0]);
          }
          assert.equal(holders.size, 2, "both members held a page's connection");
          mkdirSync(ARTIFACTS, { recursive: true });
          await page.screenshot({
            path: join(ARTIFACTS, `page-fleet-${fleet.name.split(" ")[0]}.png`),
            fullPage: true,
          });
        } finally {
          await page.close();
        }
      },
    );
  });
}

for (const entry of ENTRIES) {
  describe(`the page in Chromium through nginx to two ${entry.name} replicas sharing Redis`, () => {
    let redis: RunningRedis;
    const servers: RunningServer[] = [];
    let nginx: RunningNginx;
    let browser: Browser;
    // One step per hook: `bun test` gives each hook 5 s whatever its options say.
    before(async () => redis = await startRedis(), LONG);
    before(async () => {
      const env = { FLEET_URL: redis.url };
      servers.push(...await Promise.all([startServer(entry, { env }), startServer(entry, { env })]));
    }, LONG);
    before(async () => nginx = await startNginx(servers.map((server) => server.port)), LONG);
    before(async () => browser = await launch(), LONG);
    after(async () => {
      await browser?.close();
      await nginx?.stop();
      await Promise.all(servers.map((server) => server.stop()));
      await redis?.stop();
    }, LONG);

    test("shows the server view on every reload, whichever replica answers /info", LONG, async () => {
      const page = await browser.context.newPage();
      for (let reload = 0; reload < 6; reload++) {
        await page.goto(`http://127.0.0.1:${nginx.port}/`);
        const tag = await page.inputValue("#tag");
        await page.click("#connect");
        await page.locator("#browser-state", { hasText: "open" }).waitFor();
        await page.fill("#text", `reload ${reload}`);
        await page.click("#send-text");
        const status = page.locator("#server-status", { hasText: "1 connection(s) tagged" });
        await status.waitFor({ timeout: 15_000 });
        assert.equal(await detail(page, "#server-records", "tag").textContent(), tag);
        assert.match(
          await detail(page, "#server-records", "request User-Agent").textContent() ?? "",
          /Chrome/,
        );
        // The other replica learns of the connection within a second (the page retried meanwhile).
        for (const server of servers) {
          const deadline = Date.now() + 10_000;
          const found = async () =>
            (await (await fetch(`${server.http}/info?tag=${tag}`)).json()).live.length === 1;
          while (!(await found())) {
            assert.ok(Date.now() < deadline, `replica ${server.port} never learnt of ${tag}`);
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
        // nginx takes turns between the replicas, but other requests (the page's own retries) can fall
        // between two refreshes; so refresh until the replica not holding the connection has answered
        // once, checking the view every time.
        let throughSharedView = false;
        for (let refresh = 0; refresh < 8 && !throughSharedView; refresh++) {
          const [response] = await Promise.all([
            page.waitForResponse(/\/info\?tag=/),
            page.click("#refresh"),
          ]);
          const body = await response.json();
          assert.equal(body.live.length, 1, JSON.stringify(body));
          // Records another member holds name it (a member's own may name itself, or nothing).
          const holder = body.live[0].member?.id ?? body.process.id;
          throughSharedView = holder !== body.process.id;
          await status.waitFor();
          assert.equal(await detail(page, "#server-records", "tag").textContent(), tag);
        }
        assert.ok(throughSharedView, `reload ${reload}: no refresh was answered by the other replica`);
      }
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, `page-replicas-${entry.name}.png`), fullPage: true });
      await page.close();
    });
  });
}
