import { defineConfig } from "@playwright/test";

// The scale-out test (scripts/test-scaleout.sh starts nginx and three
// instances and says where with SCALEOUT_URL); not part of the main suite.
export default defineConfig({
  testDir: "./scaleout",
  timeout: 60_000,
  expect: { timeout: 5_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: process.env.SCALEOUT_URL,
    // The test's own certificate, made for 127.0.0.1.
    ignoreHTTPSErrors: true,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run", "--disable-quic"],
    },
  },
  projects: [{ name: "chromium" }],
});
