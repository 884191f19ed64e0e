import { test, expect, newMember, familyOfThree, openLive } from "./fixtures";
import type { Page } from "@playwright/test";

const live = { timeout: 1000 };

test("givers take parts of a gift wanted six times, live; the recipient sees only how many are wanted", async ({ browser }) => {
  const alice = await newMember(browser, "Alice");
  const bob = await newMember(browser, "Bob");
  const carol = await newMember(browser, "Carol");
  const url = await familyOfThree(alice, bob, carol);
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
  await expect(row(alice).getByTestId("claim")).toHaveText("6 of 6 taken: you 2, Carol 4 (bought)", live);
  await expect(row(carol).getByTestId("claim")).toHaveText("6 of 6 taken: Alice 2, you 4 (bought)", live);

  // Alice gives one back; Carol sees the item has one free again.
  await row(alice).getByLabel("How many", { exact: true }).fill("1");
  await row(alice).getByRole("button", { name: "Change" }).click();
  await expect(row(carol).getByTestId("claim")).toHaveText("5 of 6 taken: Alice 1, you 4 (bought)", live);
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

test("two givers chip in at once and see the progress move live; a refused pledge rolls back; the recipient sees none of it", async ({ browser }) => {
  const alice = await newMember(browser, "Alice");
  const bob = await newMember(browser, "Bob");
  const carol = await newMember(browser, "Carol");
  const url = await familyOfThree(alice, bob, carol);
  const bobFrames: string[] = [];
  bob.on("websocket", (socket) => socket.on("framereceived", (frame) => bobFrames.push(String(frame.payload))));
  for (const page of [alice, bob, carol]) await openLive(page, url);

  const add = bob.getByTestId("add-item");
  await add.getByLabel("Gift").fill("Bike");
  await add.getByLabel("Price (optional)").fill("300");
  await add.getByRole("button", { name: "Add" }).click();
  const row = (page: Page) => page.getByTestId("item").filter({ hasText: "Bike" });
  await expect(row(alice)).toHaveCount(1, live);

  // Alice makes it a group gift: the target is the price.
  await row(alice).getByText("Chip in together").click();
  await row(alice).getByRole("button", { name: "Make it a group gift" }).click();
  await expect(row(carol).getByTestId("group-progress")).toHaveText("€0.00 of €300.00 pledged · €0.00 paid", live);

  // Both pledge at once; each sees both pledges and the bar move.
  await row(alice).getByLabel("My share").fill("100");
  await row(carol).getByLabel("My share").fill("120");
  await row(carol).getByLabel("Paid").check();
  await Promise.all([
    row(alice).getByRole("button", { name: "Pledge", exact: true }).click(),
    row(carol).getByRole("button", { name: "Pledge", exact: true }).click(),
  ]);
  for (const page of [alice, carol]) {
    await expect(row(page).getByTestId("group-progress")).toHaveText("€220.00 of €300.00 pledged · €120.00 paid", live);
    await expect(row(page).getByRole("progressbar")).toHaveAttribute("aria-valuenow", "22000");
  }
  await expect(row(alice).getByTestId("pledges")).toContainText("Carol €120.00 (paid)");

  // The first pledger organises: whoever's pledge the server took first.
  // Carol takes the role (if it is not hers already) and tops up past the target.
  await expect(row(carol).getByTestId("organiser")).toHaveText(/^Organised by (Alice|you)$/);
  const organise = row(carol).getByRole("button", { name: "I'll organise it" });
  if ((await organise.count()) > 0) await organise.click();
  await expect(row(alice).getByTestId("organiser")).toHaveText("Organised by Carol", live);
  await row(carol).getByLabel("My share").fill("250");
  await row(carol).getByRole("button", { name: "Change pledge" }).click();
  await expect(row(alice).getByTestId("group-progress")).toContainText("Fully funded · €50.00 over the target", live);

  // A pledge under one unit is refused: the row comes back as it was, with the reason.
  await row(alice).getByLabel("My share").fill("0.50");
  await row(alice).getByRole("button", { name: "Change pledge" }).click();
  await expect(alice.getByTestId("form-error")).toHaveText("a pledge is at least one unit of the currency");
  await expect(row(alice).getByTestId("pledges")).toContainText("you €100.00");
  await expect(row(alice)).not.toHaveAttribute("data-pending");

  // Bob: the gift as he made it, nothing of the group, in the page or a frame.
  await expect(row(bob).getByTestId("group")).toHaveCount(0);
  await expect(row(bob)).not.toContainText("Chip in");
  await bob.reload();
  await expect(row(bob).getByTestId("group")).toHaveCount(0);
  for (const frame of bobFrames) {
    for (const secret of ["pledge", "target_cents", "organiser", "STATUS_CHANGED"]) expect(frame).not.toContain(secret);
  }
});
