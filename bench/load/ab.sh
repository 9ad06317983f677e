#!/usr/bin/env bash
#
# One measured wrk run against a proxy that is already running, for side-by-side (A/B) comparisons of
# two builds, or of a build and nginx, on the same machine minutes apart: req/s, p50 and p99, the CPU per
# request of the proxy's processes and of wrk, and how idle the machine stayed. A proxy that leaves the
# cores idle under a closed-loop load is waiting on something other than CPU (a hand-off, a timer, a
# buffer); bench/profile.md ("Session 5") found the 16 KiB read of long bodies that way.
#
#   bench/load/ab.sh PORT "PIDS" [PATH] [SECONDS]
#
#   PORT     the proxy's port on 127.0.0.1
#   PIDS     the proxy's process ids, space-separated (all nginx workers for nginx)
#   PATH     default /1m
#   SECONDS  of the measured run, default 8; a 3 s warm-up run comes first
#
# Environment: ORIGIN_PIDS adds the origins' CPU per request; WRK_CONNECTIONS (64), WRK_THREADS (2).
# Prints one line: rps, p50, p99, proxy_us, origin_us, wrk_us (CPU microseconds per request), idle %.
set -euo pipefail

if [ $# -lt 2 ]; then
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
port=$1
pids=$2
path=${3:-/1m}
seconds=${4:-8}
connections=${WRK_CONNECTIONS:-64}
threads=${WRK_THREADS:-2}
origin_pids=${ORIGIN_PIDS:-}
tick=$(getconf CLK_TCK)
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# CPU ticks (user + system) of the given processes.
ticks() {
  local total=0 p t
  for p in "$@"; do
    t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
    total=$((total + t))
  done
  echo "$total"
}
# Idle and total jiffies of the whole machine.
machine() { awk '/^cpu / {print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }

url="http://127.0.0.1:$port$path"
wrk -t"$threads" -c"$connections" -d3s "$url" >/dev/null

# shellcheck disable=SC2086
p0=$(ticks $pids); o0=$(ticks $origin_pids); read -r i0 t0 < <(machine)
wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency "$url" >"$out" &
wrk_pid=$!
sleep 0.2
w0=$(ticks "$wrk_pid")
sleep "$((seconds - 1))"
w1=$(ticks "$wrk_pid")
wait "$wrk_pid"
# shellcheck disable=SC2086
p1=$(ticks $pids); o1=$(ticks $origin_pids); read -r i1 t1 < <(machine)

requests=$(awk '/requests in/ {print $1}' "$out")
if [ -z "$requests" ] || [ "$requests" -eq 0 ]; then
  echo "no requests completed; wrk said:" >&2
  cat "$out" >&2
  exit 1
fi
per_request() { awk -v t="$1" -v k="$tick" -v n="$requests" 'BEGIN {printf "%.1f", t * 1000000 / k / n}'; }
# wrk's CPU covers seconds - 1.2 of the run: scaled to the whole run.
wrk_us=$(awk -v t="$((w1 - w0))" -v k="$tick" -v n="$requests" -v s="$seconds" \
  'BEGIN {printf "%.1f", t * 1000000 / k / n * s / (s - 1.2)}')
printf 'rps=%s p50=%s p99=%s proxy_us=%s origin_us=%s wrk_us=%s idle=%s%%\n' \
  "$(awk '/Requests\/sec/ {print $2}' "$out")" \
  "$(awk '$1 == "50%" {print $2}' "$out")" \
  "$(awk '$1 == "99%" {print $2}' "$out")" \
  "$(per_request $((p1 - p0)))" \
  "$(if [ -n "$origin_pids" ]; then per_request $((o1 - o0)); else echo -; fi)" \
  "$wrk_us" \
  "$(awk -v a="$((i1 - i0))" -v b="$((t1 - t0))" 'BEGIN {printf "%.1f", 100 * a / b}')"
