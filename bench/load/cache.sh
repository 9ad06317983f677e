#!/usr/bin/env bash
#
# Cache hits/s against misses/s through proxy-filter's standalone distribution (issue 4), with wrk on
# 127.0.0.1 against one local Debian nginx origin that serves a fixed 100-byte body. Prints req/s and
# p50/p99 latency per row, and the load average before and after (the machine may be shared).
#
#   bench/load/cache.sh [--duration S] [--warmup S] [--connections N] [--dist DIR]
#
# Rows, all with wrk -t2 -cN (keep-alive), one after the other:
#   hit           cache on, GET /hit: Cache-Control public, max-age=3600; stored by a first request,
#                 then every request is a hit (the origin's request count during the run is printed:
#                 it must be 0)
#   miss-stored   cache on, GET /hit?<unique> (wrk Lua script): every request is a new key, a miss
#                 that goes to the origin and whose response is stored (Cache-Status: fwd=uri-miss;
#                 stored), the store evicting as it fills (heap tier, 10,000 entries)
#   miss-pass     cache on, GET /pass: Cache-Control no-store; looked up, forwarded, never stored: a
#                 pass-through miss (concurrent ones are coalesced, then released by the no-store)
#   cache-off     cache.enabled=false, GET /hit: plain proxying, for reference
#
# Defaults: 8 s per row after a 6 s warm-up per proxy (JIT): about 60 s in all, bounded by wrk's own -d.
# Builds the distribution when missing (./mvnw -B -o -pl jetty-distribution -am package -DskipTests).
# Installs nginx and wrk with apt-get when missing. Every process it starts is stopped on exit.

set -euo pipefail

SCRIPT_DIR="$(cd -P "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd -P "$SCRIPT_DIR/../.." && pwd)"
DURATION=8
WARMUP=6
CONNECTIONS=32
DIST="$ROOT/jetty-distribution/target/proxy-filter"

while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION="$2"; shift ;;
    --warmup) WARMUP="$2"; shift ;;
    --connections) CONNECTIONS="$2"; shift ;;
    --dist) DIST="$(cd -P "$2" && pwd)"; shift ;;
    -h|--help) sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "cache.sh: unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "cache.sh: $*" >&2; }
die() { log "$*"; exit 1; }

for tool in nginx wrk curl; do
  if ! command -v "$tool" >/dev/null && ! [ -x "/usr/sbin/$tool" ]; then
    log "installing $tool"
    apt-get install -y -q "$tool" >/dev/null || die "cannot install $tool"
  fi
done
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

if [ ! -x "$DIST/bin/proxy-filter" ]; then
  log "building the distribution"
  (cd "$ROOT" && ./mvnw -B -o -q -pl jetty-distribution -am package -DskipTests) || die "build failed"
fi

TMP="$(mktemp -d)"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$TMP/nginx/nginx.pid" ] && kill "$(cat "$TMP/nginx/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 12000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  die "no free port"
}
ORIGIN=$(free_port); CACHE_ON=$(free_port); CACHE_OFF=$(free_port)
while [ "$CACHE_ON" = "$ORIGIN" ] || [ "$CACHE_OFF" = "$ORIGIN" ] || [ "$CACHE_OFF" = "$CACHE_ON" ]; do
  CACHE_ON=$(free_port); CACHE_OFF=$(free_port)
done

# --- origin: nginx, 100-byte body ---
mkdir -p "$TMP/nginx/logs" "$TMP/www"
head -c 100 /dev/zero | tr '\0' 'x' >"$TMP/www/body"
chmod 755 "$TMP" "$TMP/www"; chmod 644 "$TMP/www/body" # nginx workers run as another user
cat >"$TMP/nginx/nginx.conf" <<NGINX
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log $TMP/nginx/logs/access.log;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$ORIGIN;
    default_type text/plain;
    location = /hit  { add_header Cache-Control "public, max-age=3600"; alias $TMP/www/body; }
    location = /pass { add_header Cache-Control "no-store"; alias $TMP/www/body; }
  }
}
NGINX
"$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" || die "nginx did not start"

# --- proxies ---
write_config() {
  local file=$1 port=$2 cache=$3
  cat >"$file" <<EOF
server.host=127.0.0.1
server.port=$port
admin.port=-1
log.access=off
pool.origin.backend.a.url=http://127.0.0.1:$ORIGIN
route.main.path=/
route.main.pool=origin
route.main.cache=$cache
cache.enabled=$cache
cache.heap-entries=10000
EOF
}
start_proxy() {
  local name=$1 port=$2 cache=$3
  mkdir -p "$TMP/$name"
  write_config "$TMP/$name/proxy.properties" "$port" "$cache"
  "$DIST/bin/proxy-filter" --config "$TMP/$name/proxy.properties" >"$TMP/$name/log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/hit" 2>/dev/null)" = 200 ] && return 0
    sleep 0.1
  done
  tail -20 "$TMP/$name/log" >&2
  die "$name did not start"
}
start_proxy on "$CACHE_ON" true
start_proxy off "$CACHE_OFF" false

status="$(curl -s -D - -o /dev/null "http://127.0.0.1:$CACHE_ON/hit" | tr -d '\r' | sed -n 's/^[Cc]ache-[Ss]tatus: //p')"
case "$status" in *hit*) ;; *) die "second GET /hit is not a hit (Cache-Status: $status)" ;; esac

# Unique per thread and per run: thread ids from setup(), a run tag from the command line.
cat >"$TMP/unique.lua" <<'LUA'
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  tag = args[1] or "run"
  n = 0
end
function request()
  n = n + 1
  return wrk.format("GET", "/hit?" .. tag .. "-" .. id .. "-" .. n)
end
LUA
origin_requests() { wc -l <"$TMP/nginx/logs/access.log"; }

# run NAME PORT PATH [LUA]: one wrk run, one row
run() {
  local name=$1 port=$2 path=$3 lua=${4:-} out before after
  before=$(origin_requests)
  out="$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency ${lua:+-s "$lua"} "http://127.0.0.1:$port$path" ${lua:+-- "$name"})"
  after=$(origin_requests)
  awk -v name="$name" -v origin=$((after - before)) '
    /Requests\/sec:/ { rps = $2 }
    /^ +50%/ { p50 = $2 }
    /^ +99%/ { p99 = $2 }
    /Non-2xx|Socket errors/ { errors = errors " " $0 }
    END { printf "%-12s %12s %10s %10s %14s%s\n", name, rps, p50, p99, origin, errors }' <<<"$out"
}

log "warm-up: ${WARMUP}s per proxy"
wrk -t2 -c"$CONNECTIONS" -d"${WARMUP}s" "http://127.0.0.1:$CACHE_ON/hit" >/dev/null
wrk -t2 -c"$CONNECTIONS" -d"$((WARMUP / 2))s" -s "$TMP/unique.lua" "http://127.0.0.1:$CACHE_ON/hit" -- warmup >/dev/null
wrk -t2 -c"$CONNECTIONS" -d"${WARMUP}s" "http://127.0.0.1:$CACHE_OFF/hit" >/dev/null

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
printf '%-12s %12s %10s %10s %14s\n' row "req/s" p50 p99 "origin reqs"
run hit "$CACHE_ON" /hit
run miss-stored "$CACHE_ON" /hit "$TMP/unique.lua"
run miss-pass "$CACHE_ON" /pass
run cache-off "$CACHE_OFF" /hit
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wrk -t2 -c$CONNECTIONS -d${DURATION}s --latency; 100-byte body from nginx; proxy-filter with its shipped JVM options"
