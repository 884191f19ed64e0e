import { defineConfig } from "@playwright/test";
import { launchOptions, shared } from "./chromium";

// The server is started by `cargo leptos end-to-end --split` (see scripts/test.sh),
// which listens on LEPTOS_SITE_ADDR.
const baseURL = `http://${process.env.LEPTOS_SITE_ADDR ?? "127.0.0.1:3000"}`;

export default defineConfig({
  ...shared,
  testDir: "./tests",
  // The debug bundle hydrates asynchronously (src/lib.rs, for the lazily
  // loaded pages), which unoptimised takes about 1 s a page here instead of
  // 0.45 s: room for the tests that open many pages.
  timeout: 60_000,
  forbidOnly: !!process.env.CI,
  use: { baseURL, trace: "retain-on-failure", launchOptions },
  projects: [{ name: "chromium" }],
});
