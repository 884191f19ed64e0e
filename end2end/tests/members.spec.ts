import { test, expect, newMember, familyOfThree, waitForHydration, startMailbox, openLive } from "./fixtures";

// scripts/test.sh points the app's mail here.
const MAIL_PORT = 2525;

const live = { timeout: 2000 };

test("an admin hands over, removes a member whose open page loses access at once, and a member leaves", async ({ browser }) => {
  const alice = await newMember(browser, "Alice");
  const bob = await newMember(browser, "Bob");
  const carol = await newMember(browser, "Carol");
  const list = await familyOfThree(alice, bob, carol);
  await alice.goto(list);
  const family = (await alice.getByRole("link", { name: "← Family" }).getAttribute("href"))!;
  for (const page of [alice, bob, carol]) await openLive(page, family);
  const row = (page: typeof alice, name: string) => page.getByTestId("member").filter({ hasText: name });

  // Only admins get the buttons; Carol is made an admin and her page
  // shows it (and the admin's forms) without a reload.
  await expect(carol.getByTestId("toggle-admin")).toHaveCount(0);
  await expect(carol.getByTestId("rename-family")).toHaveCount(0);
  await row(alice, "Carol").getByTestId("toggle-admin").click();
  await expect(row(carol, "Carol").getByTestId("member-role")).toHaveText("admin", live);
  await expect(carol.getByTestId("rename-family")).toBeVisible(live);

  // Carol removes Bob: his open page says he has no access any more, and
  // he is gone from everyone's member list.
  await row(carol, "Bob").getByTestId("remove-member").click();
  await row(carol, "Bob").getByTestId("confirm-remove").click();
  await expect(bob.getByTestId("access-lost")).toHaveText("You are no longer a member of this family.", live);
  await expect(bob.getByTestId("lists")).toBeHidden();
  for (const page of [alice, carol]) await expect(page.getByTestId("members")).not.toContainText("Bob", live);
  await bob.goto(list);
  await expect(bob.getByText("list not found")).toBeVisible();
  await expect(bob.getByRole("heading", { name: "Bob's birthday" })).toHaveCount(0);

  // Alice hands over and leaves; she lands on her (now empty) dashboard.
  await alice.getByTestId("leave-family").locator("summary").click();
  await alice.getByTestId("confirm-leave").click();
  await expect(alice).toHaveURL(/\/$/);
  await expect(alice.getByTestId("no-families")).toBeVisible();
  await expect(carol.getByTestId("members")).not.toContainText("Alice", live);

  // The last admin cannot leave: the page says why.
  await carol.getByTestId("leave-family").locator("summary").click();
  await carol.getByTestId("confirm-leave").click();
  await expect(carol.getByTestId("member-error")).toContainText("make another member admin first");
});

test("open invites are listed with who made them, mailed when an address is given, and revoked", async ({ browser }) => {
  const mailbox = await startMailbox(MAIL_PORT);
  try {
  const alice = await newMember(browser, "Alice");
  await alice.getByLabel("Family name").fill("The Okafors");
  await alice.getByRole("button", { name: "Create family" }).click();
  await expect(alice.getByRole("heading", { level: 1 })).toHaveText("The Okafors");
  await waitForHydration(alice);
  await alice.getByLabel("Their email (optional: the link is mailed to them)").fill("dan@example.org");
  await alice.getByRole("button", { name: "Make an invite link" }).click();
  const invites = alice.getByTestId("open-invite");
  await expect(invites).toHaveCount(1);
  await expect(invites.first()).toContainText("by Alice");
  await expect(invites.first()).toContainText("mailed to dan@example.org");
  const link = await alice.getByTestId("invite-link").inputValue();
  const mail = (await mailbox.next()).replace(/=\r\n/g, "").replace(/=3D/g, "=");
  expect(mail).toContain("dan@example.org");
  expect(mail).toContain("Alice invites you");
  expect(mail).toContain(`/invite/${link.split("/").pop()}`);

  await invites.first().getByTestId("revoke-invite").click();
  await expect(invites).toHaveCount(0);
  const dan = await newMember(browser, "Dan");
  await dan.goto(link);
  await expect(dan.getByRole("heading", { level: 1 })).toHaveText("This invite link does not work");
  } finally {
    await mailbox.close();
  }
});

test("deleting an account: the settings page says what happens, asks for the password, and the family sees the person leave", async ({ browser }) => {
  const alice = await newMember(browser, "Alice");
  const bob = await newMember(browser, "Bob");
  const carol = await newMember(browser, "Carol");
  const list = await familyOfThree(alice, bob, carol);
  await alice.goto(list);
  const family = (await alice.getByRole("link", { name: "← Family" }).getAttribute("href"))!;
  await openLive(alice, family);

  await bob.goto("/settings");
  await waitForHydration(bob);
  const section = bob.getByTestId("delete-account");
  await section.locator("summary").click();
  await expect(section).toContainText("Lists for you stay with the family under your name");
  await section.getByLabel("Password").fill("not my password");
  await section.getByRole("button", { name: "Delete my account for good" }).click();
  await expect(bob.getByTestId("delete-account-error")).toHaveText("the password is not right");
  await section.getByLabel("Password").fill("correct horse battery");
  await section.getByRole("button", { name: "Delete my account for good" }).click();
  await expect(bob.getByRole("navigation", { name: "Account" }).getByRole("link", { name: "Log in" })).toBeVisible();
  await expect(alice.getByTestId("members")).not.toContainText("Bob", live);
  // The list for him stays, for his name.
  await expect(alice.getByTestId("list-card")).toContainText("For Bob");
});
