import { test as base, expect, type Browser, type Page } from "@playwright/test";

/** Fails the test on any console error or uncaught exception in the page. */
export const test = base.extend<{ consoleErrors: string[] }>({
  consoleErrors: async ({ page }, use) => {
    const errors: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text());
    });
    page.on("pageerror", (error) => errors.push(error.message));
    await use(errors);
    expect(errors, "console errors in the page").toEqual([]);
  },
});

export { expect };

/** Waits until the wasm has hydrated the server-rendered page. */
export async function waitForHydration(page: Page): Promise<void> {
  await expect(page.getByTestId("app")).toHaveAttribute("data-hydrated", "true");
}

/** Registers a new account in a fresh browser context; returns its page, logged in. */
export async function newMember(browser: Browser, name: string, baseURL?: string): Promise<Page> {
  const context = await browser.newContext(baseURL ? { baseURL } : {});
  const page = await context.newPage();
  await page.goto("/register");
  await waitForHydration(page);
  await page.getByLabel("Your name").fill(name);
  await page.getByLabel("Email").fill(`${name.toLowerCase()}-${Date.now()}@example.org`);
  await page.getByLabel("Password (at least 8 characters)").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByTestId("account-name")).toHaveText(name);
  return page;
}

/** Registers a new account in a fresh browser context with JavaScript off; returns its page, logged in. */
export async function newMemberWithoutScript(browser: Browser, name: string): Promise<Page> {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/register");
  await page.getByLabel("Your name").fill(name);
  await page.getByLabel("Email").fill(`${name.toLowerCase()}-${Date.now()}@example.org`);
  await page.getByLabel("Password (at least 8 characters)").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByTestId("account-name")).toHaveText(name);
  return page;
}

/** Opens the family page's "New list" form, folded away once the family has lists. */
export async function openNewList(page: Page): Promise<void> {
  const details = page.locator("details.reveal", { has: page.locator("summary", { hasText: "New list" }) });
  await details.waitFor();
  if ((await details.getAttribute("open")) === null) {
    await details.locator("summary").click();
  }
}

/** Alice's family with Bob and Carol, and a list for Bob; returns its URL. */
export async function familyOfThree(alice: Page, bob: Page, carol: Page): Promise<string> {
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
  await openNewList(alice);
  await alice.getByLabel("Title").fill("Bob's birthday");
  await alice.getByLabel("For a member").selectOption({ label: "Bob" });
  await alice.getByRole("button", { name: "Create list" }).click();
  await expect(alice.getByRole("heading", { level: 1 })).toHaveText("Bob's birthday");
  return alice.url();
}

/** Opens a live page (a list, a family) and waits until its live connection is up. */
export async function openLive(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await waitForHydration(page);
  await expect(page.getByTestId("connection-status")).toHaveText("Live");
  await markDocument(page);
}

/** Marks the page's document, for [`stillSameDocument`]: a page load loses the mark. */
export async function markDocument(page: Page): Promise<void> {
  await page.evaluate(() => ((window as unknown as { giftlistMark: number }).giftlistMark = 1));
}

/** Fails unless the marked document is still the page's: what happened went by script, no page load. */
export async function stillSameDocument(page: Page): Promise<void> {
  expect(await page.evaluate(() => (window as unknown as { giftlistMark?: number }).giftlistMark)).toBe(1);
}

/** A mail as the test mailbox received it: the raw message. */
export type Mail = string;

/**
 * A small SMTP server for the browser tests: the app under test sends its
 * mail here (scripts/test.sh points GIFTLIST_SMTP_URL at this port), and a
 * test reads what arrived.
 */
export async function startMailbox(port: number): Promise<{ next: () => Promise<Mail>; close: () => Promise<void> }> {
  const { createServer } = await import("node:net");
  const arrived: Mail[] = [];
  const waiting: Array<(mail: Mail) => void> = [];
  const deliver = (mail: Mail) => {
    const waiter = waiting.shift();
    if (waiter) waiter(mail);
    else arrived.push(mail);
  };
  const server = createServer((socket) => {
    let buffer = "";
    let inData = false;
    let data = "";
    socket.write("220 test.invalid ESMTP\r\n");
    socket.on("data", (chunk) => {
      buffer += chunk.toString("utf8");
      let end: number;
      while ((end = buffer.indexOf("\r\n")) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (inData) {
          if (line === ".") {
            inData = false;
            deliver(data);
            data = "";
            socket.write("250 OK queued\r\n");
          } else {
            data += (line.startsWith("..") ? line.slice(1) : line) + "\r\n";
          }
          continue;
        }
        const command = line.toUpperCase();
        if (command.startsWith("EHLO") || command.startsWith("HELO")) socket.write("250-test.invalid\r\n250 8BITMIME\r\n");
        else if (command === "DATA") {
          inData = true;
          socket.write("354 go on\r\n");
        } else if (command === "QUIT") socket.end("221 bye\r\n");
        else socket.write("250 OK\r\n");
      }
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve()));
  return {
    next: () => {
      const mail = arrived.shift();
      return mail ? Promise.resolve(mail) : new Promise<Mail>((resolve) => waiting.push(resolve));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
