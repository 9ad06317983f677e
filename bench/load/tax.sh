#!/usr/bin/env bash
#
# The CPU tax of features a request does not use (issue 18), pinned: each proxy-filter variant runs alone on
# CPU 1 (-XX:ActiveProcessorCount=1), one nginx origin and wrk on CPU 0, and the variants take turns in
# interleaved rounds, so that a slow minute of the machine hits every variant alike. CPU µs per request is
# utime+stime of the proxy's JVM over the round divided by the requests wrk completed.
#
#   bench/load/tax.sh [--rounds N] [--duration S] [--warmup S] [--variants "off cache-pass rules log"]
#                     [--dist DIR] [--out FILE]
#
# Variants (path in brackets):
#   off         cache off, log.access=off, one route without rules                    [/100b]
#   cache-pass  cache.enabled=true and the route caching; the origin answers no-store [/pass]
#   rules       as off, plus security rules and a rate limit on another route,
#               security.trusted-proxies and a configured response header             [/100b]
#   log         as off, with log.access=combined to stdout (a file)                   [/100b]
#   no-fast-path  as off, with server.fast-path=false                                 [/100b]
# Prints each round, then a table of medians with each variant's difference to off: of the medians, and the
# median of the rounds' ratios to off in the same round (paired).
# Defaults: 6 rounds of 8 s after 25 s of warm-up per variant (JIT), all but no-fast-path: about 5 minutes.
# Needs nginx, wrk, taskset and 2 CPUs; every process it starts is stopped on exit.

set -euo pipefail

SCRIPT_DIR="$(cd -P "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd -P "$SCRIPT_DIR/../.." && pwd)"
ROUNDS=6
DURATION=8
WARMUP=25
DIST="$ROOT/jetty-distribution/target/proxy-filter"
OUT=""
VARIANTS=(off cache-pass rules log)
COMMAND_LINE="bench/load/tax.sh${*:+ $*}"

while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --warmup) WARMUP="$2"; shift ;;
    --variants) read -r -a VARIANTS <<<"$2"; shift ;;
    --dist) DIST="$(cd -P "$2" && pwd)"; shift ;;
    --out) OUT="$2"; shift ;;
    -h|--help) sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "tax.sh: unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "tax.sh: $*" >&2; }
die() { log "$*"; exit 1; }

for tool in nginx wrk curl taskset; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || die "$tool missing (apt-get install $tool)"
done
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (the proxy on CPU 1, wrk and the origin on CPU 0)"
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
if [ ! -x "$DIST/bin/proxy-filter" ]; then
  log "building the distribution"
  (cd "$ROOT" && ./mvnw -B -o -q -pl jetty-distribution -am package -DskipTests) || die "build failed"
fi

TMP="$(mktemp -d /tmp/tax.XXXXXX)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$TMP/nginx/nginx.pid" ] && kill "$(cat "$TMP/nginx/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 12000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  die "no free port"
}

ORIGIN=$(free_port)
mkdir -p "$TMP/nginx/logs" "$TMP/www"
head -c 100 /dev/urandom >"$TMP/www/100b"
chmod 755 "$TMP" "$TMP/www"; chmod 644 "$TMP/www/100b"
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
    location = /100b { alias $TMP/www/100b; }
    location = /pass { add_header Cache-Control "no-store"; alias $TMP/www/100b; }
  }
}
NGINX
taskset -c 0 "$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" || die "nginx did not start"

declare -A PORT JPID
path_of() { [ "$1" = cache-pass ] && echo /pass || echo /100b; }
for v in "${VARIANTS[@]}"; do
  PORT[$v]=$(free_port)
  {
    printf 'server.host=127.0.0.1\nserver.port=%s\nadmin.port=-1\nreload.watch=false\n' "${PORT[$v]}"
    printf 'pool.origin.backend.a.url=http://127.0.0.1:%s\nroute.main.path=/\nroute.main.pool=origin\n' "$ORIGIN"
    case "$v" in
      log) printf 'log.access=combined\nlog.access.to=stdout\n' ;;
      *) printf 'log.access=off\n' ;;
    esac
    case "$v" in
      cache-pass) printf 'cache.enabled=true\ncache.heap-entries=10000\nroute.main.cache=true\n' ;;
      rules) printf 'route.admin.path=/admin\nroute.admin.pool=origin\nroute.admin.allow=10.0.0.0/8\nroute.admin.rate-limit=100/s\nsecurity.trusted-proxies=10.1.0.0/16\nsecurity.response-headers.X-Frame-Options=DENY\n' ;;
      no-fast-path) printf 'server.fast-path=false\n' ;;
      off|log) ;;
      *) die "unknown variant: $v" ;;
    esac
  } >"$TMP/$v.properties"
  JAVA_OPTS="${JAVA_OPTS:--Xms96m -Xmx256m -Xmn48m -XX:+UseSerialGC -XX:MaxDirectMemorySize=64m -Xss512k} -XX:ActiveProcessorCount=1" \
    taskset -c 1 "$DIST/bin/proxy-filter" --config "$TMP/$v.properties" >"$TMP/$v.out" 2>&1 &
  PIDS+=($!)
done
for v in "${VARIANTS[@]}"; do
  url="http://127.0.0.1:${PORT[$v]}$(path_of "$v")"
  for _ in $(seq 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" 2>/dev/null)" = 200 ] && break
    sleep 0.2
  done
  JPID[$v]=$(pgrep -f -- "--config $TMP/$v.properties" | while read -r p; do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = java ] && echo "$p"; done | head -1)
  [ -n "${JPID[$v]}" ] || die "$v did not start"
  PIDS+=("${JPID[$v]}")
  log "$v: warm-up ${WARMUP}s"
  taskset -c 0 wrk -t1 -c64 -d"${WARMUP}s" "$url" >/dev/null
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
: >"$TMP/results"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$ROUNDS"); do
  for v in "${VARIANTS[@]}"; do
    url="http://127.0.0.1:${PORT[$v]}$(path_of "$v")"
    c0=$(cpu_ticks "${JPID[$v]}")
    taskset -c 0 wrk -t1 -c64 -d"${DURATION}s" "$url" >"$TMP/wrk.txt"
    c1=$(cpu_ticks "${JPID[$v]}")
    n=$(grep -o '[0-9]* requests in' "$TMP/wrk.txt" | cut -d' ' -f1)
    grep -q 'Non-2xx\|Socket errors' "$TMP/wrk.txt" && log "$v round $r: errors: $(grep 'Non-2xx\|Socket errors' "$TMP/wrk.txt")"
    us=$(awk -v t=$((c1 - c0)) -v n="$n" -v hz="$HZ" 'BEGIN { printf "%.2f", t * 1e6 / hz / n }')
    rps=$(awk '/Requests\/sec/ {print $2}' "$TMP/wrk.txt")
    log "round $r $v: cpu_us_per_req=$us rps=$rps"
    echo "$v $us $rps" >>"$TMP/results"
  done
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

report() {
  echo "# The CPU tax of unused features, pinned"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'); $(nproc) CPUs;" \
    "load average $LOAD_BEFORE before, $LOAD_AFTER after."
  echo "\`$COMMAND_LINE\`: the proxy alone on CPU 1, wrk -t1 -c64 -d${DURATION}s and one nginx origin on CPU 0," \
    "$ROUNDS interleaved rounds, medians."
  echo
  echo "| variant | path | CPU µs/req | vs off | vs off, paired | req/s | rounds (µs/req) |"
  echo "|---|---|---:|---:|---:|---:|---|"
  local v
  for v in "${VARIANTS[@]}"; do
    awk -v v="$v" -v path="$(path_of "$v")" '
      function median(a, k,   i, j, t) {
        for (i = 2; i <= k; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
        return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
      }
      $1 == v { k++; us[k] = $2; rps[k] = $3; all = all (all ? " " : "") $2 }
      $1 == "off" { k0++; off[k0] = $2 }
      END {
        if (k == 0) exit
        m = median(us, k); r = median(rps, k)
        vs = "-"; paired = "-"
        if (v != "off" && k0 > 0) {
          m0 = median(off, k0); vs = sprintf("%+.1f %%", (m - m0) * 100 / m0)
          # Each round against off in the same round: a slow minute of the machine cancels out.
          for (i = 1; i <= k && i <= k0; i++) ratio[i] = us[i] / off[i]
          paired = sprintf("%+.1f %%", (median(ratio, (k < k0 ? k : k0)) - 1) * 100)
        }
        printf "| %s | %s | %.1f | %s | %s | %.0f | %s |\n", v, path, m, vs, paired, r, all
      }' "$TMP/results"
  done
}

if [ -n "$OUT" ]; then
  report | tee "$OUT"
else
  report
fi
