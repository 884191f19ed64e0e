import { test, expect, waitForHydration, startMailbox, newMember } from "./fixtures";

// scripts/test.sh starts the app with GIFTLIST_SMTP_URL=smtp://127.0.0.1:2525.
const MAIL_PORT = Number(process.env.GIFTLIST_TEST_MAIL_PORT ?? 2525);

test("a forgotten password: a mail, its link, a new password, logged in; the old session is dead in another context", async ({ browser }) => {
  const mailbox = await startMailbox(MAIL_PORT);
  try {
    // Alice, logged in on her laptop.
    const laptop = await (await browser.newContext()).newPage();
    const email = `alice-${Date.now()}@example.org`;
    await laptop.goto("/register");
    await waitForHydration(laptop);
    await laptop.getByLabel("Your name").fill("Alice");
    await laptop.getByLabel("Email").fill(email);
    await laptop.getByLabel("Password (at least 8 characters)").fill("correct horse battery");
    await laptop.getByRole("button", { name: "Create account" }).click();
    await expect(laptop.getByTestId("account-name")).toHaveText("Alice");

    // On her phone she has forgotten it.
    const phone = await (await browser.newContext()).newPage();
    await phone.goto("/login");
    await waitForHydration(phone);
    await phone.getByRole("link", { name: "Forgot your password?" }).click();
    // A lazily loaded page: the login page stays until its code is in.
    await expect(phone.getByRole("heading", { level: 1 })).toHaveText("Forgot your password");
    await phone.getByLabel("Email").fill(email);
    await phone.getByRole("button", { name: "Send the link" }).click();
    await expect(phone.getByTestId("forgot-sent")).toHaveText("If an account has this address, a link is on its way to it.");

    const mail = (await mailbox.next()).replace(/=\r\n/g, "").replace(/=3D/g, "=");
    expect(mail).toContain("Subject: Reset your Giftlist password");
    const link = mail.match(/https?:\/\/[^\s"<>]+\/reset\/[0-9a-f]{64}/)?.[0];
    expect(link, "a reset link in the mail").toBeTruthy();

    await phone.goto(link!);
    await waitForHydration(phone);
    await phone.getByLabel("Password (at least 8 characters)").fill("a new and longer secret");
    await phone.getByRole("button", { name: "Save and log in" }).click();
    await expect(phone.getByTestId("account-name")).toHaveText("Alice");

    // The laptop's session ended with the reset.
    await laptop.reload();
    await expect(laptop.locator("nav.account").getByRole("link", { name: "Log in" })).toBeVisible();
    await expect(laptop.getByTestId("account-name")).toHaveCount(0);

    // The link works once.
    await phone.goto(link!);
    await waitForHydration(phone);
    await phone.getByLabel("Password (at least 8 characters)").fill("one more new secret");
    await phone.getByRole("button", { name: "Save and log in" }).click();
    await expect(phone.getByTestId("form-error")).toHaveText("this reset link is invalid, used or expired: ask for a new one");
  } finally {
    await mailbox.close();
  }
});

test("a new address takes effect once the link mailed to it is confirmed; the settings page says so", async ({ browser }) => {
  const mailbox = await startMailbox(MAIL_PORT);
  try {
    const alice = await newMember(browser, "Alice");
    const fresh = `alice-new-${Date.now()}@example.org`;
    await alice.goto("/settings");
    await waitForHydration(alice);
    await expect(alice.getByTestId("email-status")).toContainText("not confirmed yet");
    const section = alice.getByTestId("change-email");
    await section.locator("summary").click();
    await section.getByLabel("New address").fill(fresh);
    await section.getByLabel("Password").fill("not my password");
    await section.getByRole("button", { name: "Send a confirmation link" }).click();
    await expect(alice.getByTestId("change-email-error")).toHaveText("the password is not right");
    await section.getByLabel("Password").fill("correct horse battery");
    await section.getByRole("button", { name: "Send a confirmation link" }).click();
    await expect(alice.getByTestId("email-done")).toHaveText("A link is on its way to the new address: the change takes effect once you open it.");

    const mail = (await mailbox.next()).replace(/=\r\n/g, "").replace(/=3D/g, "=");
    expect(mail).toContain(fresh);
    const link = mail.match(/https?:\/\/[^\s"<>]+\/confirm-email\/[0-9a-f]{64}/)?.[0];
    expect(link, "a confirmation link in the mail").toBeTruthy();
    await alice.goto(link!);
    await waitForHydration(alice);
    await alice.getByRole("button", { name: "Confirm" }).click();
    await expect(alice.getByTestId("email-done")).toHaveText("Your address is confirmed.");
    await expect(alice.getByTestId("account-email")).toHaveText(fresh);
    await expect(alice.getByTestId("email-status")).toContainText("confirmed");
    await expect(alice.getByTestId("email-status")).not.toContainText("not confirmed");
    // The old address is told.
    const told = (await mailbox.next()).replace(/=\r\n/g, "").replace(/=3D/g, "=");
    expect(told).toContain("Your Giftlist address was changed");
  } finally {
    await mailbox.close();
  }
});
