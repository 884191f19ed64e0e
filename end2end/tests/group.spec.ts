import { test, expect, waitForHydration, newMember, openNewList } from "./fixtures";
import type { Page } from "@playwright/test";

const live = { timeout: 1000 };

/** Alice's family with Bob and Carol, and a list for Bob; returns its URL. */
async function listForBob(alice: Page, bob: Page, carol: Page): Promise<string> {
  await alice.getByLabel("Family name").fill("The Okafors");
  await alice.getByRole("button", { name: "Create family" }).click();
  await waitForHydration(alice);
  await alice.getByRole("button", { name: "Make an invite link" }).click();
  const link = await alice.getByTestId("invite-link").inputValue();
  for (const [page, name] of [[bob, "Bob"], [carol, "Carol"]] as const) {
    await page.goto(link);
    await page.getByRole("button", { name: "Join the family" }).click();
    await expect(page.getByTestId("members")).toContainText(name);
  }
  await alice.reload();
  await waitForHydration(alice);
  await openNewList(alice);
  await alice.getByLabel("Title").fill("Bob's wedding");
  await alice.getByLabel("For a member").selectOption({ label: "Bob" });
  await alice.getByRole("button", { name: "Create list" }).click();
  await expect(alice.getByRole("heading", { level: 1 })).toHaveText("Bob's wedding");
  return alice.url();
}

async function openLive(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await waitForHydration(page);
  await expect(page.getByTestId("connection-status")).toHaveText("Live");
}

test("givers take parts of a gift wanted six times, live; the recipient sees only how many are wanted", async ({ browser }) => {
  const alice = await newMember(browser, "Alice");
  const bob = await newMember(browser, "Bob");
  const carol = await newMember(browser, "Carol");
  const url = await listForBob(alice, bob, carol);
  const bobFrames: string[] = [];
  bob.on("websocket", (socket) => socket.on("framereceived", (frame) => bobFrames.push(String(frame.payload))));
  for (const page of [alice, bob, carol]) await openLive(page, url);

  const add = bob.getByTestId("add-item");
  await add.getByLabel("Gift").fill("Wine glasses");
  await add.getByLabel("How many are wanted (empty: no limit)").fill("6");
  await add.getByRole("button", { name: "Add" }).click();
  const row = (page: Page) => page.getByTestId("item").filter({ hasText: "Wine glasses" });
  for (const page of [alice, bob, carol]) await expect(row(page).getByTestId("wanted")).toHaveText("6 wanted", live);

  // Alice takes 2, Carol 4 bought: each sees the other's part at once.
  await row(alice).getByLabel("How many", { exact: true }).fill("2");
  await row(alice).getByRole("button", { name: "Claim" }).click();
  await expect(row(carol).getByTestId("claim")).toHaveText("2 of 6 taken: Alice 2", live);
  await row(carol).getByLabel("How many", { exact: true }).fill("4");
  await row(carol).getByLabel("As", { exact: true }).selectOption("purchased");
  await row(carol).getByRole("button", { name: "Claim" }).click();
  await expect(row(alice).getByTestId("claim")).toHaveText("6 of 6 taken: Alice 2, Carol 4 (bought)", live);
  await expect(row(carol).getByTestId("claim")).toHaveText("6 of 6 taken: Alice 2, You 4 (bought)", live);

  // Alice gives one back; Carol sees the item has one free again.
  await row(alice).getByLabel("How many", { exact: true }).fill("1");
  await row(alice).getByRole("button", { name: "Change" }).click();
  await expect(row(carol).getByTestId("claim")).toHaveText("5 of 6 taken: Alice 1, You 4 (bought)", live);
  await expect(row(carol).getByTestId("claim")).toHaveAttribute("data-status", "open");

  // "Only available" keeps it while a unit is free.
  await alice.goto(`${url}?available=1`);
  await expect(row(alice)).toHaveCount(1);

  // Bob: the wanted quantity, nothing of the claims, in the page or a frame.
  await expect(row(bob).getByTestId("wanted")).toHaveText("6 wanted");
  await expect(row(bob).getByTestId("claim")).toHaveCount(0);
  await bob.reload();
  await expect(row(bob).getByTestId("claim")).toHaveCount(0);
  for (const frame of bobFrames) {
    expect(frame).not.toContain("units");
    expect(frame).not.toContain("STATUS_CHANGED");
  }
});
