import { test, expect, newMember, familyOfThree, openLive } from "./fixtures";

const live = { timeout: 1000 };

test("the list's maker renames and deletes it from its page, live for everyone on it; other members get no such controls", async ({ browser }) => {
  const alice = await newMember(browser, "Alice");
  const bob = await newMember(browser, "Bob");
  const carol = await newMember(browser, "Carol");
  const url = await familyOfThree(alice, bob, carol);
  for (const page of [alice, bob, carol]) await openLive(page, url);

  // Carol neither made the list nor runs the family.
  await expect(carol.getByTestId("manage-list")).toHaveCount(0);

  await alice.getByTestId("manage-list").locator("summary").click();
  await alice.getByLabel("Title of the list").fill("Bob's 40th");
  await alice.getByRole("button", { name: "Rename" }).click();
  for (const page of [bob, carol]) {
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Bob's 40th", live);
  }

  // Deleting needs the box ticked; then everyone on the list is told.
  await alice.getByLabel("Yes, delete this list and all its gifts").check();
  await alice.getByRole("button", { name: "Delete the list" }).click();
  await expect(alice).toHaveURL(/\/families\/f_/);
  for (const page of [bob, carol]) await expect(page.getByTestId("list-removed")).toBeVisible(live);
  await expect(alice.getByText("Bob's 40th")).toHaveCount(0);
});
