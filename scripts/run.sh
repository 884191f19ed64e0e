#!/usr/bin/env bash
# Installs what is missing, builds Giftlist in release mode and serves it on
# SQLite at http://127.0.0.1:3000 (data in ./data). Ctrl-C stops it.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$GIFTLIST_ROOT"
ensure_build_tools
say "building and starting Giftlist at http://${LEPTOS_SITE_ADDR:-127.0.0.1:3000}"
exec cargo leptos serve --release --precompress --split
