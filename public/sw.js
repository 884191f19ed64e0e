/* Giftlist's service worker, written by hand (no build step, no library).
 *
 * What it does:
 * - keeps the app's shell (script, wasm, stylesheet, logos, icons, the
 *   manifest and /offline.html) so that a page read before still works
 *   offline;
 * - keeps a copy of every page opened (network first: the copy is only used
 *   when the network fails), and serves it offline with
 *   `<html data-offline="">`, which shows the page's offline note;
 * - keeps gift pictures, whose addresses never change what they show;
 * - forgets the pages and pictures at logout, when the server sends the
 *   person to /login, and when a page asks (`{type: 'forget-pages'}`): a
 *   shared phone must not show the last person's lists.
 *
 * What it never touches: other sites, anything but GET (except watching for
 * logouts), the live channel (/ws, /events), the API and server functions
 * (/api/), and the operators' endpoints (/metrics, /healthz, /readyz).
 *
 * Bump VERSION whenever the shell list or the way things are kept changes:
 * the next activation deletes every cache of other versions (a new release
 * does the same by itself, see RELEASE).
 */

/** This release of the app: the server writes the bundle's hash here when
 *  it serves this file (src/assets.rs), along with the bundle's hashed names
 *  in SHELL. A new release is a new worker, and its activation drops the
 *  caches of the old one (whose pages name the old files). */
const RELEASE = "";
const VERSION = RELEASE ? `v2-${RELEASE}` : "v2";
const SHELL_CACHE = `giftlist-shell-${VERSION}`;
const PAGES_CACHE = `giftlist-pages-${VERSION}`;
const PICTURES_CACHE = `giftlist-pictures-${VERSION}`;
const OUR_CACHES = [SHELL_CACHE, PAGES_CACHE, PICTURES_CACHE];

/** The page shown for a page never opened while online. */
const OFFLINE_PAGE = "/offline.html";

/** Everything a kept page needs to show and hydrate offline. */
const SHELL = [
  "/pkg/giftlist.js",
  "/pkg/giftlist.wasm",
  "/pkg/giftlist.css",
  // The split build's loader, which the script imports (the lazily loaded
  // pages' chunks are kept when first used, like any /pkg file).
  "/pkg/__wasm_split.______________________.js",
  "/logo.svg",
  "/favicon.svg",
  "/manifest.webmanifest",
  "/icons/icon-192.png",
  "/icons/icon-512.png",
  "/icons/maskable-512.png",
  "/register-sw.js",
  OFFLINE_PAGE,
];

/** How many pages and pictures are kept at most (the oldest go first). */
const MAX_PAGES = 100;
const MAX_PICTURES = 200;

/** Paths (and everything under them) that always go to the network untouched. */
const NETWORK_ONLY = ["/ws", "/events", "/api", "/metrics", "/healthz", "/readyz"];

/**
 * Pages never kept, whatever their headers say: links that carry a secret
 * in their address (shares, guests' links, password resets, email
 * confirmations, invites), the language switch, which is a redirect, and
 * the Share target (/share), whose page only makes sense for the link just
 * shared: offline, /offline.html says so rather than an old link's page.
 */
const NEVER_KEPT = ["/s/", "/g/", "/reset/", "/confirm-email/", "/invite/", "/lang/"];
const NEVER_KEPT_PAGES = ["/share"];

/** Files that are part of the site rather than pages (network first, kept in the shell cache). */
const STATIC_FILE = /\.(?:js|mjs|css|wasm|svg|png|ico|webmanifest|woff2?|html)$/i;

/**
 * Counts the times the pages were forgotten. A copy fetched before a
 * logout must not be stored after it: `store` compares the count from
 * before its fetch with the count at the time it stores.
 */
let forgotten = 0;

// ---------------------------------------------------------------- lifecycle

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL_CACHE);
      // One by one, and a missing file is no failure: in development some
      // of them are not built yet. `reload` skips the browser's HTTP cache.
      await Promise.all(
        SHELL.map((path) =>
          cache.add(new Request(path, { cache: "reload" })).catch(() => {
            /* fetched again, and kept, the first time a page uses it */
          }),
        ),
      );
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(
        names
          .filter((name) => name.startsWith("giftlist-") && !OUR_CACHES.includes(name))
          .map((name) => caches.delete(name)),
      );
      // Takes the pages already open, so they are kept from now on.
      await self.clients.claim();
    })(),
  );
});

// ------------------------------------------------------------------- fetch

self.addEventListener("fetch", (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;

  if (request.method !== "GET") {
    // Logging out (POST /api/fn/logout, /api/fn/logout_everywhere): forget
    // what this person read; the request itself goes on untouched.
    if (url.pathname.includes("logout")) event.waitUntil(forgetPages());
    return;
  }
  if (isNetworkOnly(url.pathname)) return;
  // A Chromium quirk (DevTools): such requests cannot be fetched again here.
  if (request.cache === "only-if-cached" && request.mode !== "same-origin") return;

  if (request.mode === "navigate") {
    event.respondWith(page(event));
  } else if (url.pathname.startsWith("/pictures/")) {
    event.respondWith(picture(event));
  } else if (url.pathname.startsWith("/pkg/") || STATIC_FILE.test(url.pathname)) {
    event.respondWith(staticFile(event));
  }
  // Anything else (a GET that is neither a page nor a file) is left alone.
});

/**
 * A page: the network first, and a copy kept of what it answers. Without a
 * network, the copy marked as offline; without a copy, /offline.html.
 */
async function page(event) {
  const { request } = event;
  const key = withoutFragment(request.url);
  const generation = forgotten;
  let response;
  try {
    response = await fetch(request);
  } catch {
    return (await offlineCopy(key)) ?? offlinePage();
  }
  // A proxy in front of a stopped server: the kept copy is better than its error page.
  if ([502, 503, 504].includes(response.status)) {
    const copy = await offlineCopy(key);
    if (copy) return copy;
  }
  if (sentToLogin(request, response)) {
    event.waitUntil(forgetPages());
  } else if (isKeptPage(key, response)) {
    event.waitUntil(store(PAGES_CACHE, key, response.clone(), MAX_PAGES, generation));
  }
  return response;
}

/**
 * The person is logged out when the server sends them to /login.
 *
 * A navigation does not follow redirects in here (its redirect mode is
 * "manual": the worker hands the redirect to the browser, which then asks
 * for /login as a navigation of its own), so a navigation that lands on
 * /login counts too. A fetch that followed a redirect (the background copy
 * of `cache-page`) says so with `redirected`.
 */
function sentToLogin(request, response) {
  if (response.redirected && new URL(response.url).pathname === "/login") return true;
  return request.mode === "navigate" && response.ok && new URL(request.url).pathname === "/login";
}

/** Whether a page may be kept at all, whatever it answers. */
function mayKeep(path) {
  return !NEVER_KEPT_PAGES.includes(path) && !NEVER_KEPT.some((prefix) => path.startsWith(prefix));
}

/** A page worth keeping: a whole HTML page the server lets us store. */
function isKeptPage(key, response) {
  if (!mayKeep(new URL(key).pathname)) return false;
  if (response.status !== 200 || response.type !== "basic" || response.redirected) return false;
  const type = response.headers.get("content-type") ?? "";
  const cacheControl = response.headers.get("cache-control") ?? "";
  return type.startsWith("text/html") && !/no-store/i.test(cacheControl);
}

/** The kept copy of a page (or of the same page with another query), marked as offline. */
async function offlineCopy(key) {
  const cache = await caches.open(PAGES_CACHE);
  const copy =
    (await cache.match(key, { ignoreVary: true })) ??
    (await cache.match(key, { ignoreSearch: true, ignoreVary: true }));
  return copy ? markOffline(copy) : undefined;
}

/**
 * The page with `data-offline` on its `<html>` start tag, which shows its
 * offline note (see style/main.css). The body changed length, and is no
 * longer compressed if it ever was.
 */
async function markOffline(response) {
  const html = await response.text();
  const marked = html.replace(/<html(?=[\s>])/i, '<html data-offline=""');
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  headers.delete("content-encoding");
  return new Response(marked, { status: 200, statusText: "OK", headers });
}

/** /offline.html from the shell, or a few words if even that is missing. */
async function offlinePage() {
  const cache = await caches.open(SHELL_CACHE);
  const page = await cache.match(OFFLINE_PAGE, { ignoreVary: true });
  if (page) return page;
  return new Response(
    '<!DOCTYPE html><html lang="en" data-offline=""><meta charset="utf-8"><title>Giftlist: offline</title>' +
      '<p>You are offline. <a href="/">Try again</a></p></html>',
    { status: 503, headers: { "content-type": "text/html; charset=utf-8" } },
  );
}

/** A gift picture: kept the first time, then always read from the cache. */
async function picture(event) {
  const { request } = event;
  const key = withoutFragment(request.url);
  const cache = await caches.open(PICTURES_CACHE);
  const kept = await cache.match(key, { ignoreVary: true });
  if (kept) return kept;
  const generation = forgotten;
  const response = await fetch(request);
  if (response.status === 200 && response.type === "basic") {
    event.waitUntil(store(PICTURES_CACHE, key, response.clone(), MAX_PICTURES, generation));
  }
  return response;
}

/**
 * The app's own files: the network first (their names carry no hash yet,
 * so a kept copy could be old), the kept copy without a network.
 */
async function staticFile(event) {
  const { request } = event;
  const key = withoutFragment(request.url);
  try {
    const response = await fetch(request);
    if (response.status === 200 && response.type === "basic") {
      event.waitUntil(store(SHELL_CACHE, key, response.clone()));
    }
    return response;
  } catch (error) {
    const cache = await caches.open(SHELL_CACHE);
    const kept =
      (await cache.match(key, { ignoreVary: true })) ??
      (await cache.match(key, { ignoreSearch: true, ignoreVary: true }));
    if (kept) return kept;
    throw error;
  }
}

// ----------------------------------------------------------------- messages

self.addEventListener("message", (event) => {
  if (event.origin && event.origin !== self.location.origin) return;
  const message = event.data;
  if (message?.type === "forget-pages") {
    event.waitUntil(forgetPages());
  } else if (message?.type === "cache-page" && typeof message.url === "string") {
    event.waitUntil(keepPage(message.url));
  }
});

/**
 * Keeps a copy of a page the app showed without loading it (the router
 * moves between pages in the browser, asking the server only for data):
 * register-sw.js sends `{type: 'cache-page', url}` after such a move.
 */
async function keepPage(href) {
  const url = new URL(href, self.location.href);
  if (url.origin !== self.location.origin || isNetworkOnly(url.pathname)) return;
  if (!mayKeep(url.pathname)) return;
  const key = withoutFragment(url.href);
  const generation = forgotten;
  let response;
  try {
    response = await fetch(key, { credentials: "same-origin", headers: { accept: "text/html" } });
  } catch {
    return; // offline: nothing to keep
  }
  if (sentToLogin(new Request(key), response)) {
    await forgetPages();
  } else if (isKeptPage(key, response)) {
    await store(PAGES_CACHE, key, response, MAX_PAGES, generation);
  }
}

// ------------------------------------------------------------------ helpers

/** Forgets every page and picture read (the shell stays: it holds nobody's data). */
async function forgetPages() {
  forgotten += 1;
  await Promise.all([caches.delete(PAGES_CACHE), caches.delete(PICTURES_CACHE)]);
}

/**
 * Stores a response, then drops the oldest entries beyond `limit`. Nothing
 * is stored if the pages were forgotten since `generation` was read. A
 * failure (a full disk, a `Vary: *`) only means no copy.
 */
async function store(cacheName, key, response, limit, generation = forgotten) {
  if (generation !== forgotten) return;
  try {
    const cache = await caches.open(cacheName);
    await cache.put(key, response);
    if (generation !== forgotten) {
      await cache.delete(key);
      return;
    }
    if (limit) {
      // Entries come in the order they were stored: the oldest first.
      const keys = await cache.keys();
      await Promise.all(keys.slice(0, Math.max(0, keys.length - limit)).map((old) => cache.delete(old)));
    }
  } catch {
    /* no copy this time */
  }
}

function isNetworkOnly(path) {
  return NETWORK_ONLY.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

function withoutFragment(href) {
  const url = new URL(href);
  url.hash = "";
  return url.href;
}
