#!/usr/bin/env bash
# The scale-out test: three Giftlist instances on one PostgreSQL database
# behind Debian's nginx with TLS, set up as the README's "Running it for
# real" says, with deploy/nginx.conf changed only in its ports and
# certificate paths. Then Playwright (end2end/scaleout) has three people on
# three instances edit one list, kills an instance under one of them, and
# restarts PostgreSQL under all three.
#
# Everything runs as this script's own processes on free ports (no system
# service, nothing left behind), PostgreSQL included: a cluster of the
# test's own (initdb in a temporary folder), never the machine's shared
# server, since the test stops it. Expects the debug build of `cargo leptos
# build --split` (scripts/test.sh makes it first).
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$GIFTLIST_ROOT"
ensure_nginx
ensure_caddy
ensure_postgres # for its programs; the test's cluster is its own

# The other proxy's configuration must at least be one Caddy takes.
caddy validate --config deploy/Caddyfile --adapter caddyfile >/dev/null 2>&1 ||
  { caddy validate --config deploy/Caddyfile --adapter caddyfile; exit 1; }

work="$(mktemp -d)"
chmod 755 "$work"
database="giftlist"
pids="$work/pids"
touch "$pids"
cleanup() {
  # nginx first, gently, so its master takes its workers along; then every
  # process the test started, the instances it restarted included.
  if [ -f "$work/nginx.pid" ]; then
    kill -TERM "$(cat "$work/nginx.pid")" 2>/dev/null || true
    sleep 0.5
  fi
  while read -r pid; do
    kill -9 "$pid" 2>/dev/null || true
  done <"$pids"
  if [ -f "$work/pg/data/postmaster.pid" ]; then
    runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  # SCALEOUT_KEEP=1 keeps the logs (instances', nginx's) for a look.
  if [ "${SCALEOUT_KEEP:-}" = 1 ]; then
    echo "scale-out: logs kept in $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
held = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in held:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in held))
PY
}
read -r proxy_port redirect_port plain_port port_a port_b port_c pg_port <<<"$(free_ports 7)"
public_url="https://127.0.0.1:$proxy_port"

say "scale-out: a certificate, a database, three instances"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
# PostgreSQL's own programs, of the newest version installed (Debian keeps
# them by major version, off the PATH).
pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
mkdir "$work/pg"
chown postgres "$work/pg"
runuser -u postgres -- "$pg_bin/initdb" -D "$work/pg/data" -U postgres --auth=trust -E UTF8 \
  --no-sync >"$work/pg/initdb.log"
# How the cluster starts, here and when the browser test starts it again.
pg_options="-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg/data" -o "$pg_options" -l "$work/pg/log" -w start >/dev/null
psql -X -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c "create database \"$database\""

# The settings every instance shares (README: same database, same secret,
# the public URL people open, the proxy trusted), as an environment file.
cat >"$work/giftlist.env" <<EOF
DATABASE_URL=postgres://postgres@127.0.0.1:$pg_port/$database
GIFTLIST_JWT_SECRET=$(openssl rand -hex 32)
GIFTLIST_PUBLIC_URL=$public_url
GIFTLIST_TRUSTED_PROXIES=127.0.0.1
LEPTOS_SITE_ROOT=$GIFTLIST_ROOT/target/site
GIFTLIST_AUTH_IP_BURST=10000
GIFTLIST_AUTH_IP_PER_MINUTE=10000
GIFTLIST_WS_MAX_SOCKETS_PER_USER=2000
EOF

# Starts instance $1 on port $2, and writes its pid down.
start_instance() {
  local name="$1" port="$2"
  (
    set -a
    # shellcheck disable=SC1091
    source "$work/giftlist.env"
    set +a
    export LEPTOS_SITE_ADDR="127.0.0.1:$port" GIFTLIST_INSTANCE_NAME="$name" \
      GIFTLIST_DATA_DIR="$work/data-$name"
    exec "$GIFTLIST_ROOT/target/debug/giftlist" >>"$work/instance-$name.log" 2>&1
  ) &
  # The subshell execs the server: $! is the server's pid.
  echo $! >>"$pids"
  echo $! >"$work/pid-$name"
  # Killed by the test or the cleanup: no job report from bash.
  disown
}

wait_ready() {
  for _ in $(seq 1 100); do
    curl -fsk "$1" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "$1 did not become ready" >&2
  return 1
}

# The first instance alone first: it applies the migrations (README,
# "Upgrades": the others would wait for its lock anyway).
start_instance a "$port_a"
wait_ready "http://127.0.0.1:$port_a/readyz"
start_instance b "$port_b"
start_instance c "$port_c"
wait_ready "http://127.0.0.1:$port_b/readyz"
wait_ready "http://127.0.0.1:$port_c/readyz"

say "scale-out: nginx in front, with deploy/nginx.conf"
# Only ports and certificate paths change; and the TLS site also listens
# without TLS on one more port, for the load run (the benchmark client
# speaks plain HTTP: what it measures is the proxying, not the TLS).
sed -e "s/listen 443 ssl http2;/listen 127.0.0.1:$proxy_port ssl http2;\n    listen 127.0.0.1:$plain_port;/" \
  -e "/listen \[::\]:443/d" \
  -e "s/listen 80;/listen 127.0.0.1:$redirect_port;/" \
  -e "/listen \[::\]:80;/d" \
  -e "s/127.0.0.1:3001/127.0.0.1:$port_a/" \
  -e "s/127.0.0.1:3002/127.0.0.1:$port_b/" \
  -e "s/127.0.0.1:3003/127.0.0.1:$port_c/" \
  -e "s|/etc/letsencrypt/live/gifts.example.org/fullchain.pem|$work/cert.pem|" \
  -e "s|/etc/letsencrypt/live/gifts.example.org/privkey.pem|$work/key.pem|" \
  deploy/nginx.conf >"$work/giftlist.conf"
if ! grep -q "127.0.0.1:$port_c" "$work/giftlist.conf"; then
  echo "deploy/nginx.conf no longer has the lines this test changes" >&2
  exit 1
fi
# What /etc/nginx/nginx.conf would hold around the site, in this folder.
cat >"$work/nginx.conf" <<EOF
worker_processes 1;
worker_rlimit_nofile 16384;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log $work/nginx-access.log;
    client_body_temp_path $work/client-body;
    proxy_temp_path $work/proxy;
    fastcgi_temp_path $work/fastcgi;
    uwsgi_temp_path $work/uwsgi;
    scgi_temp_path $work/scgi;
    include $work/giftlist.conf;
}
EOF
/usr/sbin/nginx -t -q -p "$work" -c "$work/nginx.conf"
/usr/sbin/nginx -p "$work" -c "$work/nginx.conf" -g "daemon off;" &
echo $! >>"$pids"
disown
wait_ready "$public_url/healthz"

say "scale-out: three people on three instances (Playwright)"
# The spec kills an instance and starts it again as start_instance does,
# and stops and starts PostgreSQL as above.
cat >"$work/instances.json" <<EOF
{
  "a": { "port": $port_a },
  "b": { "port": $port_b },
  "c": { "port": $port_c },
  "postgres": { "pg_ctl": "$pg_bin/pg_ctl", "data": "$work/pg/data", "options": "$pg_options", "log": "$work/pg/log" }
}
EOF
export SCALEOUT_URL="$public_url" SCALEOUT_WORK="$work"
(cd end2end && npx playwright test -c scaleout.config.ts)

say "scale-out: load through nginx, and one instance direct (giftlist-bench)"
# 1,000 sockets spread by nginx over the three instances and 20 items a
# second written through all three; then the same on one instance without
# the proxy, in this run. --strict: any socket, write or event missing,
# duplicated or out of order fails the test.
ulimit -n 65536 2>/dev/null || true
bench="$GIFTLIST_ROOT/target/debug/giftlist-bench"
if [ ! -x "$bench" ]; then
  cargo build --features bench --bin giftlist-bench
fi
for name in a b c; do
  port_var="port_$name"
  wait_ready "http://127.0.0.1:${!port_var}/readyz"
done
# nginx passes over an instance for fail_timeout (5 s) after it failed it:
# the one the browser test killed and restarted rejoins after that.
sleep 6
"$bench" --strict --url "http://127.0.0.1:$plain_port" --sockets 1000 --items 200 --rate 20 |
  tee "$work/bench-proxy.txt"
"$bench" --strict --url "http://127.0.0.1:$port_a" --sockets 1000 --items 200 --rate 20 |
  tee "$work/bench-direct.txt"
if ! grep -qE "sockets per instance +a [0-9]+, b [0-9]+, c [0-9]+" "$work/bench-proxy.txt"; then
  echo "the sockets did not reach all three instances" >&2
  exit 1
fi
latency() { grep -oE 'p50 [0-9.]+ ms   p99 [0-9.]+ ms' "$1"; }
say "scale-out: commit-to-receipt through nginx over 3 instances: $(latency "$work/bench-proxy.txt"); one instance direct: $(latency "$work/bench-direct.txt")"
