import { test, expect, newMember, familyOfThree, openLive, waitForHydration } from "./fixtures";
import type { Browser, Page } from "@playwright/test";

const live = { timeout: 1000 };

/** A page in a fresh context with no account; console errors are collected. */
async function stranger(browser: Browser, errors: string[]): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  return page;
}

test("a guest without an account claims from a givers' link, members see it live, the guest releases it from their own link, and the recipient never sees any of it", async ({ browser }) => {
  const alice = await newMember(browser, "Alice");
  const bob = await newMember(browser, "Bob");
  const carol = await newMember(browser, "Carol");
  const url = await familyOfThree(alice, bob, carol);
  const bobFrames: string[] = [];
  bob.on("websocket", (socket) => socket.on("framereceived", (frame) => bobFrames.push(String(frame.payload))));
  for (const page of [alice, bob, carol]) await openLive(page, url);

  const add = alice.getByTestId("add-item");
  await add.getByLabel("Gift").fill("Teapot");
  await add.getByRole("button", { name: "Add" }).click();
  const row = (page: Page) => page.getByTestId("item").filter({ hasText: "Teapot" });
  for (const page of [alice, bob, carol]) await expect(row(page)).toHaveCount(1, live);

  // Bob, the recipient, may share the list to show it, never to give it away.
  await bob.getByTestId("shares").locator("summary").click();
  await expect(bob.getByTestId("make-share").getByRole("radio")).toHaveCount(1);
  await expect(bob.getByTestId("givers-warning")).toHaveCount(0);

  // Alice makes a givers' link: the page says plainly what it shows.
  const shares = alice.getByTestId("shares");
  await shares.locator("summary").click();
  await expect(alice.getByTestId("givers-warning")).toContainText("can see which gifts are taken");
  await shares.getByLabel("For givers: what is still available, and they can claim gifts").check();
  await shares.getByRole("button", { name: "Make link" }).click();
  const givers = shares.getByTestId("share-link").filter({ hasText: "Givers' link" });
  await expect(givers).toHaveCount(1);
  const link = await givers.getByTestId("share-url").inputValue();
  expect(link).toMatch(/\/s\/[0-9a-f]{40}$/);

  // Grandma opens it in a browser of her own: the list, live, with what is free.
  const errors: string[] = [];
  const grandma = await stranger(browser, errors);
  const opened = await grandma.goto(link);
  expect(opened?.headers()["referrer-policy"]).toBe("no-referrer");
  await waitForHydration(grandma);
  await expect(grandma.getByTestId("connection-status")).toHaveText("Live");
  await expect(grandma.getByRole("heading", { level: 1 })).toHaveText("Bob's birthday");
  await expect(row(grandma).getByTestId("availability")).toHaveText("Available");
  await row(grandma).getByLabel("Your name").fill("Grandma");
  await row(grandma).getByRole("button", { name: "I'll get this" }).click();

  // Alice and Carol see who, at once; Grandma sees her part and her own link.
  for (const page of [alice, carol]) {
    await expect(row(page).getByTestId("claim")).toHaveText("Reserved by Grandma (guest)", live);
  }
  await expect(row(grandma).getByTestId("availability")).toHaveText("You are getting 1 of this.");
  const manage = await grandma.getByTestId("manage-link").getAttribute("href");
  expect(manage).toMatch(/\/g\/[0-9a-f]{40}$/);

  // A gift added meanwhile reaches Grandma live, available.
  await add.getByLabel("Gift").fill("Kettle");
  await add.getByRole("button", { name: "Add" }).click();
  const kettle = grandma.getByTestId("item").filter({ hasText: "Kettle" });
  await expect(kettle.getByTestId("availability")).toHaveText("Available", live);

  // On another device, her own link makes that browser her: she releases.
  const phone = await stranger(browser, errors);
  await phone.goto(manage!);
  await waitForHydration(phone);
  await expect(phone.getByTestId("guest-box")).toContainText("You are giving as Grandma.");
  await expect(row(phone).getByTestId("availability")).toHaveText("You are getting 1 of this.");
  await row(phone).getByRole("button", { name: "Release" }).click();
  await expect(row(alice).getByTestId("claim")).toHaveCount(0, live);
  await expect(row(grandma).getByTestId("availability")).toHaveText("Available", live);

  // Bob saw none of it: not on his page, not in a frame, not through the link.
  await expect(row(bob).getByTestId("claim")).toHaveCount(0);
  for (const frame of bobFrames) {
    expect(frame).not.toContain("Grandma");
    expect(frame).not.toContain("STATUS_CHANGED");
  }
  await bob.goto(link);
  await waitForHydration(bob);
  await expect(row(bob)).toHaveCount(1);
  await expect(row(bob).getByTestId("availability")).toHaveCount(0);
  await expect(bob.getByTestId("guest-claim")).toHaveCount(0);
  await expect(bob.getByTestId("share-note")).toHaveCount(0);

  // Alice revokes the link: Grandma's open page ends at once.
  await givers.getByTestId("revoke-share").click();
  await expect(shares.getByTestId("share-link")).toHaveCount(0);
  await expect(grandma.getByTestId("link-ended")).toBeVisible(live);
  await expect(grandma.getByTestId("connection-status")).toHaveAttribute("data-status", "link-ended");
  const after = await phone.goto(link);
  expect(after?.status()).toBe(403);
  await expect(phone.getByTestId("share-error")).toHaveText("this link was revoked");

  // A link that never existed is a plain 404 page.
  const unknown = await phone.goto(`/s/${"0".repeat(40)}`);
  expect(unknown?.status()).toBe(404);
  // The browser reports the refused page loads themselves; nothing else may fail.
  expect(errors.filter((error) => !/status of 40[34]/.test(error))).toEqual([]);
});

test("a guest's claim that the server refuses rolls back and says why", async ({ browser }) => {
  const alice = await newMember(browser, "Alice");
  const bob = await newMember(browser, "Bob");
  const carol = await newMember(browser, "Carol");
  const url = await familyOfThree(alice, bob, carol);
  await openLive(alice, url);
  const add = alice.getByTestId("add-item");
  await add.getByLabel("Gift").fill("Bike");
  await add.getByRole("button", { name: "Add" }).click();
  const shares = alice.getByTestId("shares");
  await shares.locator("summary").click();
  await shares.getByLabel("For givers: what is still available, and they can claim gifts").check();
  await shares.getByRole("button", { name: "Make link" }).click();
  const link = await shares.getByTestId("share-url").inputValue();

  const errors: string[] = [];
  const uncle = await stranger(browser, errors);
  await uncle.goto(link);
  await waitForHydration(uncle);
  await expect(uncle.getByTestId("connection-status")).toHaveText("Live");
  const bike = uncle.getByTestId("item").filter({ hasText: "Bike" });
  await expect(bike.getByTestId("availability")).toHaveText("Available");

  // Carol takes it first: the uncle's click is held until she has, so it
  // reaches the server too late.
  await uncle.route("**/api/fn/guest_act", async (route) => {
    const row = alice.getByTestId("item").filter({ hasText: "Bike" });
    await carol.goto(url);
    await carol.getByTestId("item").filter({ hasText: "Bike" }).getByRole("button", { name: "I'll get this" }).click();
    await expect(row.getByTestId("claim")).toHaveText("Reserved by Carol");
    await route.continue();
  });
  await bike.getByLabel("Your name").fill("Uncle Sam");
  await bike.getByRole("button", { name: "I'll get this" }).click();
  await expect(uncle.getByTestId("form-error")).toHaveText("someone else has already claimed this item");
  await expect(bike.getByTestId("availability")).toHaveText("Taken");
  // The browser reports the refused request itself; nothing else may fail.
  expect(errors.filter((error) => !error.includes("status of 409"))).toEqual([]);
});
