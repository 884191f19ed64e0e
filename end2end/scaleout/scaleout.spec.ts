import { execFileSync, spawn } from "node:child_process";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { expect, test, type Page } from "@playwright/test";
import { familyOfThree, newMember, openLive } from "../tests/fixtures";

// Run by scripts/test-scaleout.sh: nginx on SCALEOUT_URL in front of
// instances a, b and c (one PostgreSQL database, round-robin, no sticky
// sessions). Each answer names its instance in X-Giftlist-Instance.
// PostgreSQL is a cluster of the script's own, which a test here restarts.
const work = process.env.SCALEOUT_WORK ?? "";
type Setup = Record<"a" | "b" | "c", { port: number }> & {
  postgres: { pg_ctl: string; data: string; options: string; log: string };
};
const setup: Setup = JSON.parse(readFileSync(`${work}/instances.json`, "utf8"));
const instances: Record<string, { port: number }> = { a: setup.a, b: setup.b, c: setup.c };

/** What one page's live socket went through: the instance of each
 *  handshake, and the text of every frame it received. */
type Socket = { instances: string[]; frames: string[] };

/** Watches `page`'s WebSockets through the Chrome DevTools Protocol (the
 *  handshake's response headers are not in Playwright's own API). */
async function watchSocket(page: Page): Promise<Socket> {
  const seen: Socket = { instances: [], frames: [] };
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  cdp.on("Network.webSocketHandshakeResponseReceived", (event) => {
    const headers = event.response.headers as Record<string, string>;
    const name = Object.entries(headers).find(([key]) => key.toLowerCase() === "x-giftlist-instance")?.[1];
    if (name) seen.instances.push(name);
  });
  cdp.on("Network.webSocketFrameReceived", (event) => seen.frames.push(event.response.payloadData));
  return seen;
}

/** Opens `list` live until its socket is on an instance not in `taken`
 *  (round-robin spreads the page's requests, so a few tries do); returns
 *  that instance. */
async function liveOnAnotherInstance(page: Page, socket: Socket, list: string, taken: string[]): Promise<string> {
  for (let attempt = 0; attempt < 12; attempt++) {
    await openLive(page, list);
    const now = socket.instances.at(-1);
    if (now && !taken.includes(now)) return now;
    // A page load makes the same number of requests each time (and nginx
    // has one worker): one to three more requests, a different number each
    // try, move the round-robin on, so the next loads' sockets land on each
    // instance in turn (one extra each time could step over one instance
    // for ever, as a change of the page's request count showed once).
    for (let extra = 0; extra <= attempt % 3; extra++) await page.request.get("/healthz");
  }
  throw new Error(`no socket on an instance other than ${taken.join(", ")}: ${socket.instances.join(", ")}`);
}

/** What the page's connection badge has said, in order, from now on. */
async function recordStatus(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const badge = document.querySelector('[data-testid="connection-status"]')!;
    const log: string[] = [];
    (window as unknown as { statusLog: string[] }).statusLog = log;
    new MutationObserver(() => log.push(badge.getAttribute("data-status") ?? "")).observe(badge, {
      attributes: true,
      attributeFilter: ["data-status"],
    });
  });
  return () => page.evaluate(() => (window as unknown as { statusLog: string[] }).statusLog);
}

/** Starts instance `name` again as the script did. */
async function restart(name: string): Promise<void> {
  const child = spawn(
    "bash",
    ["-c", `set -a; source "${work}/giftlist.env"; set +a; exec "$GIFTLIST_BINARY" >>"${work}/instance-${name}.log" 2>&1`],
    {
      env: {
        ...process.env,
        GIFTLIST_BINARY: `${process.cwd()}/../target/debug/giftlist`,
        LEPTOS_SITE_ADDR: `127.0.0.1:${instances[name].port}`,
        GIFTLIST_INSTANCE_NAME: name,
        GIFTLIST_DATA_DIR: `${work}/data-${name}`,
      },
      detached: true,
      stdio: "ignore",
    },
  );
  appendFileSync(`${work}/pids`, `${child.pid}\n`);
  writeFileSync(`${work}/pid-${name}`, `${child.pid}\n`);
  child.unref();
  await expect
    .poll(async () => (await fetch(`http://127.0.0.1:${instances[name].port}/readyz`).catch(() => null))?.status, {
      timeout: 20_000,
    })
    .toBe(200);
}

/** The process of an instance (the script and `restart` write it down). */
function pidOf(name: string): number {
  return Number(readFileSync(`${work}/pid-${name}`, "utf8").trim());
}

test("three people on three instances edit one list live; an instance killed under one of them is not noticed by the others", async ({
  browser,
}) => {
  const { alice, bob, carol, list, sockets, on } = await threeOnThree(browser);

  // Every change, made through any instance, shows everywhere within 1 s.
  const add = alice.getByTestId("add-item");
  await add.getByLabel("Gift").fill("Kite");
  await add.getByRole("button", { name: "Add" }).click();
  for (const page of [bob, carol]) {
    await expect(page.getByTestId("item").filter({ hasText: "Kite" })).toBeVisible({ timeout: 1000 });
  }
  await claimAndAddEverywhere(alice, bob, carol);

  const kite = (page: Page) => page.getByTestId("item").filter({ hasText: "Kite" });

  // Kill -9 the instance holding Bob's socket: his page reconnects through
  // nginx to another and catches up; Alice and Carol notice nothing.
  const aliceStatus = await recordStatus(alice);
  const carolStatus = await recordStatus(carol);
  const bobStatus = await recordStatus(bob);
  const victim = on.bob;
  process.kill(pidOf(victim), "SIGKILL");
  await expect(bob.getByTestId("connection-status")).toHaveAttribute("data-status", "reconnecting");
  // A change while Bob is away reaches him when he is back.
  await add.getByLabel("Gift").fill("Blue bike");
  await add.getByRole("button", { name: "Add" }).click();
  await expect(carol.getByTestId("item").filter({ hasText: "Blue bike" })).toBeVisible({ timeout: 1000 });
  await expect(bob.getByTestId("connection-status")).toHaveAttribute("data-status", "live", { timeout: 15_000 });
  await expect(bob.getByTestId("item").filter({ hasText: "Blue bike" })).toBeVisible({ timeout: 1000 });
  expect(sockets.bob.instances.at(-1)).not.toBe(victim);
  expect(await bob.evaluate(() => (window as unknown as { giftlistMark?: number }).giftlistMark)).toBe(1);
  expect(await bobStatus()).toContain("reconnecting");
  for (const status of [aliceStatus, carolStatus]) {
    expect(await status()).toEqual([]);
  }
  for (const page of [alice, carol]) {
    expect(await page.evaluate(() => (window as unknown as { giftlistMark?: number }).giftlistMark)).toBe(1);
  }

  // Bob, the recipient, never received a claim, on any instance.
  expect(sockets.bob.frames.length).toBeGreaterThan(0);
  for (const frame of sockets.bob.frames) {
    expect(frame).not.toMatch(/"claim":\{|"claims":\[\{|"by":"|STATUS_CHANGED/);
  }
  // ... while Alice did (the check above can fail).
  expect(sockets.alice.frames.some((frame) => /"claims":\[\{/.test(frame))).toBe(true);

  // The instance comes back and serves again.
  await restart(victim);
  const back = await fetch(`http://127.0.0.1:${instances[victim].port}/api/v1/lists/${list.split("/").at(-1)}`);
  expect(back.status).toBe(401);
  await openLive(alice, list);
  await expect(kite(alice).getByTestId("claim")).toHaveText("Reserved by Carol");
});

/** Carol reserves the Kite and Bob (the recipient) adds a Scarf, each
 *  through their own instance: the others see each within 1 s. */
async function claimAndAddEverywhere(alice: Page, bob: Page, carol: Page): Promise<void> {
  const kite = (page: Page) => page.getByTestId("item").filter({ hasText: "Kite" });
  await kite(carol).getByRole("button", { name: "I'll get this" }).click();
  await expect(kite(alice).getByTestId("claim")).toHaveText("Reserved by Carol", { timeout: 1000 });
  const bobAdds = bob.getByTestId("add-item");
  await bobAdds.getByLabel("Gift").fill("Scarf");
  await bobAdds.getByRole("button", { name: "Add" }).click();
  for (const page of [alice, carol]) {
    await expect(page.getByTestId("item").filter({ hasText: "Scarf" })).toBeVisible({ timeout: 1000 });
  }
}

/** Runs the test's own PostgreSQL's pg_ctl as `postgres`. */
function pgCtl(...args: string[]): void {
  const { pg_ctl, data } = setup.postgres;
  execFileSync("runuser", ["-u", "postgres", "--", pg_ctl, "-D", data, ...args], { stdio: "ignore" });
}

/** The status of each instance's `/readyz`, asked directly (not through nginx). */
async function readiness(): Promise<number[]> {
  return Promise.all(
    Object.values(instances).map(
      async ({ port }) => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status ?? 0,
    ),
  );
}

/** Three people live on one list (for Bob: Alice and Carol give, Bob must
 *  learn nothing of it), each on another instance. */
async function threeOnThree(browser: Parameters<typeof newMember>[0]) {
  const alice = await newMember(browser, "Alice");
  const bob = await newMember(browser, "Bob");
  const carol = await newMember(browser, "Carol");
  const list = await familyOfThree(alice, bob, carol);
  const sockets = { alice: await watchSocket(alice), bob: await watchSocket(bob), carol: await watchSocket(carol) };
  const on: Record<string, string> = {};
  on.alice = await liveOnAnotherInstance(alice, sockets.alice, list, []);
  on.bob = await liveOnAnotherInstance(bob, sockets.bob, list, [on.alice]);
  on.carol = await liveOnAnotherInstance(carol, sockets.carol, list, [on.alice, on.bob]);
  expect(new Set(Object.values(on)).size).toBe(3);
  return { alice, bob, carol, list, sockets, on };
}

test("PostgreSQL restarting under all three instances: writes get a clear 503, every instance recovers by itself, nobody misses a change", async ({
  browser,
}) => {
  const { alice, bob, carol, list, sockets } = await threeOnThree(browser);
  const add = alice.getByTestId("add-item");
  await add.getByLabel("Gift").fill("Kite");
  await add.getByRole("button", { name: "Add" }).click();
  for (const page of [bob, carol]) {
    await expect(page.getByTestId("item").filter({ hasText: "Kite" })).toBeVisible({ timeout: 1000 });
  }
  expect(await readiness()).toEqual([200, 200, 200]);

  pgCtl("-m", "fast", "-w", "stop");
  try {
    // A write while it is down: the page says what happened, in the app's
    // words (its 503), and the gift is not shown as added.
    await add.getByLabel("Gift").fill("Lamp");
    await add.getByRole("button", { name: "Add" }).click();
    await expect(alice.getByTestId("form-error")).toHaveText(
      "the database cannot be reached just now; try again in a moment",
      { timeout: 10_000 },
    );
    await expect(alice.getByTestId("item").filter({ hasText: "Lamp" })).toHaveCount(0);
    // A script's write through nginx, whichever instance takes it.
    const id = list.split("/").at(-1);
    const answer = await alice.evaluate(async (id) => {
      const response = await fetch(`/api/v1/lists/${id}/items`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ title: "Lamp" }),
      });
      return { status: response.status, retry: response.headers.get("retry-after"), body: await response.json() };
    }, id);
    expect(answer.status).toBe(503);
    expect(answer.retry).toBe("5");
    expect(answer.body.error.code).toBe("unavailable");
    // Every instance stops saying it is ready (a proxy with health checks
    // would stop sending to it), while staying alive.
    await expect.poll(readiness, { timeout: 10_000 }).toEqual([503, 503, 503]);
    const alive = await fetch(`http://127.0.0.1:${instances.a.port}/healthz`);
    expect(alive.status).toBe(200);
  } finally {
    const { options, log } = setup.postgres;
    pgCtl("-o", options, "-l", log, "-w", "start");
  }

  // Back: the first write goes in as soon as an instance can reach the
  // database again (before each instance's change listener is back,
  // perhaps); every page still gets it, by notification or by catching up.
  await expect(async () => {
    await add.getByLabel("Gift").fill("Lamp");
    await add.getByRole("button", { name: "Add" }).click();
    await expect(alice.getByTestId("item").filter({ hasText: "Lamp" }).and(alice.locator(":not([data-pending])"))).toBeVisible({
      timeout: 3000,
    });
  }).toPass({ timeout: 20_000 });
  await expect.poll(readiness, { timeout: 20_000 }).toEqual([200, 200, 200]);
  for (const page of [bob, carol]) {
    await expect(page.getByTestId("item").filter({ hasText: "Lamp" })).toBeVisible({ timeout: 5000 });
  }
  // Later changes are live everywhere within 1 s again, Bob's included.
  await claimAndAddEverywhere(alice, bob, carol);
  // Nobody reloaded; every page is live; exactly one Lamp each.
  for (const page of [alice, bob, carol]) {
    await expect(page.getByTestId("connection-status")).toHaveAttribute("data-status", "live");
    expect(await page.evaluate(() => (window as unknown as { giftlistMark?: number }).giftlistMark)).toBe(1);
    await expect(page.getByTestId("item").filter({ hasText: "Lamp" })).toHaveCount(1);
  }
  for (const frame of sockets.bob.frames) {
    expect(frame).not.toMatch(/"claim":\{|"claims":\[\{|"by":"|STATUS_CHANGED/);
  }
  expect(sockets.alice.frames.some((frame) => /"claims":\[\{/.test(frame))).toBe(true);
});

test("server-sent events pass nginx unbuffered: each event arrives at once, over TLS and HTTP/2", async ({ browser }) => {
  const { alice, carol, list } = await threeOnThree(browser);
  const add = alice.getByTestId("add-item");
  await add.getByLabel("Gift").fill("Kite");
  await add.getByRole("button", { name: "Add" }).click();
  const kite = carol.getByTestId("item").filter({ hasText: "Kite" });
  await kite.getByRole("button", { name: "I'll get this" }).click();
  await expect(kite.getByTestId("claim")).toHaveText("Reserved by you");

  // Carol's notifications, read as a stream in her page: each chunk with
  // the time it arrived.
  const instance = await carol.evaluate(async () => {
    const response = await fetch("/events", { headers: { Accept: "text/event-stream" } });
    const reader = response.body!.getReader();
    const chunks: { at: number; text: string }[] = [];
    (window as unknown as { sse: typeof chunks }).sse = chunks;
    const decoder = new TextDecoder();
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        chunks.push({ at: Date.now(), text: decoder.decode(value) });
      }
    })();
    return response.headers.get("x-giftlist-instance");
  });
  expect(["a", "b", "c"]).toContain(instance);

  // Alice renames the gift Carol claimed: Carol is told (user topic).
  const id = list.split("/").at(-1);
  const written = await alice.evaluate(async (id) => {
    const { items } = await (await fetch(`/api/v1/lists/${id}`)).json();
    const item = items.find((i: { title: string }) => i.title === "Kite");
    const response = await fetch(`/api/v1/items/${item.id}`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ version: item.version, title: "Red kite" }),
    });
    if (!response.ok) throw new Error(`PATCH answered ${response.status}`);
    return Date.now();
  }, id);
  const arrived = async () => {
    const chunks = await carol.evaluate(() => (window as unknown as { sse: { at: number; text: string }[] }).sse);
    return chunks.find((chunk) => chunk.text.includes("Red kite"))?.at ?? null;
  };
  await expect.poll(arrived, { timeout: 5000 }).not.toBeNull();
  const at = (await arrived())!;
  // Buffered by the proxy, it would wait for kilobytes more or the
  // stream's end; unbuffered, it is here within a second.
  expect(at - written).toBeLessThan(1000);
  const record = (await carol.evaluate(() => (window as unknown as { sse: { text: string }[] }).sse))
    .map((chunk) => chunk.text)
    .join("");
  expect(record).toMatch(/event: UPDATED\ndata: \{.*"Red kite"/);
});
