#!/usr/bin/env bash
#
# HTTP/2 and gRPC through proxy-filter's standalone distribution against nginx (issue 16): h2load drives
#   - h2: GET /100b over h2c (prior knowledge) to each proxy, which forwards it over HTTP/1.1 to an nginx
#     origin (nginx cannot proxy HTTP/2 to its upstreams; proxy-filter's pool stays http/1.1 too);
#   - gRPC: unary grpc.testing.SimpleService/UnaryRpc calls over h2c to each proxy, forwarded over h2c to
#     a grpc-java origin (GrpcEchoBackend.java): proxy-filter with pool.NAME.protocol=h2c, nginx with
#     grpc_pass; and to the origin directly, as the ceiling.
# Writes bench/results-grpc.md (requests/s, and h2load's own success and failure counts).
#
#   bench/load/grpc.sh [--duration S] [--clients N] [--streams M] [--force] [--no-install]
#
#   --duration S   seconds of each measured h2load run (default 10), after a warm-up of the same length
#   --clients N    h2load connections (default 8)
#   --streams M    concurrent streams per connection (default 16)
#   --force        run even when the load average is 1.5 or more (the results then say so)
#   --no-install   fail instead of running apt-get for nginx, h2load (nghttp2-client) and curl
#   --out FILE     the Markdown results (default bench/results-grpc.md)
#
# Numbers from a machine that is busy with something else mean little: unless --force, the script
# refuses to run while `uptime`'s 1-minute load average is 1.5 or more.
#
# Everything listens on 127.0.0.1; every process it starts is stopped on exit and its temporary
# directory removed. The grpc-java origin runs on proxy-filter's test classpath (./mvnw resolves it).

set -euo pipefail

SCRIPT_DIR="$(cd -P "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd -P "$SCRIPT_DIR/../.." && pwd)"
DIST="$ROOT/jetty-distribution/target/proxy-filter"
OUT="$ROOT/bench/results-grpc.md"
DURATION=10
CLIENTS=8
STREAMS=16
FORCE=0
INSTALL=1

while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --streams) STREAMS=$2; shift 2 ;;
    --force) FORCE=1; shift ;;
    --no-install) INSTALL=0; shift ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "grpc.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

log() { echo "grpc.sh: $*" >&2; }
die() { log "$*"; exit 1; }

LOAD1="$(cut -d' ' -f1 /proc/loadavg)"
if awk -v l="$LOAD1" 'BEGIN { exit !(l >= 1.5) }'; then
  [ "$FORCE" = 1 ] || die "load average $LOAD1 >= 1.5: numbers would mean little (--force to run anyway)"
  log "load average $LOAD1 >= 1.5, running anyway (--force)"
fi

PIDS=()
TMP=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  set +e
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  [ -n "$TMP" ] && [ -d "$TMP" ] && rm -rf "$TMP"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_bg() {
  local out=$1
  shift
  "$@" >"$out" 2>&1 &
  PIDS+=("$!")
}

find_tool() {
  local name=$1 dir
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
  for dir in /usr/sbin /usr/local/sbin /sbin; do [ -x "$dir/$name" ] && { echo "$dir/$name"; return 0; }; done
  return 1
}

missing=()
find_tool nginx >/dev/null || missing+=(nginx)
find_tool h2load >/dev/null || missing+=(nghttp2-client)
find_tool curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  [ "$INSTALL" = 1 ] || die "missing: ${missing[*]} (and --no-install)"
  log "installing with apt-get: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 \
    || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; }
fi
NGINX="$(find_tool nginx)"
H2LOAD="$(find_tool h2load)"
CURL="$(find_tool curl)"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

if [ ! -x "$DIST/bin/proxy-filter" ]; then
  log "building the distribution"
  (cd "$ROOT" && ./mvnw -B -q package -DskipTests -pl jetty-distribution -am) >&2
fi
TMP="$(mktemp -d "${TMPDIR:-/tmp}/proxy-filter-grpc-bench.XXXXXX")"
chmod 755 "$TMP"

(cd "$ROOT" && ./mvnw -B -q -o -pl proxy-filter dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile="$TMP/test.classpath") >&2 || die "could not resolve proxy-filter's test classpath"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ORIGIN_HTTP=$(free_port); GRPC_ORIGIN=$(free_port); NGINX_PORT=$(free_port); PF_PORT=$(free_port)

# The HTTP/1.1 origin (nginx, 100 B) and nginx as the proxy under test: h2c listener, grpc_pass.
mkdir -p "$TMP/nginx/logs" "$TMP/www"
head -c 100 /dev/urandom >"$TMP/www/100b"
cat >"$TMP/nginx/nginx.conf" <<CONF
worker_processes auto;
error_log $TMP/nginx/logs/error.log warn;
pid $TMP/nginx/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  upstream origin { server 127.0.0.1:$ORIGIN_HTTP; keepalive 64; }
  upstream grpc_origin { server 127.0.0.1:$GRPC_ORIGIN; keepalive 64; }
  server { listen 127.0.0.1:$ORIGIN_HTTP; root $TMP/www; }
  server {
    listen 127.0.0.1:$NGINX_PORT http2;
    location /grpc.testing.SimpleService/ { grpc_pass grpc://grpc_origin; }
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
CONF
start_bg "$TMP/nginx/run.log" "$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -g 'daemon off;'
start_bg "$TMP/grpc-origin.log" "$JAVA" -cp "$(cat "$TMP/test.classpath")" "$SCRIPT_DIR/GrpcEchoBackend.java" "$GRPC_ORIGIN"

cat >"$TMP/proxy.properties" <<PROPS
server.host=127.0.0.1
server.port=$PF_PORT
server.h2c=true
admin.port=-1
log.access=off
pool.web.backend.a.url=http://127.0.0.1:$ORIGIN_HTTP
pool.grpc.protocol=h2c
pool.grpc.backend.a.url=http://127.0.0.1:$GRPC_ORIGIN
route.web.path=/
route.web.pool=web
route.grpc.path=/grpc.testing.SimpleService
route.grpc.pool=grpc
PROPS
start_bg "$TMP/proxy-filter.log" "$DIST/bin/proxy-filter" --config "$TMP/proxy.properties"

# A gRPC frame of SimpleRequest{request_message: "hello"}: not compressed, length 7, field 1 "hello".
printf '\x00\x00\x00\x00\x07\x0a\x05hello' >"$TMP/unary.bin"

wait_for() {
  local url=$1 i
  for ((i = 0; i < 300; i++)); do
    "$CURL" -s -o /dev/null --http2-prior-knowledge "$url" && return 0
    sleep 0.2
  done
  die "nothing answers at $url"
}
wait_for "http://127.0.0.1:$NGINX_PORT/100b"
wait_for "http://127.0.0.1:$PF_PORT/100b"

# Every target must answer a unary call with grpc-status 0 (in its trailers) before it is measured.
check_grpc() {
  local port=$1 out
  out="$("$CURL" -s --http2-prior-knowledge -D - -o /dev/null -H 'content-type: application/grpc' -H 'te: trailers' \
    --data-binary @"$TMP/unary.bin" "http://127.0.0.1:$port/grpc.testing.SimpleService/UnaryRpc" || true)"
  echo "$out" | grep -qi '^grpc-status: 0' || die "no grpc-status 0 from 127.0.0.1:$port: $out"
}
for ((i = 0; i < 100; i++)); do check_grpc "$GRPC_ORIGIN" 2>/dev/null && break; sleep 0.2; done
check_grpc "$GRPC_ORIGIN"; check_grpc "$NGINX_PORT"; check_grpc "$PF_PORT"

# h2load's requests/s and its failed/errored counts for one run.
run() {
  local url=$1
  shift
  "$H2LOAD" -D "$DURATION" -c "$CLIENTS" -m "$STREAMS" "$@" "$url" 2>&1 \
    | awk '/finished in/ { for (i = 1; i <= NF; i++) if ($i ~ /req\/s/) rps = $(i - 1) }
           /^requests:/ { succeeded = $8; failed = $10; errored = $12 }
           END { printf "%s | %s | %s | %s", rps, succeeded, failed, errored }'
}
GRPC_ARGS=(-H 'content-type: application/grpc' -H 'te: trailers' -d "$TMP/unary.bin")

rows=()
for target in "nginx|$NGINX_PORT" "proxy-filter|$PF_PORT"; do
  name=${target%%|*}; port=${target##*|}
  run "http://127.0.0.1:$port/100b" >/dev/null # warm-up
  rows+=("| h2 GET 100 B (h2c in, HTTP/1.1 to the origin) | $name | $(run "http://127.0.0.1:$port/100b") |")
done
for target in "origin (direct)|$GRPC_ORIGIN" "nginx grpc_pass|$NGINX_PORT" "proxy-filter h2c|$PF_PORT"; do
  name=${target%%|*}; port=${target##*|}
  url="http://127.0.0.1:$port/grpc.testing.SimpleService/UnaryRpc"
  run "$url" "${GRPC_ARGS[@]}" >/dev/null # warm-up
  rows+=("| gRPC unary (h2c both sides) | $name | $(run "$url" "${GRPC_ARGS[@]}") |")
done

{
  echo "# HTTP/2 and gRPC through proxy-filter and nginx"
  echo
  echo "Written by \`bench/load/grpc.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'); load average at start $LOAD1;"
  echo "$(nproc) CPUs; h2load ${DURATION}s runs, $CLIENTS connections x $STREAMS streams, after an equal warm-up;"
  echo "$("$NGINX" -v 2>&1); $("$JAVA" -version 2>&1 | head -1)."
  echo
  echo "| what | target | requests/s | succeeded | failed | errored |"
  echo "|---|---|---:|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "h2load counts HTTP statuses, not grpc-status: each target answered grpc-status 0 before it was measured."
} >"$OUT"
log "wrote $OUT"
