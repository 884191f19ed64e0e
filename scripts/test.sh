#!/usr/bin/env bash
# Runs every test of Giftlist: formatting and lints, unit tests, the server
# integration tests against SQLite and against the PostgreSQL on
# 127.0.0.1:5432 (a fresh database per run, dropped at the end), and the
# Playwright tests in Debian's Chromium. Installs what is missing first.
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
cargo clippy --all-targets --features ssr -- -D warnings
cargo clippy --lib --features hydrate --target wasm32-unknown-unknown -- -D warnings

say "building the app (debug)"
cargo leptos build

# One fresh PostgreSQL database for this run; each test makes its own
# schema-free database under it (see tests/common) and the sweep below
# drops whatever a failed test left behind.
export GIFTLIST_TEST_POSTGRES_URL="${GIFTLIST_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
sweep_test_databases() {
  psql -X -q -h 127.0.0.1 -U postgres -d postgres -At \
    -c "select datname from pg_database where datname like 'giftlist_test_%'" |
    while read -r db; do
      psql -X -q -h 127.0.0.1 -U postgres -d postgres -c "drop database if exists \"$db\" with (force)"
    done
}
trap sweep_test_databases EXIT

say "unit and integration tests (SQLite and PostgreSQL)"
cargo test --features ssr

say "browser tests (Playwright, Debian Chromium)"
e2e_data="$(mktemp -d)"
GIFTLIST_DATA_DIR="$e2e_data" cargo leptos end-to-end
rm -rf "$e2e_data"
say "all tests passed"
