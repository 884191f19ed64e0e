import { test, expect, waitForHydration, newMember, newMemberWithoutScript, openNewList } from "./fixtures";
import type { Page } from "@playwright/test";

async function familyWithListFor(alice: Page, bob: Page): Promise<string> {
  await alice.getByLabel("Family name").fill("The Joneses");
  await alice.getByRole("button", { name: "Create family" }).click();
  await expect(alice.getByRole("heading", { level: 1 })).toHaveText("The Joneses");
  await waitForHydration(alice);
  await alice.getByRole("button", { name: "Make an invite link" }).click();
  const link = await alice.getByTestId("invite-link").inputValue();
  await bob.goto(link);
  await bob.getByRole("button", { name: "Join the family" }).click();
  await expect(bob.getByTestId("members")).toContainText("Bob");
  await alice.reload();
  await waitForHydration(alice);
  await openNewList(alice);
  await alice.getByLabel("Title").fill("Bob's wishes");
  await alice.getByLabel("For a member").selectOption({ label: "Bob" });
  await alice.getByRole("button", { name: "Create list" }).click();
  await expect(alice.getByRole("heading", { level: 1 })).toHaveText("Bob's wishes");
  return alice.url();
}

test("items are added, claimed and edited; the recipient sees no claim", async ({ browser }) => {
  const alice = await newMember(browser, "Alice");
  const bob = await newMember(browser, "Bob");
  const listUrl = await familyWithListFor(alice, bob);
  await waitForHydration(alice);

  // Bob (the recipient) wishes for things.
  await bob.goto(listUrl);
  await waitForHydration(bob);
  const add = bob.getByTestId("add-item");
  await add.getByLabel("Gift").fill("Bike");
  await add.getByLabel("Link (optional)").fill("https://shop.example/bike");
  await add.getByLabel("Price (optional)").fill("199.99");
  await add.getByRole("button", { name: "Add" }).click();
  await expect(bob.getByTestId("item")).toHaveCount(1);
  await add.getByLabel("Gift").fill("Book");
  await add.getByRole("button", { name: "Add" }).click();
  await expect(bob.getByTestId("item")).toHaveCount(2);

  // Alice claims the bike.
  await alice.reload();
  await waitForHydration(alice);
  const bike = alice.getByTestId("item").filter({ hasText: "Bike" });
  await expect(bike).toContainText("€199.99");
  await bike.getByRole("button", { name: "I'll get this" }).click();
  await expect(bike.getByTestId("claim")).toHaveText("Reserved by you");
  await bike.getByRole("button", { name: "Mark bought" }).click();
  await expect(bike.getByTestId("claim")).toHaveText("Bought by you");

  // Bob's page: the items, and no trace of the claim.
  await bob.reload();
  await waitForHydration(bob);
  await expect(bob.getByTestId("item")).toHaveCount(2);
  await expect(bob.getByTestId("claim")).toHaveCount(0);
  const text = await bob.locator("main").innerText();
  expect(text).not.toMatch(/Reserved|Bought|Alice|I'll get this|Release/);
  // Asking for "only available" in the address tells Bob nothing either:
  // he gets no such filter, and every gift still shows.
  await bob.goto(`${listUrl}?sort=price&available=1`);
  await waitForHydration(bob);
  await expect(bob.getByTestId("item")).toHaveCount(2);
  await expect(bob.getByLabel("Only what is still available")).toHaveCount(0);
  await expect(bob.getByTestId("claim")).toHaveCount(0);
  expect(await bob.locator("main").innerText()).not.toMatch(/Reserved|Bought|Alice|available/);

  // Editing at once: Alice opens the book's form, Bob saves first. Alice's
  // page shows Bob's version live while her form keeps what she typed, and
  // her save is refused with a reason.
  const aliceBook = alice.getByTestId("item").nth(1);
  await aliceBook.getByText("Edit").click();
  await aliceBook.getByLabel("Gift").fill("A book");
  const book = bob.getByTestId("item").filter({ hasText: "Book" });
  await book.getByText("Edit").click();
  await book.getByLabel("Gift").fill("Two books");
  await book.getByRole("button", { name: "Save" }).click();
  await expect(bob.getByTestId("item").filter({ hasText: "Two books" })).toHaveCount(1);
  await expect(aliceBook.locator(".item-title")).toHaveText("Two books");
  await expect(aliceBook.getByLabel("Gift")).toHaveValue("A book");
  await aliceBook.getByRole("button", { name: "Save" }).click();
  await expect(alice.getByTestId("form-error")).toContainText("someone else changed this item first");
  await expect(alice.getByTestId("item").filter({ hasText: "Two books" })).toHaveCount(1);

  // Removing.
  await alice.getByRole("button", { name: "Remove Two books" }).click();
  await expect(alice.getByTestId("item")).toHaveCount(1);
});

test("a family, a list and a claim with no script at all", async ({ browser }) => {
  const page = await newMemberWithoutScript(browser, "Nora");
  const context = page.context();

  await page.getByLabel("Family name").fill("The Norths");
  await page.getByRole("button", { name: "Create family" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("The Norths");
  await openNewList(page);
  await page.getByLabel("Title").fill("Tim's list");
  await page.getByLabel("Or their name").fill("Tim");
  await page.getByRole("button", { name: "Create list" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Tim's list");

  const add = page.getByTestId("add-item");
  await add.getByLabel("Gift").fill("Kite");
  await add.getByLabel("Price (optional)").fill("twelve");
  await add.getByRole("button", { name: "Add" }).click();
  await expect(page.getByTestId("form-error")).toHaveText("price must be an amount like 12.50");
  await expect(page.getByTestId("item")).toHaveCount(0);

  // The refused gift is still in the form; with the price corrected it goes in.
  await expect(add.getByLabel("Gift")).toHaveValue("Kite");
  await add.getByLabel("Price (optional)").fill("12");
  await add.getByRole("button", { name: "Add" }).click();
  await expect(page.getByTestId("item")).toHaveCount(1);
  await page.getByRole("button", { name: "I'll get this" }).click();
  await expect(page.getByTestId("claim")).toHaveText("Reserved by you");
  await page.getByRole("button", { name: "Release" }).click();
  await expect(page.getByTestId("claim")).toHaveCount(0);

  // At phone width nothing spills sideways.
  await page.setViewportSize({ width: 360, height: 740 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await context.close();
});
