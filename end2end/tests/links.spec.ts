import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { test, expect, newMember, newMemberWithoutScript, familyOfThree, openLive } from "./fixtures";

// scripts/test.sh lets the app read private addresses
// (GIFTLIST_FETCH_ALLOW_PRIVATE=true), so it can read this test's shop.
let shop: Server;
let shopUrl: string;
// A 16 x 16 red PNG: the kite's picture.
const kitePicture = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAFklEQVR4nGM4oaFBEmIY1TCqYfhqAAB8MxgQ+Pjr0gAAAABJRU5ErkJggg==",
  "base64",
);

test.beforeAll(async () => {
  shop = createServer((request, response) => {
    if (request.url === "/kite") {
      response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      response.end(`<html><head><title>Kite | Shop</title>
        <script type="application/ld+json">{"@context":"https://schema.org","@graph":[
          {"@type":"Product","name":"Stunt kite","image":"/kite.png","offers":{"price":"49.90","priceCurrency":"GBP"}}]}</script>
        </head><body>A kite</body></html>`);
    } else if (request.url === "/kite.png") {
      response.writeHead(200, { "content-type": "image/png" });
      response.end(kitePicture);
    } else {
      response.writeHead(403, { "content-type": "text/html" });
      response.end("<title>Robot Check</title>");
    }
  });
  await new Promise<void>((resolve) => shop.listen(0, "127.0.0.1", resolve));
  shopUrl = `http://127.0.0.1:${(shop.address() as AddressInfo).port}`;
});

test.afterAll(async () => {
  // The app keeps its connections to the shop alive (its HTTP client's
  // pool): close() alone would wait for them to go idle.
  shop.closeAllConnections();
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
  // The picture is the app's copy, never the shop's address.
  const preview = add.getByTestId("link-picture");
  await expect(preview).toHaveAttribute("src", /^\/pictures\/p_[^/]+\/thumb$/);
  await expect.poll(() => preview.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(16);
  await add.getByRole("button", { name: "Add" }).click();
  const kite = carol.getByTestId("item").filter({ hasText: "Stunt kite" });
  await expect(kite).toBeVisible({ timeout: 2000 });
  // Carol sees its picture live, loaded from the app.
  const picture = kite.getByTestId("item-picture");
  await expect(picture).toHaveAttribute("src", /^\/pictures\/p_[^/]+\/thumb$/);
  await expect.poll(() => picture.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(16);
  // The form is empty again, its picture too.
  await expect(add.getByTestId("link-picture")).toHaveCount(0);

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
  await expect(add.getByTestId("link-picture")).toHaveAttribute("src", /^\/pictures\/p_[^/]+\/thumb$/);
  await add.getByRole("button", { name: "Add" }).click();
  const kite = bob.getByTestId("item").filter({ hasText: "Stunt kite" });
  await expect(kite).toBeVisible();
  await expect.poll(() => kite.getByTestId("item-picture").evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(16);
});

test("a picture uploaded on the edit form shows for everyone; a bad file is refused at the gift", async ({ browser }) => {
  const alice = await newMember(browser, "Alice");
  const bob = await newMember(browser, "Bob");
  const carol = await newMember(browser, "Carol");
  const list = await familyOfThree(alice, bob, carol);
  await openLive(alice, list);
  const add = alice.getByTestId("add-item");
  await add.getByLabel("Gift").fill("Tea pot");
  await add.getByRole("button", { name: "Add" }).click();
  await openLive(carol, list);
  const row = alice.getByTestId("item").filter({ hasText: "Tea pot" });
  await row.getByText("Edit").click();
  const section = row.getByTestId("picture-section");
  // Not a picture: the page comes back saying so at the gift.
  await section.getByLabel("Picture (JPEG, PNG or WebP, up to 5 MB)").setInputFiles({
    name: "pot.png",
    mimeType: "image/png",
    buffer: Buffer.from("<html>not a picture</html>"),
  });
  await section.getByRole("button", { name: "Upload picture" }).click();
  await expect(alice.getByTestId("picture-error")).toHaveText("That file is not a JPEG, PNG or WebP picture.");
  await expect(alice.getByTestId("item-picture")).toHaveCount(0);
  // A photo over 5 MB: refused by the app, with its own message.
  await openLive(alice, list);
  await row.getByText("Edit").click();
  await section.getByLabel("Picture (JPEG, PNG or WebP, up to 5 MB)").setInputFiles({
    name: "huge.jpg",
    mimeType: "image/jpeg",
    buffer: Buffer.alloc(6 * 1024 * 1024, 1),
  });
  await section.getByRole("button", { name: "Upload picture" }).click();
  await expect(alice.getByTestId("picture-error")).toHaveText("That picture is too large: at most 5 MB.");
  await expect(alice.getByTestId("item-picture")).toHaveCount(0);
  // A picture: on the gift, for Carol too, without her reloading.
  await openLive(alice, list);
  await row.getByText("Edit").click();
  await section.getByLabel("Picture (JPEG, PNG or WebP, up to 5 MB)").setInputFiles({
    name: "pot.png",
    mimeType: "image/png",
    buffer: kitePicture,
  });
  await section.getByRole("button", { name: "Upload picture" }).click();
  await expect(row.getByTestId("item-picture")).toBeVisible();
  const carols = carol.getByTestId("item").filter({ hasText: "Tea pot" }).getByTestId("item-picture");
  await expect(carols).toBeVisible({ timeout: 2000 });
  // Removed: gone for Carol as well.
  await openLive(alice, list);
  await row.getByText("Edit").click();
  await section.getByTestId("remove-picture").click();
  await expect(carols).toHaveCount(0, { timeout: 2000 });
});
