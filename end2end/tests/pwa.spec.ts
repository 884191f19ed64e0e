import { test, expect, waitForHydration, newMember, openNewList } from "./fixtures";
import type { Browser, BrowserContext, Page } from "@playwright/test";

// One family for the whole file: Alice, alone in it, with two lists for
// people without an account, the first holding a gift. Each test opens a
// fresh context logged in as her (the service worker belongs to a context,
// so none carries over), and none of them logs her out.
type StorageState = Awaited<ReturnType<BrowserContext["storageState"]>>;
let alice: StorageState;
let firstList: string;
let secondList: string;
const secondTitle = "Ana's list";
const gift = "Red scarf";

async function newList(page: Page, title: string, name: string): Promise<string> {
  await openNewList(page);
  await page.getByLabel("Title").fill(title);
  await page.getByLabel("Or their name").fill(name);
  await page.getByRole("button", { name: "Create list" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(title);
  return page.url();
}

test.beforeAll(async ({ browser }) => {
  const page = await newMember(browser, "Alice");
  await page.getByLabel("Family name").fill("The Pwas");
  await page.getByRole("button", { name: "Create family" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("The Pwas");
  const family = page.url();
  await waitForHydration(page);
  firstList = await newList(page, "Tim's list", "Tim");
  await waitForHydration(page);
  const add = page.getByTestId("add-item");
  await add.getByLabel("Gift").fill(gift);
  await add.getByRole("button", { name: "Add" }).click();
  await expect(page.getByTestId("item")).toHaveCount(1);
  await page.goto(family);
  await waitForHydration(page);
  secondList = await newList(page, secondTitle, "Ana");
  alice = await page.context().storageState();
  await page.context().close();
});

/** Alice in a fresh context; console errors and uncaught exceptions are collected. */
async function asAlice(browser: Browser, errors: string[] = []): Promise<Page> {
  const context = await browser.newContext({ storageState: alice });
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  return page;
}

/** Whether the service worker keeps a copy of this address (any of its caches). */
function isKept(page: Page, url: string): Promise<boolean> {
  return page.evaluate(async (url) => (await caches.match(url)) !== undefined, url);
}

test("the manifest describes an installable app that takes shared links", async ({ request }) => {
  const response = await request.get("/manifest.webmanifest");
  expect(response.status()).toBe(200);
  expect(response.headers()["content-type"]).toMatch(/json/);
  const manifest = await response.json();
  expect(manifest).toMatchObject({
    name: "Giftlist",
    short_name: "Giftlist",
    start_url: "/",
    scope: "/",
    display: "standalone",
  });
  expect(manifest.share_target).toEqual({
    action: "/share",
    method: "GET",
    params: { title: "title", text: "text", url: "url" },
  });
  expect(manifest.icons.map((icon: { purpose: string }) => icon.purpose)).toEqual(["any", "any", "maskable"]);
  for (const icon of manifest.icons as Array<{ src: string }>) {
    const image = await request.get(icon.src);
    expect(image.status(), icon.src).toBe(200);
    expect(image.headers()["content-type"], icon.src).toBe("image/png");
  }
});

test("a page links the manifest and registers the service worker, without errors", async ({ browser }) => {
  const errors: string[] = [];
  const page = await asAlice(browser, errors);
  await page.goto(firstList);
  await waitForHydration(page);
  await expect(page.locator('head link[rel="manifest"]')).toHaveAttribute("href", "/manifest.webmanifest");
  const script = await page.evaluate(async () => (await navigator.serviceWorker.ready).active?.scriptURL);
  expect(script).toMatch(/\/sw\.js$/);
  expect(errors, "console errors in the page").toEqual([]);
  await page.context().close();
});

test("a list read before still reads offline, saying so; a page never read says you are offline", async ({ browser }) => {
  const page = await asAlice(browser);
  const context = page.context();
  await page.goto(firstList);
  await waitForHydration(page);
  // The worker takes the open page once it is active (clients.claim);
  // should it not have, a reload puts the page under it.
  const controlled = await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise<void>((resolve) => {
        navigator.serviceWorker.addEventListener("controllerchange", () => resolve(), { once: true });
        setTimeout(() => resolve(), 2000);
      });
    }
    return navigator.serviceWorker.controller !== null;
  });
  if (!controlled) await page.reload();
  expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);

  // Read again online: now through the worker, which keeps a copy.
  await page.goto(firstList);
  await waitForHydration(page);
  await expect(page.getByTestId("offline-note")).toBeHidden();
  await expect.poll(() => isKept(page, firstList)).toBe(true);

  await context.setOffline(true);
  try {
    await page.reload();
    await expect(page.getByTestId("item").filter({ hasText: gift })).toBeVisible();
    await expect(page.getByTestId("offline-note")).toBeVisible();
    await expect(page.locator("html")).toHaveAttribute("data-offline", "");

    await page.goto("/lists/999999");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("You are offline");
    await expect(page.getByText("Lists you opened before can still be read.")).toBeVisible();
    await expect(page.getByRole("link", { name: "Try again" })).toHaveAttribute("href", "/");
  } finally {
    await context.setOffline(false);
  }
  await context.close();
});

test("a link shared to the app opens the chosen list's add form, filled in", async ({ browser }) => {
  const page = await asAlice(browser);
  await page.goto(
    `/share?title=${encodeURIComponent("Blue kettle")}&text=${encodeURIComponent("Look at this https://shop.example/kettle")}`,
  );
  const lists = page.getByTestId("share-list");
  await expect(lists).toHaveCount(2);
  const chosen = lists.filter({ hasText: secondTitle });
  await expect(chosen).toHaveAttribute("href", /#add-a-gift$/);
  await chosen.click();
  const path = new URL(secondList).pathname;
  await expect(page).toHaveURL((url) => url.pathname === path);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(secondTitle);
  const add = page.getByTestId("add-item");
  await expect(add.getByLabel("Link (optional)")).toHaveValue("https://shop.example/kettle");
  await expect(add.getByLabel("Gift")).toHaveValue("Blue kettle");
  await page.context().close();
});

test("a link shared to the app without an account asks to log in first, then comes back with it", async ({ browser, request }) => {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`/share?url=${encodeURIComponent("https://shop.example/kettle")}`);
  await expect(page).toHaveURL((url) => url.pathname === "/login");
  await expect(page.getByLabel("Email")).toBeVisible();
  // Someone with an account (made apart, so this page is not logged in)
  // logs in there and finds the shared link waiting.
  const email = `erin-${Date.now()}@example.org`;
  const made = await request.post("/api/v1/auth/register", {
    data: { email, name: "Erin", password: "correct horse battery" },
  });
  expect(made.status()).toBe(201);
  await waitForHydration(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL((url) => url.pathname === "/share");
  await expect(page.getByTestId("incoming-link")).toHaveText("https://shop.example/kettle");
  await page.context().close();
});

test("logging out forgets the pages kept for offline reading", async ({ browser }) => {
  // Someone else than Alice: logging out ends the session it was in.
  const page = await newMember(browser, "Dana");
  await page.getByLabel("Family name").fill("The Danes");
  await page.getByRole("button", { name: "Create family" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("The Danes");
  const family = page.url();
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  await page.goto(family);
  await waitForHydration(page);
  await expect.poll(() => isKept(page, family)).toBe(true);

  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page.getByTestId("account-name")).toHaveCount(0);
  await expect.poll(() => isKept(page, family)).toBe(false);
  await page.context().close();
});
