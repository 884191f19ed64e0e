import { test, expect, newMember, familyOfThree, waitForHydration, openLive } from "./fixtures";

const live = { timeout: 2000 };

/** A day relative to today (UTC), as event dates are written. */
function day(offset: number): string {
  const at = new Date(Date.now() + offset * 24 * 60 * 60 * 1000);
  return at.toISOString().slice(0, 10);
}

test("an event date passing shows 'past', and the thank-you view opens for the recipient only then; an archived list is read-only and out of the way", async ({ browser, baseURL }) => {
  const alice = await newMember(browser, "Alice");
  const bob = await newMember(browser, "Bob");
  const carol = await newMember(browser, "Carol");
  const list = await familyOfThree(alice, bob, carol);
  const listId = list.split("/").pop()!;
  const family = (await alice.getByRole("link", { name: "← Family" }).getAttribute("href"))!;

  // Alice, who made the list, sets the day; a gift on it.
  await waitForHydration(alice);
  await alice.getByTestId("manage-list").locator("summary").click();
  await alice.getByLabel("Event date (a birthday, a holiday)").fill(day(1));
  await alice.getByTestId("event-date-form").getByRole("button", { name: "Save" }).click();
  await expect(alice.getByTestId("event-date")).toHaveText(`Event: ${day(1)}`);
  await alice.getByTestId("add-item").getByLabel("Gift", { exact: true }).fill("Telescope");
  await alice.getByRole("button", { name: "Add", exact: true }).click();
  await expect(alice.getByTestId("item")).toHaveCount(1);

  // Carol claims it and chooses the reveal; Bob's page knows nothing.
  await carol.goto(list);
  await waitForHydration(carol);
  await carol.getByRole("button", { name: "I'll get this" }).click();
  await expect(carol.getByTestId("claim")).toContainText("Reserved by you");
  await carol.getByTestId("reveal-choice").getByRole("checkbox").check();
  await carol.getByTestId("reveal-choice").getByRole("button", { name: "Save" }).click();
  await expect(carol.getByTestId("reveal-choice").getByRole("checkbox")).toBeChecked();

  await bob.goto(list);
  await waitForHydration(bob);
  await expect(bob.getByTestId("connection-status")).toHaveText("Live");
  await expect(bob.getByTestId("reveal-choice")).toHaveCount(0);
  await expect(bob.getByTestId("event-date")).toHaveText(`Event: ${day(1)}`);
  await expect(bob.getByTestId("past")).toHaveCount(0);
  await expect(bob.getByTestId("thank-you")).toHaveCount(0);
  await expect(bob.getByTestId("given-by")).toHaveCount(0);

  // The day passes (moved into the past through the API): on his open
  // page, "past" and the thank-you view, with who gave what.
  const moved = await alice.request.patch(`/api/v1/lists/${listId}`, {
    data: { event_date: day(-1) },
    headers: { origin: baseURL! },
  });
  expect(moved.status()).toBe(200);
  await expect(bob.getByTestId("past")).toHaveText("past", live);
  await expect(bob.getByTestId("thank-you")).toBeVisible(live);
  await expect(bob.getByTestId("given-by")).toHaveText("Given by Carol", live);
  await alice.goto(family);
  await waitForHydration(alice);
  await expect(alice.getByTestId("list-card").getByTestId("past")).toHaveText("past");

  // Archived: read-only for everyone on it, and folded away on the family page.
  await alice.goto(list);
  await waitForHydration(alice);
  await alice.getByTestId("manage-list").locator("summary").click();
  await alice.getByTestId("archive-toggle").click();
  await expect(alice.getByTestId("archived")).toBeVisible();
  await expect(carol.getByTestId("archived")).toBeVisible(live);
  await expect(carol.getByTestId("add-section")).toBeHidden();
  await alice.goto(family);
  await waitForHydration(alice);
  await expect(alice.getByTestId("lists").getByTestId("list-card")).toHaveCount(0);
  await expect(alice.getByTestId("archived-lists")).toContainText("Bob's birthday");
});

test("whom a list is for changes from its page while nothing is claimed, and both people's open pages follow", async ({ browser }) => {
  const alice = await newMember(browser, "Alice");
  const bob = await newMember(browser, "Bob");
  const carol = await newMember(browser, "Carol");
  const list = await familyOfThree(alice, bob, carol);
  await waitForHydration(alice);
  await alice.getByTestId("add-item").getByLabel("Gift", { exact: true }).fill("Kite");
  await alice.getByRole("button", { name: "Add", exact: true }).click();
  await expect(alice.getByTestId("item")).toHaveCount(1);
  for (const page of [bob, carol]) await openLive(page, list);
  // Bob's list: he cannot claim, Carol can.
  await expect(bob.getByRole("button", { name: "I'll get this" })).toHaveCount(0);
  await expect(carol.getByRole("button", { name: "I'll get this" })).toBeVisible();

  await alice.getByTestId("manage-list").locator("summary").click();
  await alice.getByTestId("recipient-form").getByLabel("For a member").selectOption({ label: "Carol" });
  await alice.getByTestId("recipient-form").getByRole("button", { name: "Change whom it is for" }).click();
  await expect(alice.getByText("For Carol")).toBeVisible();
  await expect(carol.getByRole("button", { name: "I'll get this" })).toHaveCount(0, live);
  await expect(bob.getByRole("button", { name: "I'll get this" })).toBeVisible(live);

  // Once Bob claims, it stays Carol's list.
  await bob.getByRole("button", { name: "I'll get this" }).click();
  await expect(bob.getByTestId("claim")).toContainText("Reserved by you");
  await alice.getByTestId("recipient-form").getByLabel("For a member").selectOption({ label: "Bob" });
  await alice.getByTestId("recipient-form").getByRole("button", { name: "Change whom it is for" }).click();
  await expect(alice.getByTestId("manage-list-error")).toHaveText("the person a list is for can change only while nothing on it is claimed or chipped in for");
});

test("reminders and notice mails are turned off from the settings page and stay off", async ({ browser }) => {
  const alice = await newMember(browser, "Alice");
  await alice.goto("/settings");
  await waitForHydration(alice);
  const form = alice.getByTestId("mails");
  const reminders = form.getByRole("checkbox", { name: /a week before an event/ });
  const notices = form.getByRole("checkbox", { name: /at most once an hour/ });
  await expect(reminders).toBeChecked();
  await expect(notices).toBeChecked();
  await notices.uncheck();
  await form.getByRole("button", { name: "Save" }).click();
  await alice.reload();
  await expect(notices).not.toBeChecked();
  await expect(reminders).toBeChecked();
  const me = await (await alice.request.get("/api/v1/me")).json();
  expect([me.reminders, me.notice_mails]).toEqual([true, false]);
  await reminders.uncheck();
  await form.getByRole("button", { name: "Save" }).click();
  await alice.reload();
  await expect(reminders).not.toBeChecked();
  await expect(notices).not.toBeChecked();
});
