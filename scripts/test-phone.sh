#!/usr/bin/env bash
# The slow-phone check: the release build (`cargo leptos build --release
# --precompress --split`, as README's "Running it for real" builds it) serves a
# list of 100 gifts to Chromium throttled like a phone on mobile data
# (end2end/phone): the gifts must show within 2.5 s and the page be
# interactive within 6 s. Prints the measured times.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$GIFTLIST_ROOT"

say "phone: the release build"
cargo leptos build --release --precompress --split

work="$(mktemp -d)"
cleanup() {
  [ -n "${server:-}" ] && kill "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
GIFTLIST_DATA_DIR="$work" LEPTOS_SITE_ROOT="$GIFTLIST_ROOT/target/site" \
  LEPTOS_SITE_ADDR="127.0.0.1:$port" RUST_LOG=warn \
  "$GIFTLIST_ROOT/target/release/giftlist" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break
  sleep 0.2
done

say "phone: a list of 100 gifts in a throttled Chromium (Playwright)"
(cd end2end && PHONE_URL="http://127.0.0.1:$port" npx playwright test -c phone.config.ts)
