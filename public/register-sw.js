// Installs Giftlist's service worker (/sw.js), which keeps the pages read
// so they can still be read offline. Loaded on every page with
// <script src="/register-sw.js" defer>.
(() => {
  "use strict";

  if (!("serviceWorker" in navigator)) return;

  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch((error) => {
      // The site works without it, only not offline.
      console.warn("Giftlist: the offline copy is not available:", error);
    });
  });

  // The app moves between its pages in the browser, asking the server only
  // for data, so the worker never sees those pages load. After each such
  // move, once the page has settled, it is told to keep a copy.
  let last = location.pathname + location.search;
  let timer;
  const moved = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const here = location.pathname + location.search;
      const worker = navigator.serviceWorker.controller;
      if (here === last || !worker) return;
      last = here;
      worker.postMessage({ type: "cache-page", url: location.href });
    }, 1000);
  };

  if ("navigation" in window) {
    window.navigation.addEventListener("navigatesuccess", moved);
  } else {
    for (const name of ["pushState", "replaceState"]) {
      const original = history[name];
      history[name] = function (...args) {
        const result = original.apply(this, args);
        moved();
        return result;
      };
    }
    window.addEventListener("popstate", moved);
  }
})();
