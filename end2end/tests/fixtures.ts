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
