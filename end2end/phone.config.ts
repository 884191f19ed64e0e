import { defineConfig } from "@playwright/test";
import { launchOptions, shared } from "./chromium";

// The slow-phone check (scripts/test-phone.sh starts a release server and
// says where with PHONE_URL); not part of the main suite, which runs
// against the debug build.
export default defineConfig({
  ...shared,
  testDir: "./phone",
  timeout: 120_000,
  use: { baseURL: process.env.PHONE_URL, trace: "retain-on-failure", launchOptions },
  projects: [{ name: "chromium" }],
});
