import { test, expect, waitForHydration, newMember, newMemberWithoutScript, openNewList } from "./fixtures";
import type { Page } from "@playwright/test";

/** A family with a list for Tim holding one gift at 89.99 EUR; returns the list's URL. */
async function listWithLego(page: Page): Promise<string> {
  await page.getByLabel("Family name").fill("The Webers");
  await page.getByRole("button", { name: "Create family" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("The Webers");
  await openNewList(page);
  await page.getByLabel("Title").fill("Tim's birthday");
  await page.getByLabel("Or their name").fill("Tim");
  await page.getByRole("button", { name: "Create list" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Tim's birthday");
  const add = page.getByTestId("add-item");
  await add.getByLabel("Gift").fill("LEGO crane");
  await add.getByLabel("Price (optional)").fill("89.99");
  await add.getByRole("button", { name: "Add" }).click();
  await expect(page.getByTestId("item")).toHaveCount(1);
  return page.url();
}

test("switching to German: labels, prices and a refused edit in German, kept across pages", async ({ browser }) => {
  const page = await newMember(browser, "Greta");
  await waitForHydration(page);
  const listUrl = await listWithLego(page);
  await waitForHydration(page);
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(page.getByTestId("item").locator(".price")).toHaveText("€89.99");

  await page.getByTestId("languages").getByRole("link", { name: "Deutsch" }).click();
  await expect(page).toHaveURL(listUrl);
  await expect(page.locator("html")).toHaveAttribute("lang", "de");
  await waitForHydration(page);
  await expect(page.getByRole("heading", { level: 2 }).first()).toHaveText("Geschenk hinzufügen");
  await expect(page.getByTestId("add-item").getByLabel("Geschenk", { exact: true })).toBeVisible();
  await expect(page.getByTestId("item").locator(".price")).toHaveText("89,99 €");
  await expect(page.getByTestId("item").locator(".priority")).toHaveText("Hätte gern");
  await expect(page.getByTestId("connection-status")).toHaveText("Live");
  await expect(page.getByTestId("languages").getByRole("link", { name: "Deutsch" })).toHaveAttribute("aria-current", "true");

  // Someone changes the gift while the edit form is open: saving is refused, in German.
  const origin = new URL(listUrl).origin;
  const listId = new URL(listUrl).pathname.split("/").pop();
  const list = await (await page.request.get(`${origin}/api/v1/lists/${listId}`)).json();
  const item = list.items[0];
  const row = page.getByTestId("item");
  await row.getByText("Bearbeiten").click();
  const changed = await page.request.patch(`${origin}/api/v1/items/${item.id}`, {
    data: { version: item.version, title: "LEGO crane XL" },
    headers: { origin },
  });
  expect(changed.status()).toBe(200);
  await row.getByLabel("Geschenk", { exact: true }).fill("LEGO-Kran");
  await row.getByRole("button", { name: "Speichern" }).click();
  await expect(page.getByTestId("form-error")).toHaveText(
    "jemand anderes hat dieses Geschenk zuerst geändert; hier ist der aktuelle Stand",
  );

  // The choice is remembered: the next page is German too, from the server on.
  await page.goto("/");
  await expect(page.locator("html")).toHaveAttribute("lang", "de");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Deine Familien");
  await expect(page.getByTestId("list-card").getByTestId("gift-count")).toHaveText("1 Geschenk");
  await page.context().close();
});

test("the browser's language is the default; the picker works without script", async ({ browser }) => {
  const context = await browser.newContext({ locale: "fr-FR" });
  const page = await context.newPage();
  await page.goto("/");
  await expect(page.locator("html")).toHaveAttribute("lang", "fr");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Des listes de cadeaux pour toute la famille");
  await waitForHydration(page);
  // Hydration keeps the server's language: no flash of English.
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Des listes de cadeaux pour toute la famille");
  await context.close();

  const nora = await newMemberWithoutScript(browser, "Nora");
  await nora.getByTestId("languages").getByRole("link", { name: "Español" }).click();
  await expect(nora.locator("html")).toHaveAttribute("lang", "es");
  await expect(nora.getByRole("heading", { level: 1 })).toHaveText("Tus familias");
  await expect(nora.getByLabel("Nombre de la familia")).toBeVisible();
  await nora.context().close();
});
