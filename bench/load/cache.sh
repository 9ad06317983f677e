#!/usr/bin/env bash
#
# Cache hits/s against misses/s through proxy-filter's standalone distribution (issue 4), with wrk on
# 127.0.0.1 against one local Debian nginx origin that serves a fixed 100-byte body. Prints req/s and
# p50/p99 latency per row, and the load average before and after (the machine may be shared).
#
#   bench/load/cache.sh [--duration S] [--warmup S] [--connections N] [--dist DIR] [--shared]
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
#   nginx-hit     nginx proxy_cache in front of the same origin (keep-alive both sides, one worker, access
#                 log off), GET /hit: every request a hit, the anchor for the hit rows
# With --shared, two more proxy-filter processes form a Hazelcast cluster on 127.0.0.1 (embedded members,
# TCP-IP, a cluster name of this run's own, cache.store=shared), and three rows more:
# The shared rows send one Host (as clients of one DNS name do), since the cache key holds it.
#   hit-shared    GET /hit on node B, stored by a request through node A: answered from B's local tier
#                 once B has read it from the shared one (the origin count must be 0)
#   miss-shared   GET /hit?<unique> on node B: every request a miss stored into both tiers (the shared
#                 one an IMap on two members), against miss-stored on a single node
#   xnode-hit     GET /hit?xnode-<0..1999> on node B, every key stored by node A first: B's first read
#                 of each key comes from the shared tier, later ones from its local tier
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
SHARED=false
SHARED_HOST=shared.bench.example

while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION="$2"; shift ;;
    --warmup) WARMUP="$2"; shift ;;
    --connections) CONNECTIONS="$2"; shift ;;
    --dist) DIST="$(cd -P "$2" && pwd)"; shift ;;
    --shared) SHARED=true ;;
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
# Distinct free ports: origin, the two proxies, nginx proxy_cache, and the cluster's two nodes and members.
PORTS=()
while [ ${#PORTS[@]} -lt 8 ]; do
  p=$(free_port)
  case " ${PORTS[*]} " in *" $p "*) ;; *) PORTS+=("$p") ;; esac
done
ORIGIN=${PORTS[0]}; CACHE_ON=${PORTS[1]}; CACHE_OFF=${PORTS[2]}; NGINX_CACHE=${PORTS[3]}
NODE_A=${PORTS[4]}; NODE_B=${PORTS[5]}; MEMBER_A=${PORTS[6]}; MEMBER_B=${PORTS[7]}

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
  # The anchor for hits: proxy_cache as its users run it (keep-alive both sides, no access log).
  proxy_cache_path $TMP/nginx/cache levels=1:2 keys_zone=bench:10m max_size=100m inactive=1h;
  upstream origin { server 127.0.0.1:$ORIGIN; keepalive 64; keepalive_requests 1000000; keepalive_timeout 300s; }
  server {
    listen 127.0.0.1:$NGINX_CACHE;
    access_log off;
    keepalive_timeout 300s;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache bench;
    }
  }
}
NGINX
"$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" || die "nginx did not start"

# --- proxies ---
write_config() {
  local file=$1 port=$2 cache=$3 member=${4:-}
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
  if [ -n "$member" ]; then
    cat >>"$file" <<EOF
cluster.enabled=true
cluster.name=cache-bench-$$
cluster.interface=127.0.0.1
cluster.port=$member
cluster.members=127.0.0.1:$MEMBER_A,127.0.0.1:$MEMBER_B
cache.store=shared
EOF
  fi
}
start_proxy() {
  local name=$1 port=$2 cache=$3 member=${4:-}
  mkdir -p "$TMP/$name"
  write_config "$TMP/$name/proxy.properties" "$port" "$cache" "$member"
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
if $SHARED; then
  start_proxy node-a "$NODE_A" true "$MEMBER_A"
  start_proxy node-b "$NODE_B" true "$MEMBER_B"
  for _ in $(seq 100); do grep -qE "Members \{size:2|member .* joined" "$TMP/node-b/log" && break; sleep 0.2; done
  grep -qE "Members \{size:2|member .* joined" "$TMP/node-b/log" || die "the two nodes did not form a cluster: $(tail -5 "$TMP/node-b/log")"
fi

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
# A fixed set of 2,000 keys for xnode-hit, walked by every connection.
cat >"$TMP/keys.lua" <<'LUA'
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  n = id * 1000
end
function request()
  n = n + 1
  return wrk.format("GET", "/hit?xnode-" .. (n % 2000))
end
LUA

# run NAME PORT PATH [LUA] [HOST]: one wrk run, one row
run() {
  local name=$1 port=$2 path=$3 lua=${4:-} host=${5:-} out before after
  before=$(origin_requests)
  out="$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency ${host:+-H "Host: $host"} ${lua:+-s "$lua"} "http://127.0.0.1:$port$path" ${lua:+-- "$name"})"
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
wrk -t2 -c"$CONNECTIONS" -d"$((WARMUP / 2))s" "http://127.0.0.1:$NGINX_CACHE/hit" >/dev/null
if $SHARED; then
  wrk -t2 -c"$CONNECTIONS" -d"${WARMUP}s" -H "Host: $SHARED_HOST" "http://127.0.0.1:$NODE_B/hit" >/dev/null
  wrk -t2 -c"$CONNECTIONS" -d"$((WARMUP / 2))s" -H "Host: $SHARED_HOST" -s "$TMP/unique.lua" "http://127.0.0.1:$NODE_B/hit" -- warmup-b >/dev/null
fi

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
printf '%-12s %12s %10s %10s %14s\n' row "req/s" p50 p99 "origin reqs"
run hit "$CACHE_ON" /hit
run miss-stored "$CACHE_ON" /hit "$TMP/unique.lua"
run miss-pass "$CACHE_ON" /pass
run cache-off "$CACHE_OFF" /hit
run nginx-hit "$NGINX_CACHE" /hit
if $SHARED; then
  # One Host for both nodes, as behind one DNS name: the cache key holds the Host.
  curl -s -o /dev/null -H "Host: $SHARED_HOST" "http://127.0.0.1:$NODE_A/hit"
  for k in $(seq 0 1999); do
    echo "url = \"http://127.0.0.1:$NODE_A/hit?xnode-$k\""
    echo "output = /dev/null"
  done >"$TMP/keys.curl"
  curl -s -H "Host: $SHARED_HOST" -K "$TMP/keys.curl"
  run hit-shared "$NODE_B" /hit "" "$SHARED_HOST"
  run miss-shared "$NODE_B" /hit "$TMP/unique.lua" "$SHARED_HOST"
  run xnode-hit "$NODE_B" /hit "$TMP/keys.lua" "$SHARED_HOST"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wrk -t2 -c$CONNECTIONS -d${DURATION}s --latency; 100-byte body from nginx; proxy-filter with its shipped JVM options"
