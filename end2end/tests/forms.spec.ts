import { test, expect, waitForHydration, newMember, newMemberWithoutScript, openNewList } from "./fixtures";
import type { Page } from "@playwright/test";

/** Three gifts as a person types them, one after another. */
const gifts = [
  { title: "LEGO crane", url: "https://shop.example/lego-crane", price: "89.99", cents: 8999 },
  { title: "Gloves", url: "", price: "19.50", cents: 1950 },
  { title: "Dinosaur book", url: "", price: "", cents: null },
];

/** A family with a list for Tim (no account); the page is on the list. */
async function listForTim(page: Page): Promise<string> {
  await page.getByLabel("Family name").fill("The Norths");
  await page.getByRole("button", { name: "Create family" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("The Norths");
  await openNewList(page);
  await page.getByLabel("Title").fill("Tim's list");
  await page.getByLabel("Or their name").fill("Tim");
  await page.getByRole("button", { name: "Create list" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Tim's list");
  return page.url().split("/lists/")[1];
}

/** Adds the three gifts typing only what each has; the form must be empty between them. */
async function addThreeGifts(page: Page, withScript: boolean): Promise<void> {
  const add = page.getByTestId("add-item");
  for (const [index, gift] of gifts.entries()) {
    await add.getByLabel("Gift").fill(gift.title);
    if (gift.url) await add.getByLabel("Link (optional)").fill(gift.url);
    if (gift.price) await add.getByLabel("Price (optional)").fill(gift.price);
    await add.getByRole("button", { name: "Add" }).click();
    await expect(page.getByTestId("item")).toHaveCount(index + 1);
    await expect(page.locator('[data-testid="item"][data-pending="true"]')).toHaveCount(0);
    await expect(add.getByLabel("Gift")).toHaveValue("");
    await expect(add.getByLabel("Link (optional)")).toHaveValue("");
    await expect(add.getByLabel("Price (optional)")).toHaveValue("");
    await expect(add.getByLabel("Currency")).toHaveValue("EUR");
    await expect(add.getByLabel("Notes (optional)")).toHaveValue("");
    await expect(add.getByLabel("How much wanted (1 most, 5 least)")).toHaveValue("3");
    if (withScript) await expect(add.getByLabel("Gift")).toBeFocused();
  }
}

/** Each stored gift has exactly what was typed for it, read back through the API. */
async function expectStored(page: Page, listId: string): Promise<void> {
  const response = await page.request.get(`/api/v1/lists/${listId}`);
  expect(response.status()).toBe(200);
  const items: Array<Record<string, unknown>> = (await response.json()).items;
  const stored = gifts.map((gift) => items.find((item) => item.title === gift.title));
  for (const [index, gift] of gifts.entries()) {
    expect(stored[index], gift.title).toMatchObject({
      title: gift.title,
      url: gift.url || null,
      price_cents: gift.cents,
      currency: "EUR",
      notes: null,
      priority: 3,
    });
  }
}

/** A refused gift stays in the form as typed, with the reason shown. */
async function refusedGiftIsKept(page: Page): Promise<void> {
  const add = page.getByTestId("add-item");
  await add.getByLabel("Gift").fill("Kite");
  await add.getByLabel("Link (optional)").fill("https://shop.example/kite");
  await add.getByLabel("Price (optional)").fill("twelve");
  await add.getByLabel("Notes (optional)").fill("the red one");
  await add.getByLabel("How much wanted (1 most, 5 least)").selectOption("1");
  await add.getByRole("button", { name: "Add" }).click();
  await expect(page.getByTestId("form-error")).toHaveText("price must be an amount like 12.50");
  await expect(add.getByLabel("Gift")).toHaveValue("Kite");
  await expect(add.getByLabel("Link (optional)")).toHaveValue("https://shop.example/kite");
  await expect(add.getByLabel("Price (optional)")).toHaveValue("twelve");
  await expect(add.getByLabel("Notes (optional)")).toHaveValue("the red one");
  await expect(add.getByLabel("How much wanted (1 most, 5 least)")).toHaveValue("1");
  await expect(page.getByTestId("item")).toHaveCount(3);
}

test("the add form is empty after each gift and keeps a refused one (with the wasm)", async ({ browser }) => {
  const page = await newMember(browser, "Nora");
  await waitForHydration(page);
  const listId = await listForTim(page);
  await waitForHydration(page);
  await addThreeGifts(page, true);
  await expectStored(page, listId);
  await refusedGiftIsKept(page);
  // Corrected, it goes in, and the form is empty again.
  const add = page.getByTestId("add-item");
  await add.getByLabel("Price (optional)").fill("12.00");
  await add.getByRole("button", { name: "Add" }).click();
  await expect(page.getByTestId("item")).toHaveCount(4);
  await expect(add.getByLabel("Gift")).toHaveValue("");
  await expect(add.getByLabel("How much wanted (1 most, 5 least)")).toHaveValue("3");
  await page.context().close();
});

test("the add form is empty after each gift and keeps a refused one (no script at all)", async ({ browser }) => {
  const page = await newMemberWithoutScript(browser, "Nora");
  const listId = await listForTim(page);
  await addThreeGifts(page, false);
  await expectStored(page, listId);
  await refusedGiftIsKept(page);
  await page.context().close();
});

/** Adds a gift with a price (or none) and a priority. */
async function addGift(page: Page, title: string, price: string, priority: string): Promise<void> {
  const add = page.getByTestId("add-item");
  const before = await page.getByTestId("item").count();
  await add.getByLabel("Gift").fill(title);
  await add.getByLabel("Price (optional)").fill(price);
  await add.getByLabel("How much wanted (1 most, 5 least)").selectOption(priority);
  await add.getByRole("button", { name: "Add" }).click();
  await expect(page.getByTestId("item")).toHaveCount(before + 1);
  await expect(page.locator('[data-testid="item"][data-pending="true"]')).toHaveCount(0);
}

async function expectOrder(page: Page, titles: string[]): Promise<void> {
  await expect(page.getByTestId("item").locator(".item-title")).toHaveText(titles);
}

/** Picks an order (and the filter) in the page's own form. */
async function arrange(page: Page, sort: string, onlyAvailable: boolean): Promise<void> {
  const form = page.getByTestId("arrange");
  await form.getByLabel("Sort").selectOption({ label: sort });
  await form.getByLabel("Only what is still available").setChecked(onlyAvailable);
  await form.getByRole("button", { name: "Show" }).click();
}

/** Three gifts, a claim, then each order and the filter, kept in the URL across a reload and a post. */
async function sortAndFilter(page: Page, withScript: boolean): Promise<void> {
  await expect(page.getByTestId("no-gifts")).toHaveText("No gifts yet: add the first one below.");
  await addGift(page, "Kite", "12.00", "3");
  await addGift(page, "Bike", "", "1");
  await addGift(page, "apple", "3.00", "3");
  await expect(page.getByTestId("no-gifts")).toHaveCount(0);
  await expect(page.getByTestId("item").first().locator(".priority")).toHaveText("Most wanted");
  await expectOrder(page, ["Bike", "Kite", "apple"]);

  await arrange(page, "Cheapest first", false);
  await expect(page).toHaveURL(/sort=price/);
  await expectOrder(page, ["apple", "Kite", "Bike"]);
  await page.reload();
  if (withScript) await waitForHydration(page);
  await expectOrder(page, ["apple", "Kite", "Bike"]);

  // A claim made in this order comes back to the same order.
  await page.getByTestId("item").filter({ hasText: "Kite" }).getByRole("button", { name: "I'll get this" }).click();
  await expect(page.getByTestId("item").filter({ hasText: "Kite" }).getByTestId("claim")).toHaveText("Reserved by you");
  await expect(page).toHaveURL(/sort=price/);
  await expectOrder(page, ["apple", "Kite", "Bike"]);

  await arrange(page, "Cheapest first", true);
  await expect(page).toHaveURL(/available=1/);
  await expectOrder(page, ["apple", "Bike"]);
  await arrange(page, "By name", true);
  await expectOrder(page, ["apple", "Bike"]);
  await arrange(page, "By name", false);
  await expectOrder(page, ["apple", "Bike", "Kite"]);
  await arrange(page, "Newest first", false);
  await expect(page).toHaveURL(/sort=newest/);
  await expectOrder(page, ["apple", "Bike", "Kite"]);
  // A gift added now comes first in this order, at once and after a reload.
  await addGift(page, "Drum", "", "5");
  await expectOrder(page, ["Drum", "apple", "Bike", "Kite"]);
  await page.reload();
  await expectOrder(page, ["Drum", "apple", "Bike", "Kite"]);
}

test("gifts sort and filter from the URL (with the wasm)", async ({ browser }) => {
  const page = await newMember(browser, "Nora");
  await waitForHydration(page);
  await listForTim(page);
  await waitForHydration(page);
  await sortAndFilter(page, true);
  await page.context().close();
});

test("gifts sort and filter from the URL (no script at all)", async ({ browser }) => {
  const page = await newMemberWithoutScript(browser, "Nora");
  await listForTim(page);
  await sortAndFilter(page, false);
  await page.context().close();
});
