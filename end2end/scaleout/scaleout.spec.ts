import { spawn } from "node:child_process";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { expect, test, type Page } from "@playwright/test";
import { familyOfThree, newMember, openLive } from "../tests/fixtures";

// Run by scripts/test-scaleout.sh: nginx on SCALEOUT_URL in front of
// instances a, b and c (one PostgreSQL database, round-robin, no sticky
// sessions). Each answer names its instance in X-Giftlist-Instance.
const work = process.env.SCALEOUT_WORK ?? "";
const instances: Record<string, { port: number }> = JSON.parse(readFileSync(`${work}/instances.json`, "utf8"));

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
  const alice = await newMember(browser, "Alice");
  const bob = await newMember(browser, "Bob");
  const carol = await newMember(browser, "Carol");
  // A list for Bob: Alice and Carol give, Bob must learn nothing of it.
  const list = await familyOfThree(alice, bob, carol);
  const sockets = {
    alice: await watchSocket(alice),
    bob: await watchSocket(bob),
    carol: await watchSocket(carol),
  };
  const on: Record<string, string> = {};
  on.alice = await liveOnAnotherInstance(alice, sockets.alice, list, []);
  on.bob = await liveOnAnotherInstance(bob, sockets.bob, list, [on.alice]);
  on.carol = await liveOnAnotherInstance(carol, sockets.carol, list, [on.alice, on.bob]);
  expect(new Set(Object.values(on)).size).toBe(3);

  // Every change, made through any instance, shows everywhere within 1 s.
  const add = alice.getByTestId("add-item");
  await add.getByLabel("Gift").fill("Kite");
  await add.getByRole("button", { name: "Add" }).click();
  for (const page of [bob, carol]) {
    await expect(page.getByTestId("item").filter({ hasText: "Kite" })).toBeVisible({ timeout: 1000 });
  }
  const kite = (page: Page) => page.getByTestId("item").filter({ hasText: "Kite" });
  await kite(carol).getByRole("button", { name: "I'll get this" }).click();
  await expect(kite(alice).getByTestId("claim")).toHaveText("Reserved by Carol", { timeout: 1000 });
  const bobAdds = bob.getByTestId("add-item");
  await bobAdds.getByLabel("Gift").fill("Scarf");
  await bobAdds.getByRole("button", { name: "Add" }).click();
  for (const page of [alice, carol]) {
    await expect(page.getByTestId("item").filter({ hasText: "Scarf" })).toBeVisible({ timeout: 1000 });
  }

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
