import AxeBuilder from "@axe-core/playwright";
import { test, expect, waitForHydration, newMember, openNewList } from "./fixtures";
import type { Browser, Page } from "@playwright/test";

/**
 * Every page, as a member, as the list's recipient and logged out, with a
 * claimed gift and an open edit form: the states people see.
 */
async function everyPage(browser: Browser): Promise<{ alice: Page; bob: Page; urls: Record<string, string> }> {
  const alice = await newMember(browser, "Alice");
  await waitForHydration(alice);
  const dashboardEmpty = "/";
  await alice.getByLabel("Family name").fill("The Hills");
  await alice.getByRole("button", { name: "Create family" }).click();
  await expect(alice.getByRole("heading", { level: 1 })).toHaveText("The Hills");
  const family = alice.url();
  await waitForHydration(alice);
  await alice.getByRole("button", { name: "Make an invite link" }).click();
  const invite = await alice.getByTestId("invite-link").inputValue();

  const bob = await newMember(browser, "Bob");
  await bob.goto(invite);
  await bob.getByRole("button", { name: "Join the family" }).click();
  await expect(bob.getByRole("heading", { level: 1 })).toHaveText("The Hills");

  await alice.goto(family);
  await waitForHydration(alice);
  await openNewList(alice);
  await alice.getByLabel("Title").fill("Bob's birthday");
  await alice.getByLabel("For a member").selectOption({ label: "Bob" });
  await alice.getByRole("button", { name: "Create list" }).click();
  await expect(alice).toHaveURL(/\/lists\/l_/);
  const list = alice.url();
  await waitForHydration(alice);
  const add = alice.getByTestId("add-item");
  for (const [title, price] of [["Bike", "250"], ["Kite", "12.50"]]) {
    await add.getByLabel("Gift").fill(title);
    await add.getByLabel("Price (optional)").fill(price);
    await add.getByRole("button", { name: "Add" }).click();
  }
  await expect(alice.getByTestId("item")).toHaveCount(2);
  await alice.getByTestId("item").filter({ hasText: "Kite" }).getByRole("button", { name: "I bought this" }).click();
  await expect(alice.getByTestId("claim")).toHaveText("Bought by you");
  const shares = alice.getByTestId("shares");
  await shares.locator("summary").click();
  await shares.getByLabel("For givers: what is still available, and they can claim gifts").check();
  await shares.getByRole("button", { name: "Make link" }).click();
  const share = await shares.getByTestId("share-url").inputValue();

  return {
    alice,
    bob,
    urls: {
      dashboard: "/",
      family,
      list,
      invite,
      dashboardEmpty,
      share,
    },
  };
}

async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

test("every page passes axe in light and dark, at 390 and 1280 px", async ({ browser }) => {
  test.setTimeout(240_000);
  const { alice, bob, urls } = await everyPage(browser);
  const visitor = await (await browser.newContext()).newPage();
  const pages: Array<[string, Page, string]> = [
    ["welcome", visitor, "/"],
    ["login", visitor, "/login"],
    ["register", visitor, "/register"],
    ["forgot password", visitor, "/forgot"],
    ["reset password", visitor, `/reset/${"0".repeat(64)}`],
    ["not found", visitor, "/nowhere"],
    ["invite, logged out", visitor, urls.invite],
    ["shared list, as a guest", visitor, urls.share],
    ["dashboard", alice, urls.dashboard],
    ["family", alice, urls.family],
    ["settings", alice, "/settings"],
    ["list, as a member", alice, urls.list],
    ["list, as its recipient", bob, urls.list],
    ["list, filtered", alice, `${urls.list}?sort=price&available=1`],
  ];
  const found: string[] = [];
  for (const colorScheme of ["light", "dark"] as const) {
    for (const width of [390, 1280]) {
      for (const [name, page, url] of pages) {
        await page.emulateMedia({ colorScheme });
        await page.setViewportSize({ width, height: 900 });
        await page.goto(url);
        if (name !== "not found") await waitForHydration(page);
        if (name === "list, as a member") {
          // The edit form open too.
          await page.getByTestId("item").first().getByText("Edit").click();
        }
        for (const violation of await seriousViolations(page)) {
          found.push(`${name}, ${colorScheme}, ${width} px: ${violation}`);
        }
      }
    }
  }
  expect(found).toEqual([]);
  await Promise.all([alice, bob, visitor].map((page) => page.context().close()));
});

test("a gift can be claimed and released with the keyboard alone, focus always visible", async ({ browser }) => {
  const { alice, bob, urls } = await everyPage(browser);
  await bob.context().close();
  await alice.goto(urls.list);
  await waitForHydration(alice);
  const bike = alice.getByTestId("item").filter({ hasText: "Bike" });
  const claim = bike.getByRole("button", { name: "I'll get this" });
  let reached = false;
  for (let step = 0; step < 80 && !reached; step++) {
    await alice.keyboard.press("Tab");
    const outline = await alice.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return "none";
      return getComputedStyle(el).outlineStyle;
    });
    expect(outline, `focus ring at tab stop ${step}`).not.toBe("none");
    reached = await claim.evaluate((el) => el === document.activeElement);
  }
  expect(reached, "the claim button is reachable with Tab").toBe(true);
  await alice.keyboard.press("Enter");
  await expect(bike.getByTestId("claim")).toHaveText("Reserved by you");
  // Reserved and bought differ in words, not only in colour.
  await expect(alice.getByTestId("item").filter({ hasText: "Kite" }).getByTestId("claim")).toHaveText("Bought by you");
  await alice.context().close();
});
