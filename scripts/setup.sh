# Installs what building and testing Giftlist needs, skipping what is
# already there at the right version. Sourced by run.sh and test.sh; each
# step can also be called on its own after sourcing.
#
# Nothing here downloads from outside the package registries: cargo-leptos
# is built with `no_downloads`, wasm-opt comes from npm (binaryen), and the
# browser is Debian's Chromium.

set -euo pipefail

GIFTLIST_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO_LEPTOS_VERSION="0.3.10"
export PATH="$HOME/.cargo/bin:$GIFTLIST_ROOT/end2end/node_modules/.bin:$PATH"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# The wasm-bindgen CLI must match the wasm-bindgen crate in Cargo.lock exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' "$GIFTLIST_ROOT/Cargo.lock"
}

ensure_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

ensure_cargo_leptos() {
  if cargo leptos --version 2>/dev/null | grep -q " $CARGO_LEPTOS_VERSION\$"; then
    return
  fi
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 10 minutes on 2 cores)"
  # A lighter release profile: the tool's own speed hardly matters, its
  # build time does (25 minutes with LTO).
  CARGO_PROFILE_RELEASE_LTO=false \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
}

ensure_wasm_bindgen() {
  local want
  want="$(wasm_bindgen_version)"
  if wasm-bindgen --version 2>/dev/null | grep -q " $want\$"; then
    return
  fi
  say "installing wasm-bindgen-cli $want"
  # Not --locked: its lock file pins a crate version the registry no longer serves.
  CARGO_PROFILE_RELEASE_LTO=false \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install wasm-bindgen-cli --version "$want" --force
}

# @playwright/test and binaryen (wasm-opt for release builds), as locked.
ensure_node_modules() {
  local dir="$GIFTLIST_ROOT/end2end"
  local stamp="$dir/node_modules/.package-lock.json"
  if [ -f "$stamp" ] && cmp -s <(grep -v '"lockfileVersion"' "$dir/package-lock.json" | grep '"version"') \
      <(grep -v '"lockfileVersion"' "$stamp" | grep '"version"'); then
    return
  fi
  say "installing end2end npm packages"
  (cd "$dir" && npm ci --no-audit --no-fund)
}

# Installs Debian's package $2 unless the program $1 is there. The package
# lists are fetched once per run, however many packages are missing.
APT_UPDATED=""
ensure_debian_package() {
  if [ -x "$1" ]; then
    return
  fi
  say "installing Debian's $2"
  if [ -z "$APT_UPDATED" ]; then
    apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2"
}

ensure_chromium() {
  ensure_debian_package /usr/bin/chromium chromium
}

# PostgreSQL on 127.0.0.1:5432, started if it is down.
ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    return
  fi
  say "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && return
    sleep 1
  done
  echo "PostgreSQL did not come up on 127.0.0.1:5432" >&2
  return 1
}

# Debian's nginx, for the scale-out test (run as the test's own process on
# free ports). The package starts a system nginx on port 80 when it is
# installed; the test needs none, so it is stopped.
ensure_nginx() {
  if [ -x /usr/sbin/nginx ]; then
    return
  fi
  ensure_debian_package /usr/sbin/nginx nginx
  if [ -f /run/nginx.pid ]; then
    /usr/sbin/nginx -s stop 2>/dev/null || true
  fi
}

# Debian's Caddy, to check deploy/Caddyfile (`caddy validate`); its
# service is not used.
ensure_caddy() {
  ensure_debian_package /usr/bin/caddy caddy
}

ensure_build_tools() {
  ensure_wasm_target
  ensure_cargo_leptos
  ensure_wasm_bindgen
  ensure_node_modules
}
