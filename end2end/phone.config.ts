import { defineConfig } from "@playwright/test";

// The slow-phone check (scripts/test-phone.sh starts a release server and
// says where with PHONE_URL); not part of the main suite, which runs
// against the debug build.
export default defineConfig({
  testDir: "./phone",
  timeout: 120_000,
  expect: { timeout: 5_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: process.env.PHONE_URL,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
    },
  },
  projects: [{ name: "chromium" }],
});
