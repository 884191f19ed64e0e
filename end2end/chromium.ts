// How every Playwright configuration here starts Debian's Chromium
// (Playwright's own browser download cannot work on this machine), and the
// settings they all share: one worker, no retries, traces of failures.
export const shared = {
  expect: { timeout: 5_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]] as [string][],
};

export const launchOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
  ],
};
