import {
  test,
  expect,
  waitForHydration,
  newMember,
  familyOfThree,
  openLive,
  openNewList,
  stillSameDocument,
} from "./fixtures";
import type { Page } from "@playwright/test";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

const live = { timeout: 1000 };

test("every change shows up live for the others; the recipient never receives a claim", async ({ browser }) => {
  const alice = await newMember(browser, "Alice");
  const bob = await newMember(browser, "Bob");
  const carol = await newMember(browser, "Carol");
  const listUrl = await familyOfThree(alice, bob, carol);

  // Every frame Bob's page receives on its sockets.
  const bobFrames: string[] = [];
  bob.on("websocket", (socket) => {
    socket.on("framereceived", (frame) => bobFrames.push(String(frame.payload)));
  });
  for (const page of [alice, bob, carol]) await openLive(page, listUrl);

  // Add.
  const add = carol.getByTestId("add-item");
  await add.getByLabel("Gift").fill("Kite");
  await add.getByRole("button", { name: "Add" }).click();
  for (const page of [alice, bob]) {
    await expect(page.getByTestId("item").filter({ hasText: "Kite" })).toHaveCount(1, live);
  }

  // Claim, and mark bought: the members see it, the recipient does not.
  const aliceKite = alice.getByTestId("item").filter({ hasText: "Kite" });
  await aliceKite.getByRole("button", { name: "I'll get this" }).click();
  const carolKite = carol.getByTestId("item").filter({ hasText: "Kite" });
  await expect(carolKite.getByTestId("claim")).toHaveText("Reserved by Alice", live);
  await aliceKite.getByRole("button", { name: "Mark bought" }).click();
  await expect(carolKite.getByTestId("claim")).toHaveText("Bought by Alice", live);

  // Edit.
  await carolKite.getByText("Edit").click();
  await carolKite.getByLabel("Gift").fill("Red kite");
  await carolKite.getByRole("button", { name: "Save" }).click();
  for (const page of [alice, bob]) {
    await expect(page.getByTestId("item").locator(".item-title")).toHaveText("Red kite", live);
  }

  // Release.
  await aliceKite.getByRole("button", { name: "Release" }).click();
  await expect(carolKite.getByTestId("claim")).toHaveCount(0, live);
  await expect(carolKite.getByRole("button", { name: "I'll get this" })).toBeVisible(live);

  // Remove.
  await carol.getByRole("button", { name: "Remove Red kite" }).click();
  for (const page of [alice, bob]) {
    await expect(page.getByTestId("item")).toHaveCount(0, live);
  }

  for (const page of [alice, bob, carol]) await stillSameDocument(page);
  // Bob's page never showed, and his socket never carried, a claim.
  await expect(bob.getByTestId("claim")).toHaveCount(0);
  const events = bobFrames.filter((frame) => frame.includes('"type":"event"'));
  expect(events.length).toBe(3);
  for (const frame of bobFrames) {
    expect(frame).not.toContain("STATUS_CHANGED");
    expect(frame).not.toMatch(/"claim":\{/);
    expect(frame).not.toContain("reserved");
    expect(frame).not.toContain("purchased");
  }
});

async function addGift(page: Page, title: string): Promise<void> {
  const add = page.getByTestId("add-item");
  await add.getByLabel("Gift").fill(title);
  await add.getByRole("button", { name: "Add" }).click();
  await expect(page.getByTestId("item").filter({ hasText: title })).toHaveCount(1);
}

test("a blocked socket falls back to polling, then comes back live", async ({ browser }) => {
  test.setTimeout(60_000);
  const alice = await newMember(browser, "Alice");
  const bob = await newMember(browser, "Bob");
  const carol = await newMember(browser, "Carol");
  const listUrl = await familyOfThree(alice, bob, carol);

  let blocked = true;
  await alice.routeWebSocket(/\/ws$/, (socket) => {
    if (blocked) socket.close();
    else socket.connectToServer();
  });
  await alice.goto(listUrl);
  await waitForHydration(alice);
  const status = alice.getByTestId("connection-status");
  await expect(status).toHaveText("Polling");
  await expect(status).toHaveAttribute("data-status", "polling");

  await openLive(carol, listUrl);
  await addGift(carol, "Puzzle");
  // Polled every 10 s.
  await expect(alice.getByTestId("item").filter({ hasText: "Puzzle" })).toHaveCount(1, { timeout: 12_000 });

  // Unblocked (the browser's "online" event makes it try at once).
  blocked = false;
  await alice.evaluate(() => window.dispatchEvent(new Event("online")));
  await expect(status).toHaveText("Live");
  await addGift(carol, "Yo-yo");
  await expect(alice.getByTestId("item").filter({ hasText: "Yo-yo" })).toHaveCount(1, live);
});

test("offline pauses the connection; back online, missed changes arrive", async ({ browser }) => {
  const alice = await newMember(browser, "Alice");
  const bob = await newMember(browser, "Bob");
  const carol = await newMember(browser, "Carol");
  const listUrl = await familyOfThree(alice, bob, carol);
  await openLive(alice, listUrl);
  await openLive(carol, listUrl);

  await alice.context().setOffline(true);
  const status = alice.getByTestId("connection-status");
  await expect(status).toHaveText("Offline");
  await addGift(carol, "Marbles");
  await addGift(carol, "Chalk");
  await expect(alice.getByTestId("item")).toHaveCount(0);

  await alice.context().setOffline(false);
  await expect(status).toHaveText("Live");
  await expect(alice.getByTestId("item")).toHaveCount(2);
  await stillSameDocument(alice);
});

/** A port nobody listens on now. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as net.AddressInfo).port;
  server.close();
  await once(server, "close");
  return port;
}

/** The debug server binary `cargo leptos end-to-end` built, on its own port and data. */
function startServer(port: number, dataDir: string): ChildProcess {
  const root = path.resolve(process.cwd(), "..");
  return spawn(path.join(root, "target/debug/giftlist"), [], {
    env: {
      PATH: process.env.PATH ?? "",
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: path.join(root, "target/site"),
      GIFTLIST_DATA_DIR: dataDir,
      RUST_LOG: "warn",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
}

async function waitUp(base: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {
      // not yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${base} did not start`);
}

test("the server stops and comes back: Reconnecting, then Live, with the changes made meanwhile", async ({ browser }) => {
  test.setTimeout(90_000);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const data = fs.mkdtempSync(path.join(os.tmpdir(), "giftlist-e2e-restart-"));
  let server = startServer(port, data);
  try {
    await waitUp(base);
    const alice = await newMember(browser, "Alice", base);
    const bob = await newMember(browser, "Bob", base);
    const carol = await newMember(browser, "Carol", base);
    const listUrl = await familyOfThree(alice, bob, carol);
    await openLive(alice, listUrl);
    await openLive(carol, listUrl);

    server.kill("SIGTERM");
    await once(server, "exit");
    const status = alice.getByTestId("connection-status");
    await expect(status).toHaveText(/^Reconnecting \(attempt \d+, next try in \d+ s\)$/);
    await expect(status).toHaveAttribute("data-status", "reconnecting");

    server = startServer(port, data);
    await waitUp(base);
    // Made before Alice's page is back: it must arrive by replay.
    await addGift(carol, "Robot");
    await expect(status).toHaveText("Live", { timeout: 20_000 });
    await expect(alice.getByTestId("item").filter({ hasText: "Robot" })).toHaveCount(1, live);
    await stillSameDocument(alice);
  } finally {
    server.kill("SIGTERM");
    fs.rmSync(data, { recursive: true, force: true });
  }
});

test("the family page shows new, renamed and removed lists and new members live", async ({ browser }) => {
  const alice = await newMember(browser, "Alice");
  const bob = await newMember(browser, "Bob");
  const carol = await newMember(browser, "Carol");
  const listUrl = await familyOfThree(alice, bob, carol);
  const origin = new URL(listUrl).origin;
  const listId = new URL(listUrl).pathname.split("/").pop();
  const familyPath = await alice.getByRole("link", { name: "← Family" }).getAttribute("href");
  const familyUrl = `${origin}${familyPath}`;
  await openLive(carol, familyUrl);
  const lists = carol.getByTestId("lists");

  // Renamed (through the API, as its creator).
  const renamed = await alice.request.patch(`${origin}/api/v1/lists/${listId}`, {
    data: { title: "Bob's big birthday" },
    headers: { origin },
  });
  expect(renamed.status()).toBe(200);
  await expect(lists).toContainText("Bob's big birthday", live);

  // Created on the family page.
  await alice.goto(familyUrl);
  await waitForHydration(alice);
  await openNewList(alice);
  await alice.getByLabel("Title").fill("Holidays");
  await alice.getByLabel("Or their name").fill("Grandpa");
  await alice.getByRole("button", { name: "Create list" }).click();
  await expect(lists).toContainText("Holidays", live);

  // Removed.
  await alice.goto(familyUrl);
  const holidays = alice.getByRole("link", { name: "Holidays" });
  const holidaysId = (await holidays.getAttribute("href"))!.split("/").pop();
  const removed = await alice.request.delete(`${origin}/api/v1/lists/${holidaysId}`, { headers: { origin } });
  expect(removed.status()).toBe(204);
  await expect(lists.getByRole("link")).toHaveCount(1, live);
  await expect(lists).not.toContainText("Holidays");

  // A new member.
  await alice.getByRole("button", { name: "Make an invite link" }).click();
  const link = await alice.getByTestId("invite-link").inputValue();
  const dave = await newMember(browser, "Dave");
  await dave.goto(link);
  await dave.getByRole("button", { name: "Join the family" }).click();
  await expect(carol.getByTestId("members")).toContainText("Dave", live);
  await stillSameDocument(carol);
});

test("leaving the list page unsubscribes on the server", async ({ browser }) => {
  const alice = await newMember(browser, "Alice");
  const bob = await newMember(browser, "Bob");
  const carol = await newMember(browser, "Carol");
  const listUrl = await familyOfThree(alice, bob, carol);
  // Topics held by sockets: every SSE stream (the notices) holds one too.
  const subscriptions = async () => {
    const text = await (await alice.request.get("/metrics", { headers: { authorization: "Bearer e2e-metrics" } })).text();
    const gauge = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(text)![1]);
    return gauge("giftlist_subscriptions") - gauge("giftlist_sse_connections");
  };
  await openLive(alice, listUrl);
  const following = await subscriptions();
  // To the home page, inside the app (no reload): nothing there follows a topic.
  await alice.getByRole("link", { name: "Giftlist" }).click();
  await expect(alice).toHaveURL(/\/$/);
  await expect.poll(subscriptions).toBe(following - 1);
  await expect(alice.getByTestId("connection-status")).toHaveAttribute("data-status", "idle", { timeout: 10_000 });
  await stillSameDocument(alice);
});

test("changes show at once, marked pending, and a refused one is rolled back with a message", async ({ browser }) => {
  const alice = await newMember(browser, "Alice");
  const bob = await newMember(browser, "Bob");
  const carol = await newMember(browser, "Carol");
  const listUrl = await familyOfThree(alice, bob, carol);
  await openLive(alice, listUrl);

  // A slow server: the new row is there before the answer, pending, and
  // there is exactly one row once the answer and the event are in.
  let release: () => void = () => {};
  const answered = new Promise<void>((resolve) => (release = resolve));
  await alice.route("**/api/fn/add_item", async (route) => {
    await answered;
    await route.continue();
  });
  const add = alice.getByTestId("add-item");
  await add.getByLabel("Gift").fill("Drum");
  await add.getByRole("button", { name: "Add" }).click();
  const drum = alice.getByTestId("item").filter({ hasText: "Drum" });
  await expect(drum).toHaveCount(1, { timeout: 500 });
  await expect(drum).toHaveAttribute("data-pending", "true");
  release();
  await expect(drum).not.toHaveAttribute("data-pending");
  await expect(drum).toHaveCount(1);
  await alice.unroute("**/api/fn/add_item");

  // The network fails under a claim: the claim shows at once, then rolls
  // back, and the page says why.
  await alice.route("**/api/fn/item_action", (route) => route.abort("failed"));
  await drum.getByRole("button", { name: "I'll get this" }).click();
  await expect(alice.getByTestId("form-error")).toBeVisible();
  await expect(drum.getByTestId("claim")).toHaveCount(0);
  await expect(drum.getByRole("button", { name: "I'll get this" })).toBeVisible();
  await expect(drum).not.toHaveAttribute("data-pending");
  await alice.unroute("**/api/fn/item_action");

  // A refused removal brings the row back.
  await alice.route("**/api/fn/item_action", (route) => route.abort("failed"));
  await alice.getByRole("button", { name: "Remove Drum" }).click();
  await expect(drum).toBeVisible();
  await expect(drum).not.toHaveAttribute("data-pending");
  await expect(alice.getByTestId("form-error")).toBeVisible();
});

test("a request that fails without the app's answer says so in words and rolls back", async ({ browser }) => {
  const alice = await newMember(browser, "Alice");
  const bob = await newMember(browser, "Bob");
  const carol = await newMember(browser, "Carol");
  const listUrl = await familyOfThree(alice, bob, carol);
  await openLive(alice, listUrl);
  await addGift(alice, "Kite");
  const items = alice.getByTestId("item");
  const kite = items.first();
  const error = alice.getByTestId("form-error");
  // What a reverse proxy sends when the app is down, and a 500 whose JSON
  // is not the app's.
  const failures = [
    { status: 502, contentType: "text/html", body: "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>" },
    { status: 500, contentType: "application/json", body: JSON.stringify({ detail: "upstream exploded", trace: [1, 2, 3] }) },
  ];
  for (const failure of failures) {
    const answered = `the server answered ${failure.status}. Try again.`;
    const failing = async (name: string, act: () => Promise<void>) => {
      await alice.route(`**/api/fn/${name}`, (route) => route.fulfill(failure));
      await act();
      await alice.unroute(`**/api/fn/${name}`);
    };

    await failing("add_item", async () => {
      const add = alice.getByTestId("add-item");
      await add.getByLabel("Gift").fill("Teapot");
      await add.getByRole("button", { name: "Add" }).click();
      await expect(error).toHaveText(`Could not add “Teapot”: ${answered}`);
      await expect(items).toHaveCount(1);
    });

    await failing("edit_item", async () => {
      await kite.getByText("Edit").click();
      await kite.getByLabel("Gift").fill("Box kite");
      await kite.getByRole("button", { name: "Save" }).click();
      await expect(error).toHaveText(`Could not save “Kite”: ${answered}`);
      await expect(kite.locator(".item-title")).toHaveText("Kite");
      await expect(kite).not.toHaveAttribute("data-pending");
      await kite.getByText("Edit").click();
    });

    await failing("item_action", async () => {
      await kite.getByRole("button", { name: "I'll get this" }).click();
      await expect(error).toHaveText(`Could not reserve “Kite”: ${answered}`);
      await expect(kite.getByTestId("claim")).toHaveCount(0);
      await expect(kite.getByRole("button", { name: "I'll get this" })).toBeVisible();
    });

    await failing("item_action", async () => {
      await alice.getByRole("button", { name: "Remove Kite" }).click();
      await expect(error).toHaveText(`Could not remove “Kite”: ${answered}`);
      await expect(items).toHaveCount(1);
      await expect(kite).not.toHaveAttribute("data-pending");
    });
  }
  // Nothing of a parser's words ever reached the page.
  await expect(alice.locator("body")).not.toContainText("missing field");
});

test("a claimer hears, wherever they are, when their gift is changed or removed", async ({ browser }) => {
  const alice = await newMember(browser, "Alice");
  const bob = await newMember(browser, "Bob");
  const carol = await newMember(browser, "Carol");
  const listUrl = await familyOfThree(alice, bob, carol);
  await openLive(carol, listUrl);
  await addGift(carol, "Skates");
  await openLive(alice, listUrl);
  const skates = alice.getByTestId("item").filter({ hasText: "Skates" });
  await skates.getByRole("button", { name: "I'll get this" }).click();
  await expect(skates.getByTestId("claim")).toHaveText("Reserved by you");
  await alice.getByRole("link", { name: "Giftlist" }).click();
  await expect(alice).toHaveURL(/\/$/);

  const carolSkates = carol.getByTestId("item").filter({ hasText: "Skates" });
  await carolSkates.getByText("Edit").click();
  await carolSkates.getByLabel("Gift").fill("Ice skates");
  await carolSkates.getByRole("button", { name: "Save" }).click();
  const notices = alice.getByTestId("notices");
  await expect(notices).toContainText("“Ice skates”, which you claimed, was changed.", live);
  await carol.getByRole("button", { name: "Remove Ice skates" }).click();
  await expect(notices).toContainText("“Ice skates”, which you claimed, was removed.", live);
  // Carol's own changes to her own claims would not notify her; she has none.
  await expect(carol.getByTestId("notices")).toBeEmpty();
});
