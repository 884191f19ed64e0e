import { expect, test, type APIRequestContext } from "@playwright/test";

// Run by scripts/test-phone.sh against a release build (the site as
// `cargo leptos build --release --precompress --split` makes it) on PHONE_URL:
// a list of 100 gifts opened for the first time on a slow phone.
const base = process.env.PHONE_URL ?? "";

/** A person with a family and a list of `gifts` gifts; the list's path. */
async function listOf(request: APIRequestContext, gifts: number): Promise<string> {
  const post = async (path: string, data: unknown) => {
    // The session cookie's writes must say where they come from.
    const response = await request.post(path, { data, headers: { Origin: base } });
    expect(response.ok(), `${path}: ${response.status()} ${await response.text()}`).toBe(true);
    return response.json();
  };
  await post("/api/v1/auth/register", {
    email: `phone-${Date.now()}-${Math.random().toString(36).slice(2)}@example.org`,
    name: "Pat",
    password: "a phone's password",
  });
  const { family } = await post("/api/v1/families", { name: "The Phones" });
  const { list } = await post(`/api/v1/families/${family.id}/lists`, { title: "Birthday", recipient_name: "Sam" });
  for (let n = 0; n < gifts; n++) {
    await post(`/api/v1/lists/${list.id}/items`, {
      title: `Gift ${n}: a warm woollen scarf`,
      url: n % 3 ? `https://shop.example.org/products/scarves/warm-wool-${n}?colour=blue` : undefined,
      price_cents: n % 3 ? 1999 + n * 10 : undefined,
      currency: n % 3 ? "EUR" : undefined,
      notes: n % 4 ? undefined : "Size M, anything but yellow. The one from the market last winter was perfect.",
      priority: 1 + (n % 5),
    });
  }
  return `/lists/${list.id}`;
}

test("a list of 100 gifts on a slow phone: gifts shown within 2.5 s, interactive within 6 s", async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const path = await listOf(context.request, 100);
  const page = await context.newPage();
  // About 1.6 Mbps down, 750 kbps up, 150 ms latency ("slow 4G"), and a
  // CPU four times slower than this machine's; cold caches (a first visit).
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 150,
    downloadThroughput: (1.6 * 1024 * 1024) / 8,
    uploadThroughput: (750 * 1024) / 8,
  });
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });

  const started = Date.now();
  await page.goto(path, { waitUntil: "commit" });
  // Server-rendered: the gifts are in the HTML, before any script.
  await expect(page.getByTestId("item")).toHaveCount(100, { timeout: 10_000 });
  await expect(page.getByTestId("item").last()).toBeVisible();
  const shown = Date.now() - started;
  await expect(page.getByTestId("app")).toHaveAttribute("data-hydrated", "true", { timeout: 20_000 });
  const interactive = Date.now() - started;
  console.log(`phone, first visit, 100 gifts: shown after ${shown} ms, interactive after ${interactive} ms`);
  // Interactive means it: a gift's edit form opens in place.
  await page.getByTestId("item").first().getByText("Edit").click();
  await expect(page.getByTestId("edit-panel")).toHaveCount(1);
  expect(page.url()).not.toContain("edit=");

  expect(shown).toBeLessThan(2500);
  expect(interactive).toBeLessThan(6000);
  await context.close();
});

// Lazily loaded pages (src/app.rs) on the release build, where wasm-opt has
// rewritten the split module: what the debug suite cannot see. Unthrottled.
test("the lazily loaded pages load and work in the release build", async ({ browser }) => {
  const context = await browser.newContext();
  const path = await listOf(context.request, 3);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  const wasm: string[] = [];
  page.on("request", (request) => {
    const { pathname } = new URL(request.url());
    if (pathname.startsWith("/pkg/") && pathname.endsWith(".wasm")) wasm.push(pathname);
  });
  const hydrated = () => expect(page.getByTestId("app")).toHaveAttribute("data-hydrated", "true", { timeout: 20_000 });

  // A list: the main module alone.
  await page.goto(path);
  await hydrated();
  expect(wasm, "a list page loads one module").toHaveLength(1);
  const main = wasm[0];

  // To a lazy page by the router: its chunk comes on the way, the page
  // works (the rename posts by script, the page is not reloaded). Leaving
  // the list threw once: its form's `remove` button hid the form's own
  // `remove()` (src/ui/list/server.rs).
  await page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));
  await page.getByRole("link", { name: "Settings" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Settings");
  expect(wasm.filter((name) => name !== main).length, "the settings page's chunk").toBeGreaterThan(0);
  await page.getByLabel("The name the family sees").fill("Patricia");
  await page.getByTestId("rename-me").getByRole("button", { name: "Save" }).click();
  await expect(page.getByTestId("account-name")).toHaveText("Patricia");
  expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);

  // A lazy page opened first: server-rendered, and hydrated once its chunk
  // is in (the server links it for preloading).
  await page.goto("/settings");
  await hydrated();
  await page.getByLabel("The name the family sees").fill("Pat");
  await page.getByTestId("rename-me").getByRole("button", { name: "Save" }).click();
  await expect(page.getByTestId("account-name")).toHaveText("Pat");
  // And on to the list by the router, from a page hydrated lazily.
  await page.getByRole("link", { name: "Giftlist" }).click();
  await page.getByRole("link", { name: /The Phones/ }).first().click();
  await page.getByRole("link", { name: /Birthday/ }).first().click();
  await expect(page).toHaveURL(new RegExp(`${path}$`));
  await expect(page.getByTestId("item")).toHaveCount(3);

  expect(problems).toEqual([]);
  await context.close();
});
