import { test, expect, newMember, familyOfThree, waitForHydration, openLive } from "./fixtures";

const live = { timeout: 1000 };

test("an admin renames the family and a member changes their name: both show at once on the family page of the others", async ({ browser }) => {
  const alice = await newMember(browser, "Alice");
  const bob = await newMember(browser, "Bob");
  const carol = await newMember(browser, "Carol");
  const list = await familyOfThree(alice, bob, carol);
  await alice.goto(list);
  const family = await alice.getByRole("link", { name: "← Family" }).getAttribute("href");
  for (const page of [alice, carol]) await openLive(page, family!);
  // Carol is no admin: no rename form for her.
  await expect(carol.getByTestId("rename-family")).toHaveCount(0);

  await alice.getByTestId("rename-family").locator("summary").click();
  await alice.getByLabel("Family name").fill("The Liu-Parks");
  await alice.getByTestId("rename-family").getByRole("button", { name: "Rename" }).click();
  await expect(carol.getByRole("heading", { level: 1 })).toHaveText("The Liu-Parks", live);

  await bob.goto("/settings");
  await waitForHydration(bob);
  await bob.getByLabel("The name the family sees").fill("Robert");
  await bob.getByTestId("rename-me").getByRole("button", { name: "Save" }).click();
  await expect(bob.getByTestId("account-name")).toHaveText("Robert");
  for (const page of [alice, carol]) await expect(page.getByTestId("members")).toContainText("Robert", live);
});
