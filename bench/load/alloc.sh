#!/usr/bin/env bash
#
# Bytes allocated per request by proxy-filter's standalone distribution, per feature (issue 18): a measure
# that, unlike req/s and CPU time, does not move with the other work on a shared machine. Each variant is its
# own proxy-filter process (shipped JVM options unless JAVA_OPTS is set) behind one local nginx origin that
# serves 100 bytes; AllocProbe.java attaches to it and sums ThreadMXBean.getThreadAllocatedBytes over all its
# threads around each measured wrk run, then divides by the requests wrk completed.
#
#   bench/load/alloc.sh [--rounds N] [--duration S] [--warmup S] [--connections N] [--threads N]
#                       [--variants "off cache-pass ..."] [--jfr DIR] [--dist DIR] [--out FILE]
#
# Variants (path requested in brackets):
#   off            cache off, log.access=off, one route without rules              [/100b]
#   no-fast-path   as off, with server.fast-path=false: every request through Jetty's
#                  HttpConnection, Request and Response                            [/100b]
#   log            as off, with log.access=combined (the default) and the shipped log.access.to=stdout:
#                  bare lines written directly, stdout to a file                   [/100b]
#   log-logger     as log, through the SLF4J logger (log.access.to=logger, Logback's console appender
#                  of config/logback.xml), stderr to a file                         [/100b]
#   rules          as off, plus security rules and a rate limit on another route,
#                  security.trusted-proxies and response headers                  [/100b]
#   cache-other    cache.enabled=true, but the measured route does not cache       [/100b]
#   cache-pass     cache on, the origin answers Cache-Control: no-store            [/pass]
#   cache-private  cache on, the origin answers Cache-Control: private             [/private]
#   cache-hit      cache on, a stored response (public, max-age=3600): every request a hit [/100b]
#
# Per variant: a warm-up (JIT) of --warmup seconds, then --rounds runs of wrk -tT -cN -dS; prints each
# round's bytes/request, CPU µs/request, GCs and context switches per request (all the proxy's threads), then a table of medians (CPU only means something on a
# quiet machine; the load average is printed) and the peak RSS (VmHWM) of the proxy. AllocProbe also
# prints each round's bytes/request by thread group (selector, server, access-log threads) to stderr. --jfr DIR records each variant's measured rounds with JFR
# (profile settings: allocation samples and CPU samples) into DIR/VARIANT.jfr for `jfr print`.
# Defaults: 3 rounds of 5 s, 10 s warm-up, 64 connections, 2 threads, all variants: about 3 minutes.
# Environment: JAVA_OPTS / PROXY_FILTER_OPTS go to bin/proxy-filter; JAVA_HOME picks the JVM (AllocProbe
# runs on the same one). Every process it starts is stopped on exit.

set -euo pipefail

SCRIPT_DIR="$(cd -P "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd -P "$SCRIPT_DIR/../.." && pwd)"
ROUNDS=3
DURATION=5
WARMUP=10
CONNECTIONS=64
THREADS=2
DIST="$ROOT/jetty-distribution/target/proxy-filter"
OUT=""
JFR_DIR=""
VARIANTS=(off log rules cache-other cache-pass cache-private cache-hit)
COMMAND_LINE="bench/load/alloc.sh${*:+ $*}"

while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --warmup) WARMUP="$2"; shift ;;
    --connections) CONNECTIONS="$2"; shift ;;
    --threads) THREADS="$2"; shift ;;
    --variants) read -r -a VARIANTS <<<"$2"; shift ;;
    --jfr) mkdir -p "$2"; JFR_DIR="$(cd -P "$2" && pwd)"; shift ;;
    --dist) DIST="$(cd -P "$2" && pwd)"; shift ;;
    --out) OUT="$2"; shift ;;
    -h|--help) sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "alloc.sh: unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "alloc.sh: $*" >&2; }
die() { log "$*"; exit 1; }

for tool in nginx wrk curl; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || die "$tool missing (apt-get install $tool)"
done
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
JCMD="${JAVA_HOME:+$JAVA_HOME/bin/}jcmd"

if [ ! -x "$DIST/bin/proxy-filter" ]; then
  log "building the distribution"
  (cd "$ROOT" && ./mvnw -B -o -q -pl jetty-distribution -am package -DskipTests) || die "build failed"
fi

TMP="$(mktemp -d)"
PROXY_PID=""
cleanup() {
  [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null || true
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
ORIGIN=$(free_port)

# --- origin: nginx, 100 bytes under three caching policies ---
mkdir -p "$TMP/nginx/logs" "$TMP/www"
head -c 100 /dev/urandom >"$TMP/www/100b"
chmod 755 "$TMP" "$TMP/www"; chmod 644 "$TMP/www/100b" # nginx workers run as another user
cat >"$TMP/nginx/nginx.conf" <<NGINX
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:$ORIGIN;
    default_type application/octet-stream;
    location = /100b    { add_header Cache-Control "public, max-age=3600"; alias $TMP/www/100b; }
    location = /pass    { add_header Cache-Control "no-store"; alias $TMP/www/100b; }
    location = /private { add_header Cache-Control "private, max-age=60"; alias $TMP/www/100b; }
  }
}
NGINX
"$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" || die "nginx did not start"

config() {
  local v=$1 port=$2
  cat <<EOF
server.host=127.0.0.1
server.port=$port
admin.port=-1
reload.watch=false
pool.origin.backend.a.url=http://127.0.0.1:$ORIGIN
route.main.path=/
route.main.pool=origin
EOF
  case "$v" in
    log) printf 'log.access=combined\nlog.access.to=stdout\n' ;;
    log-logger) printf 'log.access=combined\nlog.access.to=logger\n' ;;
    no-fast-path) printf 'log.access=off\nserver.fast-path=false\n' ;;
    *) echo "log.access=off" ;;
  esac
  case "$v" in
    rules)
      cat <<EOF
route.admin.path=/admin
route.admin.pool=origin
route.admin.allow=10.0.0.0/8
route.admin.rate-limit=100/s
security.trusted-proxies=10.1.0.0/16
security.response-headers.X-Frame-Options=DENY
EOF
      ;;
    cache-other) printf 'cache.enabled=true\ncache.heap-entries=10000\nroute.main.cache=false\n' ;;
    cache-*) printf 'cache.enabled=true\ncache.heap-entries=10000\nroute.main.cache=true\n' ;;
  esac
}
path_of() {
  case "$1" in
    cache-pass) echo /pass ;;
    cache-private) echo /private ;;
    *) echo /100b ;;
  esac
}

: >"$TMP/results"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
for v in "${VARIANTS[@]}"; do
  port=$(free_port)
  mkdir -p "$TMP/$v"
  config "$v" "$port" >"$TMP/$v/proxy.properties"
  "$DIST/bin/proxy-filter" --config "$TMP/$v/proxy.properties" >"$TMP/$v/stdout" 2>"$TMP/$v/stderr" &
  PROXY_PID=$!
  path=$(path_of "$v")
  url="http://127.0.0.1:$port$path"
  for _ in $(seq 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" 2>/dev/null)" = 200 ] && break
    kill -0 "$PROXY_PID" 2>/dev/null || { tail -20 "$TMP/$v/stderr" >&2; die "$v did not start"; }
    sleep 0.1
  done
  [ "$v" = cache-hit ] && { curl -s -D - -o /dev/null "$url" | grep -qi '^cache-status:.*hit' || die "$v: not a hit"; }
  log "$v: warm-up ${WARMUP}s on $path"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "$url" >/dev/null
  if [ -n "$JFR_DIR" ]; then
    "$JCMD" "$PROXY_PID" JFR.start name=alloc settings=profile filename="$JFR_DIR/$v.jfr" >/dev/null
  fi
  for r in $(seq "$ROUNDS"); do
    line=$("$JAVA" "$SCRIPT_DIR/AllocProbe.java" "$PROXY_PID" \
      wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" "$url")
    log "$v round $r: $line"
    echo "$v $line" >>"$TMP/results"
  done
  if [ -n "$JFR_DIR" ]; then
    "$JCMD" "$PROXY_PID" JFR.stop name=alloc >/dev/null
  fi
  kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null || true
  PROXY_PID=""
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

report() {
  echo "# Bytes allocated per request, by feature"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?');" \
    "$("$JAVA" -version 2>&1 | head -1); JAVA_OPTS=${JAVA_OPTS-(shipped)}; $(nproc) CPUs;" \
    "load average $LOAD_BEFORE before, $LOAD_AFTER after."
  echo "\`$COMMAND_LINE\`: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, $ROUNDS rounds per variant after ${WARMUP}s of warm-up, medians."
  echo
  echo "| variant | path | bytes/req | vs off | CPU µs/req | GCs/round | GC ms/round | req/s | peak RSS MiB | switches/req |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  local v
  for v in "${VARIANTS[@]}"; do
    awk -v v="$v" -v path="$(path_of "$v")" '
      function median(a, k,   i, j, t) {
        for (i = 2; i <= k; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
        return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
      }
      function val(s, key,   n, parts) { n = split(s, parts, "="); return parts[2] }
      {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); f[$1, kv[1], ++seen[$1, kv[1]]] = kv[2] }
      }
      END {
        k = seen[v, "alloc_per_req"]; if (k == 0) exit
        for (i = 1; i <= k; i++) a[i] = f[v, "alloc_per_req", i]; b = median(a, k)
        k0 = seen["off", "alloc_per_req"]
        if (k0 > 0) { split("", a); for (i = 1; i <= k0; i++) a[i] = f["off", "alloc_per_req", i]; b0 = median(a, k0) }
        split("", a); for (i = 1; i <= k; i++) a[i] = f[v, "cpu_us_per_req", i]; c = median(a, k)
        split("", a); for (i = 1; i <= k; i++) a[i] = f[v, "gcs", i]; g = median(a, k)
        split("", a); for (i = 1; i <= k; i++) a[i] = f[v, "rps", i]; r = median(a, k)
        split("", a); for (i = 1; i <= k; i++) a[i] = f[v, "gc_ms", i]; gm = median(a, k)
        rss = -1; for (i = 1; i <= k; i++) if (f[v, "peak_rss_mb", i] + 0 > rss) rss = f[v, "peak_rss_mb", i] + 0
        split("", a); for (i = 1; i <= k; i++) a[i] = f[v, "switches_per_req", i]; sw = median(a, k)
        printf "| %s | %s | %d | %s | %.1f | %d | %d | %.0f | %s | %.2f |\n", v, path, b,
          (k0 > 0 && v != "off") ? sprintf("%+d", b - b0) : "-", c, g, gm, r, rss < 0 ? "?" : rss, sw
      }' "$TMP/results"
  done
}

if [ -n "$OUT" ]; then
  report | tee "$OUT"
else
  report
fi
