import { test, expect, waitForHydration } from "./fixtures";

test.describe("home page", () => {
  test("is rendered on the server before any script runs", async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const response = await page.goto("/");
    expect(response?.status()).toBe(200);
    await expect(page).toHaveTitle("Giftlist");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(
      "Gift lists for the whole family",
    );
    // Without the wasm, the page stays as the server rendered it.
    await expect(page.getByTestId("app")).toHaveAttribute("data-hydrated", "false");
    await context.close();
  });

  test("hydrates with no console errors", async ({ page, consoleErrors }) => {
    await page.goto("/");
    await waitForHydration(page);
    await expect(page.getByRole("link", { name: /Giftlist/ })).toBeVisible();
    await expect(page.getByTestId("connection-status")).toHaveAttribute("aria-live", "polite");
    // The stylesheet arrived and applies.
    const background = await page
      .locator(".site-header")
      .evaluate((el) => getComputedStyle(el).borderBottomStyle);
    expect(background).toBe("solid");
    expect(consoleErrors).toEqual([]);
  });

  test("client-side navigation works after hydration", async ({ page, consoleErrors }) => {
    await page.goto("/no-such-page");
    await waitForHydration(page);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Page not found");
    // Chromium reports the 404 document itself; that one is expected.
    expect(consoleErrors).toEqual([
      "Failed to load resource: the server responded with a status of 404 (Not Found)",
    ]);
    consoleErrors.length = 0;
    // The router intercepts the link: no full page load happens.
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    await page.getByRole("link", { name: "Back to the start page" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(
      "Gift lists for the whole family",
    );
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
    expect(consoleErrors).toEqual([]);
  });

  test("unknown paths answer 404", async ({ request }) => {
    const response = await request.get("/no-such-page");
    expect(response.status()).toBe(404);
  });
});
