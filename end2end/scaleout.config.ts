import { defineConfig } from "@playwright/test";
import { launchOptions, shared } from "./chromium";

// The scale-out test (scripts/test-scaleout.sh starts nginx and three
// instances and says where with SCALEOUT_URL); not part of the main suite.
export default defineConfig({
  ...shared,
  testDir: "./scaleout",
  timeout: 60_000,
  use: {
    baseURL: process.env.SCALEOUT_URL,
    // The test's own certificate, made for 127.0.0.1.
    ignoreHTTPSErrors: true,
    trace: "retain-on-failure",
    launchOptions,
  },
  projects: [{ name: "chromium" }],
});
