import { test, expect, waitForHydration, newMember, openNewList } from "./fixtures";

test("a family: create, invite a second person, make a list for them", async ({ browser }) => {
  const alice = await newMember(browser, "Alice");
  await alice.getByLabel("Family name").fill("The Smiths");
  await alice.getByRole("button", { name: "Create family" }).click();
  await expect(alice.getByRole("heading", { level: 1 })).toHaveText("The Smiths");
  await waitForHydration(alice);

  await alice.getByRole("button", { name: "Make an invite link" }).click();
  const link = await alice.getByTestId("invite-link").inputValue();
  expect(link).toMatch(/^http:\/\/[^/]+\/invite\/[0-9a-f]+$/);
  // One click copies it.
  await alice.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  await alice.getByRole("button", { name: "Copy link" }).click();
  await expect(alice.getByTestId("copy-status")).toHaveText("Copied.");
  expect(await alice.evaluate(() => navigator.clipboard.readText())).toBe(link);

  const bob = await newMember(browser, "Bob");
  await bob.goto(link);
  await expect(bob.getByRole("heading", { level: 1 })).toHaveText("Join The Smiths");
  await bob.getByRole("button", { name: "Join the family" }).click();
  await expect(bob.getByRole("heading", { level: 1 })).toHaveText("The Smiths");
  await expect(bob.getByTestId("members")).toContainText("Bob");

  await alice.reload();
  await waitForHydration(alice);
  await expect(alice.getByTestId("members")).toContainText("Bob");
  await openNewList(alice);
  await alice.getByLabel("Title").fill("Bob's birthday");
  await alice.getByLabel("For a member").selectOption({ label: "Bob" });
  await alice.getByRole("button", { name: "Create list" }).click();
  await expect(alice).toHaveURL(/\/lists\/l_/);

  await bob.goto("/");
  await expect(bob.getByTestId("families")).toContainText("The Smiths");
  await bob.getByRole("link", { name: "The Smiths" }).click();
  await expect(bob.getByTestId("lists")).toContainText("Bob's birthday");

  // A refused list (no recipient) says why.
  await alice.goBack();
  await waitForHydration(alice);
  await openNewList(alice);
  await alice.getByLabel("Title").fill("Nobody's");
  await alice.getByRole("button", { name: "Create list" }).click();
  await expect(alice.getByTestId("form-error").first()).toHaveText(
    "choose one member, or give the name of someone without an account",
  );
});

test("an invite link that does not exist says so", async ({ page }) => {
  await page.goto("/invite/0000");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("This invite link does not work");
});
