import { test, expect, waitForHydration, newMember } from "./fixtures";
import type { Page } from "@playwright/test";

/** Alice's family with Bob and Carol, and a list for Bob; returns its URL. */
async function familyOfThree(alice: Page, bob: Page, carol: Page): Promise<string> {
  await alice.getByLabel("Family name").fill("The Lius");
  await alice.getByRole("button", { name: "Create family" }).click();
  await expect(alice.getByRole("heading", { level: 1 })).toHaveText("The Lius");
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
  await alice.getByLabel("Title").fill("Bob's birthday");
  await alice.getByLabel("For a member").selectOption({ label: "Bob" });
  await alice.getByRole("button", { name: "Create list" }).click();
  await expect(alice.getByRole("heading", { level: 1 })).toHaveText("Bob's birthday");
  return alice.url();
}

/** Opens the list and waits until its live connection is up. */
async function openLive(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await waitForHydration(page);
  await expect(page.getByTestId("connection-status")).toHaveText("Live");
  // Marks this document: a reload would lose the mark.
  await page.evaluate(() => ((window as unknown as { giftlistMark: number }).giftlistMark = 1));
}

async function stillSameDocument(page: Page): Promise<void> {
  expect(await page.evaluate(() => (window as unknown as { giftlistMark?: number }).giftlistMark)).toBe(1);
}

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
