#!/usr/bin/env bash
#
# What the access log costs on the 100-byte proxied path (issue 14): proxy-filter's standalone distribution
# with log.access=off, and with the log on, measured side by side in one run, with wrk on 127.0.0.1 against
# one local Debian nginx origin. Prints, per variant, the median req/s, p50/p99 latency and CPU microseconds
# per request of the proxy process (utime + stime from /proc/PID/stat, as run.sh and ab.sh measure), the
# difference to "off", and how many of the requests got their line written or were dropped.
#
#   bench/load/accesslog.sh [--rounds N] [--duration S] [--warmup S] [--connections N] [--dist DIR]
#                           [--out FILE] [--force]
#
# Variants, each its own proxy-filter process with the shipped JVM options and config/logback.xml:
#   off          log.access=off
#   combined     log.access=combined (the default) with the shipped log.access.to=stdout: bare lines written
#                directly, stdout redirected to a file as an operator running it under a supervisor would
#   json         log.access=json, the same way
#   file         log.access=combined, log.access.to=/absolute/access.log: written directly to the file
#   logger       log.access=combined, log.access.to=logger: through Logback's console appender to stderr,
#                redirected to a file
#   logger-file  log.access.to=logger through the rolling file appender that config/logback.xml has
#                commented out (access.log, rolled every 100 MiB and gzipped), nothing on stderr
#
# Rounds are interleaved (off combined json ..., then the next round starting one further), so that a slow
# minute of a shared machine hits every variant alike; each process first gets a warm-up (JIT). Defaults:
# 3 rounds of 8 s after a 6 s warm-up each: about 2 minutes. Numbers are only worth something on an
# otherwise idle machine: it refuses to start when the 1-minute load average is 1.5 or more, unless --force.
# Builds the distribution when missing; installs nginx, wrk and curl with apt-get when missing. Every process
# it starts is stopped, and its temporary directory removed, on exit.

set -euo pipefail

SCRIPT_DIR="$(cd -P "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd -P "$SCRIPT_DIR/../.." && pwd)"
ROUNDS=3
DURATION=8
WARMUP=6
CONNECTIONS=64
DIST="$ROOT/jetty-distribution/target/proxy-filter"
OUT=""
FORCE=0
VARIANTS=(off combined json file logger logger-file)

while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --warmup) WARMUP="$2"; shift ;;
    --connections) CONNECTIONS="$2"; shift ;;
    --dist) DIST="$(cd -P "$2" && pwd)"; shift ;;
    --out) OUT="$2"; shift ;;
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "accesslog.sh: unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "accesslog.sh: $*" >&2; }
die() { log "$*"; exit 1; }

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$FORCE" = 0 ] && awk -v l="${LOAD_BEFORE%% *}" 'BEGIN {exit !(l >= 1.5)}'; then
  die "load average $LOAD_BEFORE: the machine is busy, figures would be worthless (--force runs anyway)"
fi

missing=()
for tool in nginx wrk curl; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing with apt-get: ${missing[*]}"
  # Debian starts a package's service on install (nginx on port 80): a policy-rc.d forbids that, as in run.sh.
  policy_created=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# bench/load/accesslog.sh: no service starts while it installs packages\nexit 101\n' \
      >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    policy_created=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
    || { [ "$policy_created" = 1 ] && rm -f /usr/sbin/policy-rc.d; die "cannot install ${missing[*]}"; }
  [ "$policy_created" = 1 ] && rm -f /usr/sbin/policy-rc.d
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

if [ ! -x "$DIST/bin/proxy-filter" ]; then
  log "building the distribution"
  (cd "$ROOT" && ./mvnw -B -o -q -pl jetty-distribution -am package -DskipTests) || die "build failed"
fi
[ -f "$DIST/config/logback.xml" ] || die "$DIST/config/logback.xml missing: a distribution from before Logback?"

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

USED_PORTS=" "
free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 12000))
    case "$USED_PORTS" in *" $p "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then USED_PORTS="$USED_PORTS$p "; echo "$p"; return 0; fi
  done
  die "no free port"
}
ORIGIN=$(free_port)
USED_PORTS=" $ORIGIN "
declare -A PORT ADMIN PID
for v in "${VARIANTS[@]}"; do
  PORT[$v]=$(free_port); USED_PORTS="$USED_PORTS${PORT[$v]} "
  ADMIN[$v]=$(free_port); USED_PORTS="$USED_PORTS${ADMIN[$v]} "
done

# --- origin: nginx, 100-byte body, no access log of its own ---
mkdir -p "$TMP/nginx/logs" "$TMP/www"
head -c 100 /dev/zero | tr '\0' 'x' >"$TMP/www/100b"
chmod 755 "$TMP" "$TMP/www"; chmod 644 "$TMP/www/100b" # nginx workers run as another user
cat >"$TMP/nginx/nginx.conf" <<NGINX
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$ORIGIN;
    default_type text/plain;
    location = /100b { alias $TMP/www/100b; }
  }
}
NGINX
"$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" || die "nginx did not start"

# --- the proxies ---
# The shipped logback.xml with its commented access-log file block switched on, writing under $TMP/logger-file.
mkdir -p "$TMP/logger-file/logs"
awk -v dir="$TMP/logger-file" '
  /<!-- The access log in its own rotated file:/ { inblock = 1; next }
  inblock && /^ *-->/ { inblock = 0; next }
  { gsub(/\$\{proxyfilter\.home\}/, dir); print }' "$DIST/config/logback.xml" >"$TMP/logger-file/logback.xml"
grep -q RollingFileAppender "$TMP/logger-file/logback.xml" \
  || die "no file appender block in $DIST/config/logback.xml"

start_proxy() {
  local v=$1 format to
  case "$v" in json) format=json ;; *) format=combined ;; esac
  case "$v" in
    file) to="$TMP/file/access.log" ;;
    logger*) to=logger ;;
    *) to=stdout ;;
  esac
  [ "$v" = off ] && format=off
  mkdir -p "$TMP/$v"
  cat >"$TMP/$v/proxy.properties" <<EOF
server.host=127.0.0.1
server.port=${PORT[$v]}
admin.port=${ADMIN[$v]}
reload.watch=false
log.access=$format
log.access.to=$to
pool.origin.backend.a.url=http://127.0.0.1:$ORIGIN
route.main.path=/
route.main.pool=origin
EOF
  if [ "$v" = logger-file ]; then
    PROXY_FILTER_OPTS="${PROXY_FILTER_OPTS:-} -Dlogback.configurationFile=$TMP/logger-file/logback.xml" \
      "$DIST/bin/proxy-filter" --config "$TMP/$v/proxy.properties" >"$TMP/$v/stdout" 2>"$TMP/$v/stderr" &
  else
    "$DIST/bin/proxy-filter" --config "$TMP/$v/proxy.properties" >"$TMP/$v/stdout" 2>"$TMP/$v/stderr" &
  fi
  PID[$v]=$!
  PIDS+=("${PID[$v]}")
}
ready() {
  local v=$1
  for _ in $(seq 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:${PORT[$v]}/100b" 2>/dev/null)" = 200 ] \
      && return 0
    kill -0 "${PID[$v]}" 2>/dev/null || break
    sleep 0.1
  done
  tail -20 "$TMP/$v/stderr" >&2
  die "$v did not start"
}
for v in "${VARIANTS[@]}"; do start_proxy "$v"; done
for v in "${VARIANTS[@]}"; do ready "$v"; done

# Access lines written so far by a variant, and lines it dropped (its admin /metrics).
lines_written() {
  case "$1" in
    off) echo 0 ;;
    logger-file)
      local gz n
      n=$(wc -l <"$TMP/logger-file/logs/access.log" 2>/dev/null || echo 0)
      for gz in "$TMP"/logger-file/logs/access.*.gz; do
        if [ -f "$gz" ]; then n=$((n + $(zcat "$gz" | wc -l))); fi
      done
      echo "$n" ;;
    logger) grep -c ' dev.proxyfilter.access: ' "$TMP/$1/stderr" || true ;;
    file) wc -l <"$TMP/file/access.log" 2>/dev/null || echo 0 ;;
    *) wc -l <"$TMP/$1/stdout" ;;
  esac
}
dropped() {
  curl -s --max-time 5 "http://127.0.0.1:${ADMIN[$1]}/metrics" \
    | awk '$1 == "proxyfilter_access_log_dropped_total" {printf "%d", $2; found = 1} END {if (!found) printf "?"}'
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)

# measure VARIANT: one wrk run; appends "variant rps p50_ms p99_ms cpu_us requests" to $TMP/results
measure() {
  local v=$1 out c0 c1
  out="$TMP/wrk.out"
  c0=$(ticks "${PID[$v]}")
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "http://127.0.0.1:${PORT[$v]}/100b" >"$out"
  c1=$(ticks "${PID[$v]}")
  awk -v v="$v" -v ticks=$((c1 - c0)) -v hz="$TICK" '
    function ms(x) { if (x ~ /us$/) return x / 1000; if (x ~ /ms$/) return x + 0; if (x ~ /s$/) return x * 1000; return x }
    /requests in/ { n = $1 }
    /Requests\/sec:/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    /Non-2xx|Socket errors/ { bad = bad " " $0 }
    END {
      if (bad != "") print "accesslog.sh: " v ":" bad > "/dev/stderr"
      printf "%s %s %.3f %.3f %.2f %d\n", v, rps, p50, p99, (n > 0 ? ticks * 1e6 / hz / n : 0), n
    }' "$out" >>"$TMP/results"
}

log "warm-up: ${WARMUP}s per variant (JIT)"
for v in "${VARIANTS[@]}"; do
  wrk -t2 -c"$CONNECTIONS" -d"${WARMUP}s" "http://127.0.0.1:${PORT[$v]}/100b" >/dev/null
done
sleep 1 # the writers' last batch of the warm-up
declare -A WRITTEN0 DROPPED0
for v in "${VARIANTS[@]}"; do WRITTEN0[$v]=$(lines_written "$v"); DROPPED0[$v]=$(dropped "$v"); done

: >"$TMP/results"
for round in $(seq "$ROUNDS"); do
  log "round $round of $ROUNDS"
  n=${#VARIANTS[@]}
  for i in $(seq 0 $((n - 1))); do
    measure "${VARIANTS[$(((i + round - 1) % n))]}"
  done
done
sleep 1 # the writers' last batch
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

report() {
  echo "# Access log on and off, 100-byte proxied path"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'); $(nproc) CPUs;" \
    "load average $LOAD_BEFORE before, $LOAD_AFTER after."
  echo "wrk -t2 -c$CONNECTIONS -d${DURATION}s --latency, $ROUNDS interleaved rounds, medians; nginx origin on 127.0.0.1;" \
    "proxy-filter with its shipped JVM options and config/logback.xml."
  echo
  echo "| variant | req/s | vs off | p50 ms | p99 ms | proxy CPU µs/req | vs off | lines written / requests | dropped |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  local v total written drop
  for v in "${VARIANTS[@]}"; do
    total=$(awk -v v="$v" '$1 == v {s += $6} END {print s + 0}' "$TMP/results")
    written=$(( $(lines_written "$v") - ${WRITTEN0[$v]} ))
    drop=$(dropped "$v")
    [ "$drop" != "?" ] && [ "${DROPPED0[$v]}" != "?" ] && drop=$((drop - ${DROPPED0[$v]}))
    awk -v v="$v" -v total="$total" -v written="$written" -v drop="$drop" '
      function median(a, k,   i, j, t) {
        for (i = 2; i <= k; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
        return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
      }
      { k[$1]++; rps[$1, k[$1]] = $2; p50[$1, k[$1]] = $3; p99[$1, k[$1]] = $4; cpu[$1, k[$1]] = $5 }
      END {
        split("", a); for (i = 1; i <= k[v]; i++) a[i] = rps[v, i]; r = median(a, k[v])
        split("", a); for (i = 1; i <= k["off"]; i++) a[i] = rps["off", i]; r0 = median(a, k["off"])
        split("", a); for (i = 1; i <= k[v]; i++) a[i] = cpu[v, i]; c = median(a, k[v])
        split("", a); for (i = 1; i <= k["off"]; i++) a[i] = cpu["off", i]; c0 = median(a, k["off"])
        split("", a); for (i = 1; i <= k[v]; i++) a[i] = p50[v, i]; m50 = median(a, k[v])
        split("", a); for (i = 1; i <= k[v]; i++) a[i] = p99[v, i]; m99 = median(a, k[v])
        share = v == "off" ? "-" : sprintf("%d / %d", written, total)
        printf "| %s | %.0f | %s | %.2f | %.2f | %.1f | %s | %s | %s |\n", v, r,
          v == "off" ? "-" : sprintf("%.3f", r / r0), m50, m99, c,
          v == "off" ? "-" : sprintf("%+.1f (%+.1f %%)", c - c0, 100 * (c - c0) / c0), share, v == "off" ? "-" : drop
      }' "$TMP/results"
  done
  echo
  echo "Lines written: every line of the measured runs, the warm-up excluded, so also those of the requests wrk"
  echo "cut when each run ended; requests: those wrk completed. Dropped: lines the full queue refused"
  echo "(proxyfilter_access_log_dropped_total over the measured runs)."
}

if [ -n "$OUT" ]; then
  report | tee "$OUT"
else
  report
fi
