#!/usr/bin/env bash
#
# WebSocket through the proxy (issue 16): echo round-trip latency and messages per second through
# proxy-filter's standalone distribution and through nginx (proxy_http_version 1.1 with the Upgrade
# headers), against one JDK-only echo origin, with the JDK's own WebSocket client; plus the origin
# without a proxy as the floor. Interleaved rounds; writes bench/results-websocket.md.
#
#   bench/load/websocket.sh [options]
#
#   --connections N   concurrent WebSocket sessions, one message in flight each (default 32)
#   --sizes LIST      message sizes in bytes, comma-separated (default 64,16384)
#   --seconds S       measured seconds of one run (default 10)
#   --warmup S        seconds before measuring, in each run (default 3)
#   --rounds N        rounds (direct, nginx, proxy-filter, direct, ...) (default 3)
#   --dist DIR        the unpacked distribution (default jetty-distribution/target/proxy-filter, built
#                     with ./mvnw when missing)
#   --out FILE        the Markdown results (default bench/results-websocket.md)
#   --max-load L      refuse to measure while the 1-minute load average is L or more (default 1.5): a
#                     busy machine measures its neighbours, not the proxies
#   --force           measure whatever the load average
#   --no-install      fail instead of running apt-get for nginx
#
# Programs: bench/load/WsEchoServer.java (the origin) and bench/load/WsLoad.java (the client), run as
# single-file Java sources. Everything listens on 127.0.0.1; every process it starts is stopped by its
# PID on exit, and its temporary directory is removed.

set -euo pipefail

SCRIPT_DIR="$(cd -P "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd -P "$SCRIPT_DIR/../.." && pwd)"
COMMAND_LINE="bench/load/websocket.sh${*:+ $*}"

CONNECTIONS=32
SIZES="64,16384"
SECONDS_RUN=10
WARMUP=3
ROUNDS=3
DIST="$ROOT/jetty-distribution/target/proxy-filter"
OUT="$ROOT/bench/results-websocket.md"
MAX_LOAD=1.5
FORCE=0
INSTALL=1

usage() { sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --connections) CONNECTIONS="$2"; shift ;;
    --sizes) SIZES="$2"; shift ;;
    --seconds) SECONDS_RUN="$2"; shift ;;
    --warmup) WARMUP="$2"; shift ;;
    --rounds) ROUNDS="$2"; shift ;;
    --dist) DIST="$(cd -P "$2" && pwd)"; shift ;;
    --out) OUT="$2"; shift ;;
    --max-load) MAX_LOAD="$2"; shift ;;
    --force) FORCE=1 ;;
    --no-install) INSTALL=0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "websocket.sh: unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "websocket.sh: $*" >&2; }
die() { log "$*"; exit 1; }

LOAD_NOW="$(cut -d' ' -f1 /proc/loadavg)"
if [ "$FORCE" = 0 ] && awk -v l="$LOAD_NOW" -v m="$MAX_LOAD" 'BEGIN { exit !(l >= m) }'; then
  log "load average $LOAD_NOW >= $MAX_LOAD: not measuring (other work would be measured too; --force to run anyway)"
  exit 3
fi

PIDS=()
TMP=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  set +e
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  [ -n "$TMP" ] && [ -d "$TMP" ] && rm -rf "$TMP"
  exit $rc
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Starts "$@" in the background with output to the file $1; its PID in $BG_PID.
start_bg() {
  local out=$1
  shift
  "$@" >"$out" 2>&1 &
  BG_PID=$!
  PIDS+=("$BG_PID")
}

if [ -n "${JAVA_HOME:-}" ]; then JAVA="$JAVA_HOME/bin/java"; else JAVA=java; fi
command -v "$JAVA" >/dev/null 2>&1 || die "java not found (JAVA_HOME or PATH)"
NGINX="$(command -v nginx || true)"
if [ -z "$NGINX" ] && [ -x /usr/sbin/nginx ]; then NGINX=/usr/sbin/nginx; fi
if [ -z "$NGINX" ]; then
  [ "$INSTALL" = 1 ] || die "nginx not found (apt-get install -y nginx)"
  log "installing nginx"
  # Debian starts a package's service on install (on port 80): a policy-rc.d forbids that.
  POLICY_CREATED=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && POLICY_CREATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx >&2 || die "apt-get install nginx failed"
  [ "$POLICY_CREATED" = 1 ] && rm -f /usr/sbin/policy-rc.d
  NGINX=/usr/sbin/nginx
fi

if [ ! -x "$DIST/bin/proxy-filter" ]; then
  log "building the distribution (./mvnw -B -q package -DskipTests -pl jetty-distribution -am)"
  (cd "$ROOT" && ./mvnw -B -q package -DskipTests -pl jetty-distribution -am) >&2 \
    || die "the build failed"
  [ -x "$DIST/bin/proxy-filter" ] || die "no $DIST/bin/proxy-filter after the build"
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/proxy-filter-ws-bench.XXXXXX")"
chmod 755 "$TMP"

USED=" "
free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 12000))
    case "$USED" in *" $p "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      USED="$USED$p "
      echo "$p"
      return 0
    fi
  done
  die "no free port found"
}
wait_port() {
  local port=$1 what=$2
  for _ in $(seq 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  die "$what did not listen on $port within 30 s"
}

ORIGIN=$(free_port)
NGINX_PORT=$(free_port)
PF_PORT=$(free_port)

log "origin on $ORIGIN"
start_bg "$TMP/origin.log" "$JAVA" "$SCRIPT_DIR/WsEchoServer.java" "$ORIGIN"
wait_port "$ORIGIN" "the echo origin"

mkdir -p "$TMP/nginx/logs"
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes auto;
error_log $TMP/nginx/logs/error.log warn;
pid $TMP/nginx/nginx.pid;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  upstream origin { server 127.0.0.1:$ORIGIN; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_read_timeout 3600s;
    }
  }
}
EOF
log "nginx on $NGINX_PORT"
start_bg "$TMP/nginx/nginx.out" "$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf"
wait_port "$NGINX_PORT" "nginx"

cat >"$TMP/proxy.properties" <<EOF
server.host=127.0.0.1
server.port=$PF_PORT
admin.port=-1
log.access=off
pool.ws.backend.origin.url=http://127.0.0.1:$ORIGIN
route.ws.path=/
route.ws.pool=ws
EOF
log "proxy-filter on $PF_PORT"
start_bg "$TMP/proxy-filter.log" "$DIST/bin/proxy-filter" --config "$TMP/proxy.properties"
wait_port "$PF_PORT" "proxy-filter"

declare -A URI=(
  [direct]="ws://127.0.0.1:$ORIGIN/echo"
  [nginx]="ws://127.0.0.1:$NGINX_PORT/echo"
  [proxy-filter]="ws://127.0.0.1:$PF_PORT/echo"
)
TARGETS=(direct nginx proxy-filter)
RESULTS="$TMP/results.txt"
: >"$RESULTS"

IFS=',' read -r -a SIZE_LIST <<<"$SIZES"
for ((round = 1; round <= ROUNDS; round++)); do
  for size in "${SIZE_LIST[@]}"; do
    for target in "${TARGETS[@]}"; do
      line="$("$JAVA" "$SCRIPT_DIR/WsLoad.java" "${URI[$target]}" "$CONNECTIONS" "$size" "$WARMUP" "$SECONDS_RUN")" \
        || die "the load against $target failed"
      log "round $round, $size B, $target: $line"
      echo "$target $size $line" >>"$RESULTS"
    done
  done
done

# Medians over the rounds, per target and size: messages/s, p50 and p99 round trip (us), errors.
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
{
  echo "# WebSocket echo through the proxy"
  echo
  echo "\`$COMMAND_LINE\` on $(date -u +%Y-%m-%dT%H:%MZ), load average $LOAD_NOW before the run,"
  echo "$(nproc) CPUs, $("$JAVA" -version 2>&1 | head -1), $("$NGINX" -v 2>&1 | head -1)."
  echo "$CONNECTIONS sessions, one message in flight each; $ROUNDS interleaved rounds of ${SECONDS_RUN} s after"
  echo "${WARMUP} s of warm-up; medians over the rounds. The origin is bench/load/WsEchoServer.java, the client"
  echo "bench/load/WsLoad.java (java.net.http.WebSocket); nginx has proxy_http_version 1.1 and the Upgrade headers."
  echo
  echo "| size | target | messages/s | p50 round trip | p99 round trip | errors | messages/s vs nginx |"
  echo "|---|---|---|---|---|---|---|"
  for size in "${SIZE_LIST[@]}"; do
    nginx_rate="$(awk -v s="$size" '$1 == "nginx" && $2 == s { print $6 }' "$RESULTS" | median)"
    for target in "${TARGETS[@]}"; do
      rate="$(awk -v t="$target" -v s="$size" '$1 == t && $2 == s { print $6 }' "$RESULTS" | median)"
      p50="$(awk -v t="$target" -v s="$size" '$1 == t && $2 == s { print $8 }' "$RESULTS" | median)"
      p99="$(awk -v t="$target" -v s="$size" '$1 == t && $2 == s { print $10 }' "$RESULTS" | median)"
      errors="$(awk -v t="$target" -v s="$size" '$1 == t && $2 == s { e += $12 } END { print e + 0 }' "$RESULTS")"
      ratio="$(awk -v r="$rate" -v n="$nginx_rate" 'BEGIN { if (n > 0) printf "%.2f", r / n; else print "n/a" }')"
      echo "| $size B | $target | $rate | ${p50} µs | ${p99} µs | $errors | $ratio |"
    done
  done
  echo
  echo "Raw runs (target, size, then WsLoad's line):"
  echo
  echo '```'
  cat "$RESULTS"
  echo '```'
} >"$OUT"
log "wrote $OUT"
