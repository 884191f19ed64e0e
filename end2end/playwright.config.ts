import { defineConfig } from "@playwright/test";
import { launchOptions, shared } from "./chromium";

// The server is started by `cargo leptos end-to-end --split` (see scripts/test.sh),
// which listens on LEPTOS_SITE_ADDR.
const baseURL = `http://${process.env.LEPTOS_SITE_ADDR ?? "127.0.0.1:3000"}`;

export default defineConfig({
  ...shared,
  testDir: "./tests",
  // Room for the tests that open many pages on a busy two-core machine.
  // The debug bundle hydrates asynchronously (src/lib.rs, for the lazily
  // loaded pages); it is built with opt-level 1 (Cargo.toml, wasm-dev),
  // which hydrates a page in about 0.45 s here, unoptimised about 1 s.
  timeout: 60_000,
  forbidOnly: !!process.env.CI,
  use: { baseURL, trace: "retain-on-failure", launchOptions },
  projects: [{ name: "chromium" }],
});
