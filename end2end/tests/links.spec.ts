import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { test, expect, newMember, newMemberWithoutScript, familyOfThree, openLive } from "./fixtures";

// scripts/test.sh lets the app read private addresses
// (GIFTLIST_FETCH_ALLOW_PRIVATE=true), so it can read this test's shop.
let shop: Server;
let shopUrl: string;

test.beforeAll(async () => {
  shop = createServer((request, response) => {
    if (request.url === "/kite") {
      response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      response.end(`<html><head><title>Kite | Shop</title>
        <script type="application/ld+json">{"@context":"https://schema.org","@graph":[
          {"@type":"Product","name":"Stunt kite","offers":{"price":"49.90","priceCurrency":"GBP"}}]}</script>
        </head><body>A kite</body></html>`);
    } else {
      response.writeHead(403, { "content-type": "text/html" });
      response.end("<title>Robot Check</title>");
    }
  });
  await new Promise<void>((resolve) => shop.listen(0, "127.0.0.1", resolve));
  shopUrl = `http://127.0.0.1:${(shop.address() as AddressInfo).port}`;
});

test.afterAll(async () => {
  await new Promise((resolve) => shop.close(resolve));
});

test("a pasted shop link fills in the gift, and everyone sees it once added", async ({ browser }) => {
  const alice = await newMember(browser, "Alice");
  const bob = await newMember(browser, "Bob");
  const carol = await newMember(browser, "Carol");
  const list = await familyOfThree(alice, bob, carol);
  await openLive(alice, list);
  await openLive(carol, list);

  const add = alice.getByTestId("add-item");
  const link = add.getByLabel("Link (optional)");
  await link.fill(`${shopUrl}/kite`);
  await link.dispatchEvent("paste");
  await expect(add.getByTestId("link-status")).toHaveText("Filled in from the shop's page: check it before saving.");
  await expect(add.getByLabel("Gift")).toHaveValue("Stunt kite");
  await expect(add.getByLabel("Price (optional)")).toHaveValue("49.90");
  await expect(add.getByLabel("Currency")).toHaveValue("GBP");
  await add.getByRole("button", { name: "Add" }).click();
  await expect(carol.getByTestId("item").filter({ hasText: "Stunt kite" })).toBeVisible({ timeout: 2000 });

  // A shop that refuses: the form says so and keeps what was typed.
  await add.getByLabel("Gift").fill("Scarf");
  await link.fill(`${shopUrl}/scarf`);
  await add.getByTestId("fill-from-link").click();
  await expect(add.getByTestId("link-status")).toHaveText("This shop does not let us read its page; fill it in by hand.");
  await expect(add.getByLabel("Gift")).toHaveValue("Scarf");
});

test("without JavaScript, Fill from link sends the form back filled in", async ({ browser }) => {
  const alice = await newMember(browser, "Alice");
  const bob = await newMemberWithoutScript(browser, "Bob");
  const carol = await newMember(browser, "Carol");
  const list = await familyOfThree(alice, bob, carol);
  // Bob adds a wish to his own list.
  await bob.goto(list);
  const add = bob.getByTestId("add-item");
  // Not a link: the form comes back as typed, saying why.
  await add.getByLabel("Gift").fill("Scarf");
  await add.getByLabel("Link (optional)").fill("shop.example/scarf");
  await add.getByTestId("fill-from-link").click();
  await expect(bob.getByText("That is not a web address like https://shop.example/gift.")).toBeVisible();
  await expect(add.getByLabel("Gift")).toHaveValue("Scarf");
  await add.getByLabel("Link (optional)").fill(`${shopUrl}/kite`);
  await add.getByTestId("fill-from-link").click();
  await expect(add.getByLabel("Gift")).toHaveValue("Stunt kite");
  await expect(add.getByLabel("Price (optional)")).toHaveValue("49.90");
  await expect(add.getByLabel("Currency")).toHaveValue("GBP");
  await expect(add.getByLabel("Link (optional)")).toHaveValue(`${shopUrl}/kite`);
  await expect(add.getByTestId("link-status")).toHaveText("Filled in from the shop's page: check it before saving.");
  await add.getByRole("button", { name: "Add" }).click();
  await expect(bob.getByTestId("item").filter({ hasText: "Stunt kite" })).toBeVisible();
});
