#!/usr/bin/env bash
# Runs every test of Giftlist: formatting and lints, unit tests, the server
# integration tests against SQLite and against the PostgreSQL on
# 127.0.0.1:5432 (a fresh database per run, dropped at the end), and the
# Playwright tests in Debian's Chromium, the scale-out test (three
# instances behind Debian's nginx), and the slow-phone check on the release
# build. Installs what is missing first.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$GIFTLIST_ROOT"
ensure_build_tools
ensure_chromium
ensure_postgres

# cargo-leptos compiles with LEPTOS_OUTPUT_NAME set, and leptos reads it at
# compile time: setting it for every cargo call lets the tests reuse the
# app's build instead of compiling leptos twice.
export LEPTOS_OUTPUT_NAME=giftlist

say "checking formatting and lints"
cargo fmt --all -- --check
cargo clippy --all-targets --features ssr,bench -- -D warnings
cargo clippy --lib --features hydrate --target wasm32-unknown-unknown -- -D warnings
# No two modules of src/ may import each other (ARCHITECTURE.md).
python3 scripts/import-cycles.py

say "building the app (debug)"
cargo leptos build --split

# Each server test makes a fresh database giftlist_test_* on this
# PostgreSQL and drops it when it ends (tests/common); the sweep at exit
# drops whatever a failed test left behind.
export GIFTLIST_TEST_POSTGRES_URL="${GIFTLIST_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
sweep_test_databases() {
  psql -X -q -h 127.0.0.1 -U postgres -d postgres -At \
    -c "select datname from pg_database where datname like 'giftlist_test_%'" |
    while read -r db; do
      psql -X -q -h 127.0.0.1 -U postgres -d postgres -c "drop database if exists \"$db\" with (force)"
    done
}

logs="$(mktemp -d)"
trap 'sweep_test_databases; rm -rf "$logs"' EXIT

say "unit and integration tests (SQLite and PostgreSQL)"
cargo test --features ssr,bench 2>&1 | tee "$logs/cargo-test.log"

say "browser tests (Playwright, Debian Chromium)"
# cargo leptos serves on 127.0.0.1:3000; a leftover server there would be
# tested instead of this build.
if (exec 3<>/dev/tcp/127.0.0.1/3000) 2>/dev/null; then
  echo "127.0.0.1:3000 is already in use (a leftover server?); stop it first" >&2
  exit 1
fi
# Every browser test registers its people from 127.0.0.1: the per-IP login
# limit (tested in tests/hardening.rs) is lifted so it does not get in the way.
# Mail goes to the SMTP server that end2end/tests/account.spec.ts runs on
# port 2525 while it needs one. Link import may read private addresses, so
# that end2end/tests/links.spec.ts can serve its own shop on 127.0.0.1.
GIFTLIST_DATA_DIR="$logs/e2e-data" GIFTLIST_METRICS_TOKEN=e2e-metrics \
  GIFTLIST_FETCH_ALLOW_PRIVATE=true \
  GIFTLIST_AUTH_IP_BURST=10000 GIFTLIST_AUTH_IP_PER_MINUTE=10000 \
  GIFTLIST_SMTP_URL=smtp://127.0.0.1:2525 GIFTLIST_MAIL_RETRY_MS=200 \
  cargo leptos end-to-end --split 2>&1 | tee "$logs/e2e.log"

say "scale-out: three instances behind nginx (scripts/test-scaleout.sh)"
"$GIFTLIST_ROOT/scripts/test-scaleout.sh" 2>&1 | tee "$logs/scaleout.log"

# Last: it builds the release site over the debug one the steps above use.
say "a slow phone on the release build (scripts/test-phone.sh)"
"$GIFTLIST_ROOT/scripts/test-phone.sh" 2>&1 | tee "$logs/phone.log"

# One closing line for everything (each step above already stopped the
# script on a failure).
rust_passed=$(grep -oE '^test result: ok\. [0-9]+ passed' "$logs/cargo-test.log" | awk '{ n += $4 } END { print n + 0 }')
browser_passed=$(cat "$logs/e2e.log" "$logs/scaleout.log" "$logs/phone.log" | grep -oE '^ +[0-9]+ passed' | awk '{ n += $1 } END { print n + 0 }')
say "rust tests: $rust_passed passed; browser tests: $browser_passed passed"
echo "$((rust_passed + browser_passed)) passed, 0 failed"
