import { test, expect, waitForHydration, markDocument, stillSameDocument } from "./fixtures";
import type { Page } from "@playwright/test";

let next = 0;
function uniqueEmail(name: string): string {
  next += 1;
  return `${name.toLowerCase()}-${Date.now()}-${next}@example.org`;
}

async function register(page: Page, name: string, email: string) {
  await page.goto("/register");
  await submitRegistration(page, name, email);
}

/** Fills in the registration form in view and sends it. */
async function submitRegistration(page: Page, name: string, email: string) {
  await page.getByLabel("Your name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password (at least 8 characters)").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
}

test.describe("accounts in the browser", () => {
  test("register, log out, fail and succeed to log in (with the wasm)", async ({ page, consoleErrors }) => {
    const email = uniqueEmail("Alice");
    // Every step below must go by script, not by a plain form post (a new
    // page: the document's mark would be lost). Clicking before the wasm is
    // in would post the plain form, and the page could hydrate while that
    // post logs out, its notices stream then refused (a stray 401).
    await page.goto("/register");
    await waitForHydration(page);
    await markDocument(page);
    await submitRegistration(page, "Alice", email);
    await expect(page).toHaveURL(/\/$/);
    await expect(page.getByTestId("account-name")).toHaveText("Alice");
    await stillSameDocument(page);

    await page.getByRole("button", { name: "Log out" }).click();
    await expect(page.getByRole("navigation", { name: "Account" }).getByRole("link", { name: "Log in" })).toBeVisible();
    await expect(page.getByTestId("account-name")).toHaveCount(0);
    await stillSameDocument(page);

    await page.goto("/login");
    await waitForHydration(page);
    await markDocument(page);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page.getByTestId("form-error")).toHaveText("the email or password is not right");
    await expect(page).toHaveURL(/\/login$/);
    // Chromium reports the refused request (401) itself; that one is expected.
    expect(consoleErrors).toEqual([
      "Failed to load resource: the server responded with a status of 401 (Unauthorized)",
    ]);
    consoleErrors.length = 0;

    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page.getByTestId("account-name")).toHaveText("Alice");
    await stillSameDocument(page);
    expect(consoleErrors).toEqual([]);
  });

  test("the forms work before any script runs", async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const email = uniqueEmail("Bob");
    await register(page, "Bob", email);
    await expect(page).toHaveURL(/\/$/);
    await expect(page.getByTestId("account-name")).toHaveText("Bob");

    // A refusal comes back to the form with its message.
    await register(page, "Bob again", email);
    await expect(page).toHaveURL(/\/register\?error=/);
    await expect(page.getByTestId("form-error")).toHaveText("an account with this email already exists");

    await page.getByRole("button", { name: "Log out" }).click();
    await expect(page.getByRole("navigation", { name: "Account" }).getByRole("link", { name: "Log in" })).toBeVisible();
    await context.close();
  });
});
