import { defineConfig } from "@playwright/test";
import { launchOptions, shared } from "./chromium";

// The server is started by `cargo leptos end-to-end` (see scripts/test.sh),
// which listens on LEPTOS_SITE_ADDR.
const baseURL = `http://${process.env.LEPTOS_SITE_ADDR ?? "127.0.0.1:3000"}`;

export default defineConfig({
  ...shared,
  testDir: "./tests",
  timeout: 30_000,
  forbidOnly: !!process.env.CI,
  use: { baseURL, trace: "retain-on-failure", launchOptions },
  projects: [{ name: "chromium" }],
});
