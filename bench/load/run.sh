#!/usr/bin/env bash
#
# Side-by-side load test of issue 8: proxy-filter's standalone distribution against nginx and HAProxy
# (and Jetty 12's stock AsyncProxyServlet, and our ProxyFilter inside an embedded Tomcat 11), all
# balancing round-robin over the same two nginx origins, driven by wrk in interleaved rounds. Writes
# bench/results.md. See bench/load/README.md.
#
#   bench/load/run.sh [--quick] [options]
#
#   --quick                 1 round of 3 s per proxy and body size, after a 6 s warm-up of each Java
#                           proxy: under 2 minutes. The default is 3 rounds of 8 s, after a 2 s
#                           warm-up of each proxy and body size and 10 s more per Java proxy: under
#                           10 minutes
#   --rounds N              measured rounds (A B C A B C ...)
#   --duration S            seconds of one wrk run
#   --warmup S              seconds of the warm-up run of each proxy and path (0: none)
#   --jvm-warmup S          seconds of an extra first warm-up run of each Java proxy (JIT), on 100 B
#   --connections N         wrk connections (default 64)
#   --threads N             wrk threads (default 2)
#   --idle-connections[=N]  also measure proxy-filter's memory for N idle keep-alive client
#                           connections (default 10000), on a fresh instance
#   --no-load               skip the load rounds (with --idle-connections: only that step)
#   --no-jetty-stock        skip the stock Jetty AsyncProxyServlet
#   --no-tomcat             skip ProxyFilter in embedded Tomcat (its jars come from the local Maven
#                           repository, or TOMCAT_JAR and TOMCAT_ANNOTATIONS_JAR)
#   --dist DIR              the unpacked distribution (default jetty-distribution/target/proxy-filter,
#                           built with ./mvnw when missing)
#   --out FILE              the Markdown results (default bench/results.md; with --no-load,
#                           bench/results-idle.md)
#   --no-install            fail instead of running apt-get for missing tools
#   --pinned                each proxy under test on CPU 1 alone (taskset; one nginx worker, one
#                           HAProxy thread, -XX:ActiveProcessorCount=1 for the JVMs), wrk and the
#                           origins on CPU 0: the headline mode of issue 18
#   --baseline DIR          also run another unpacked distribution (an older build, e.g. from git
#                           worktree + ./mvnw package) as "proxy-filter (baseline)", in the same
#                           rounds and with the same configuration: old jar against new, in one run
#   --access-log            the access log on in every target (nginx, HAProxy, proxy-filter, stock
#                           Jetty has none), each writing to a file; default: off in every target
#   --log-row               also run proxy-filter with its access log on (log.access=combined and the
#                           shipped log.access.to=stdout, to a file) as "proxy-filter, access log on", in
#                           the same rounds: the log's cost per request, measured in one run (issue 14)
#
# Fair anchors: every nginx and HAProxy target keeps client and upstream connections alive for the
# whole run (keepalive_requests 1000000, keepalive_timeout 300s on both sides of nginx; HAProxy
# http-reuse always, 300 s keep-alive), as their users tune them: nobody reconnects mid-run.
#
# Environment: JAVA_OPTS / PROXY_FILTER_OPTS go to bin/proxy-filter as usual (unset: the shipped
# defaults); BENCH_CACHE_PROPS adds lines to proxy-filter's cache-on configuration.
#
# Everything listens on 127.0.0.1 only. Every process it starts is stopped on exit, Ctrl-C included,
# and its temporary directory is removed.

set -euo pipefail

SCRIPT_DIR="$(cd -P "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd -P "$SCRIPT_DIR/../.." && pwd)"
COMMAND_LINE="bench/load/run.sh${*:+ $*}"

QUICK=0
ROUNDS=""
DURATION=""
WARMUP=""
JVM_WARMUP=""
CONNECTIONS=64
THREADS=2
IDLE=0
IDLE_COUNT=10000
LOAD=1
JETTY_STOCK=1
TOMCAT=1
DIST="$ROOT/jetty-distribution/target/proxy-filter"
BASELINE=""
OUT=""
INSTALL=1
PINNED=0
ACCESS_LOG=0
LOG_ROW=0

usage() { sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --rounds) ROUNDS="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --warmup) WARMUP="$2"; shift ;;
    --jvm-warmup) JVM_WARMUP="$2"; shift ;;
    --connections) CONNECTIONS="$2"; shift ;;
    --threads) THREADS="$2"; shift ;;
    --idle-connections) IDLE=1 ;;
    --idle-connections=*) IDLE=1; IDLE_COUNT="${1#*=}" ;;
    --no-load) LOAD=0 ;;
    --no-jetty-stock) JETTY_STOCK=0 ;;
    --no-tomcat) TOMCAT=0 ;;
    --dist) DIST="$(cd -P "$2" && pwd)"; shift ;;
    --baseline) BASELINE="$(cd -P "$2" && pwd)"; shift ;;
    --out) OUT="$2"; shift ;;
    --no-install) INSTALL=0 ;;
    --pinned) PINNED=1 ;;
    --access-log) ACCESS_LOG=1 ;;
    --log-row) LOG_ROW=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$QUICK" = 1 ]; then
  : "${ROUNDS:=1}" "${DURATION:=3}" "${WARMUP:=0}" "${JVM_WARMUP:=6}"
else
  : "${ROUNDS:=3}" "${DURATION:=8}" "${WARMUP:=2}" "${JVM_WARMUP:=10}"
fi
for n in "$ROUNDS" "$DURATION" "$WARMUP" "$JVM_WARMUP" "$CONNECTIONS" "$THREADS" "$IDLE_COUNT"; do
  case "$n" in ''|*[!0-9]*) echo "run.sh: not a number: '$n'" >&2; exit 2 ;; esac
done
if [ -z "$OUT" ]; then
  if [ "$LOAD" = 1 ]; then OUT="$ROOT/bench/results.md"; else OUT="$ROOT/bench/results-idle.md"; fi
fi
if [ "$LOAD" = 0 ] && [ "$IDLE" = 0 ]; then
  echo "run.sh: --no-load needs --idle-connections: nothing to do" >&2
  exit 2
fi

# --- Logging and clean-up ------------------------------------------------------------------------

START_SECONDS=$SECONDS
log() { printf '[%(%H:%M:%S)T +%ds] %s\n' -1 "$((SECONDS - START_SECONDS))" "$*" >&2; }
die() { log "error: $*"; exit 1; }

TMP=""
POLICY_RC_CREATED=0
declare -a PIDS=()

# Children of a process (nginx workers), from /proc (builtins only: a JVM has many threads), else pgrep.
children() {
  local pid=$1 f out="" kids
  for f in /proc/"$pid"/task/*/children; do
    kids=()
    read -r -a kids 2>/dev/null <"$f" || true
    [ ${#kids[@]} -gt 0 ] && out="$out ${kids[*]}"
  done
  if [ -z "$out" ] && [ ! -e "/proc/$pid/task/$pid/children" ] && command -v pgrep >/dev/null 2>&1; then
    out="$(pgrep -P "$pid" 2>/dev/null | tr '\n' ' ')"
  fi
  echo $out
}

# Running, not a zombie (kill -0 succeeds on a child that exited and was not waited for yet).
is_alive() {
  local line
  read -r line 2>/dev/null <"/proc/$1/stat" || return 1
  line="${line##*) }"
  [ "${line:0:1}" != Z ]
}

forget_pid() {
  local pid=$1 i
  for i in "${!PIDS[@]}"; do
    [ "${PIDS[$i]}" = "$pid" ] && unset 'PIDS[i]'
  done
  return 0
}

# Stops one process that this script started (and its children): TERM, then KILL after a grace period.
stop_pid() {
  local pid=$1 grace=${2:-12} tree p i alive=1
  if is_alive "$pid"; then
    tree="$pid $(children "$pid")"
    kill -TERM $tree 2>/dev/null || true
    for ((i = 0; i < grace * 20; i++)); do
      alive=0
      for p in $tree; do is_alive "$p" && alive=1; done
      [ $alive = 0 ] && break
      sleep 0.05
    done
    [ $alive = 0 ] || kill -KILL $tree 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  forget_pid "$pid"
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  trap '' PIPE
  set +e
  if [ ${#PIDS[@]} -gt 0 ]; then
    log "stopping ${#PIDS[@]} process(es)"
    local pid all=""
    for pid in "${PIDS[@]}"; do
      is_alive "$pid" && all="$all $pid $(children "$pid")"
    done
    [ -n "${all// /}" ] && kill -TERM $all 2>/dev/null
    local i alive p
    for ((i = 0; i < 120; i++)); do
      alive=0
      for p in $all; do is_alive "$p" && alive=1; done
      [ $alive = 0 ] && break
      sleep 0.1
    done
    [ $alive = 1 ] && kill -KILL $all 2>/dev/null
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  fi
  if [ "$POLICY_RC_CREATED" = 1 ]; then
    rm -f /usr/sbin/policy-rc.d
  fi
  if [ -n "$TMP" ] && [ -d "$TMP" ]; then
    rm -rf "$TMP"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE

# Starts "$@" in the background with output to LOG, remembers its PID in $BG_PID.
start_bg() {
  local out=$1
  shift
  "$@" >"$out" 2>&1 &
  BG_PID=$!
  PIDS+=("$BG_PID")
}

# --pinned: what runs a proxy under test (CPU 1) and what runs everything else (CPU 0); empty otherwise.
ON_PROXY_CPU=()
ON_REST_CPU=()
if [ "$PINNED" = 1 ]; then
  command -v taskset >/dev/null 2>&1 || { echo "run.sh: --pinned needs taskset (util-linux)" >&2; exit 2; }
  [ "$(nproc --all)" -ge 2 ] || { echo "run.sh: --pinned needs 2 CPUs" >&2; exit 2; }
  ON_PROXY_CPU=(taskset -c 1)
  ON_REST_CPU=(taskset -c 0)
fi

# Waits (interruptibly) for a background job started by this script.
wait_bg() {
  local pid=$1 rc=0
  wait "$pid" || rc=$?
  forget_pid "$pid"
  return $rc
}

# --- Tools ---------------------------------------------------------------------------------------

find_tool() {
  local name=$1 dir
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
  for dir in /usr/sbin /usr/local/sbin /sbin; do
    [ -x "$dir/$name" ] && { echo "$dir/$name"; return 0; }
  done
  return 1
}

install_missing() {
  local missing=() tool
  for tool in nginx haproxy wrk curl; do
    find_tool "$tool" >/dev/null || missing+=("$tool")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$INSTALL" = 1 ] || die "missing: ${missing[*]} (and --no-install): apt-get install ${missing[*]}"
  [ "$(id -u)" = 0 ] || die "missing: ${missing[*]}; run as root, or: sudo apt-get install ${missing[*]}"
  command -v apt-get >/dev/null 2>&1 || die "missing: ${missing[*]}, and no apt-get to install them"
  log "installing with apt-get: ${missing[*]}"
  # Debian starts a package's service on install (nginx on port 80): a policy-rc.d forbids that.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# bench/load/run.sh: no service starts while it installs packages\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    POLICY_RC_CREATED=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >"${TMPDIR:-/tmp}/bench-apt.$$.log" 2>&1; then
    apt-get update -q >>"${TMPDIR:-/tmp}/bench-apt.$$.log" 2>&1 || true
    apt-get install -y -q --no-install-recommends "${missing[@]}" >>"${TMPDIR:-/tmp}/bench-apt.$$.log" 2>&1 \
      || { tail -20 "${TMPDIR:-/tmp}/bench-apt.$$.log" >&2; die "apt-get install ${missing[*]} failed"; }
  fi
  rm -f "${TMPDIR:-/tmp}/bench-apt.$$.log"
  if [ "$POLICY_RC_CREATED" = 1 ]; then
    rm -f /usr/sbin/policy-rc.d
    POLICY_RC_CREATED=0
  fi
}

install_missing
NGINX="$(find_tool nginx)" || die "nginx not found"
HAPROXY="$(find_tool haproxy)" || die "haproxy not found"
WRK="$(find_tool wrk)" || die "wrk not found"
CURL="$(find_tool curl)" || die "curl not found"
if [ -n "${JAVA_HOME:-}" ]; then JAVA="$JAVA_HOME/bin/java"; JAVAC="$JAVA_HOME/bin/javac"; else JAVA=java; JAVAC=javac; fi
command -v "$JAVA" >/dev/null 2>&1 || die "java not found (JAVA_HOME or PATH)"
CLK_TCK="$(getconf CLK_TCK)"

# --- The distribution ----------------------------------------------------------------------------

if [ ! -x "$DIST/bin/proxy-filter" ]; then
  log "building the distribution (./mvnw -B -q package -DskipTests -pl jetty-distribution -am)"
  (cd "$ROOT" && ./mvnw -B -q package -DskipTests -pl jetty-distribution -am) >&2 &
  BUILD_PID=$!
  PIDS+=("$BUILD_PID")
  wait_bg "$BUILD_PID" || die "the build failed"
  [ -x "$DIST/bin/proxy-filter" ] || die "no $DIST/bin/proxy-filter after the build"
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/proxy-filter-bench.XXXXXX")"
chmod 755 "$TMP"
log "work directory $TMP"

# The shipped JVM defaults of bin/proxy-filter (used for the stock Jetty servlet too, for fairness).
SHIPPED_JAVA_OPTS="$(sed -n 's/^ *JAVA_OPTS="\(.*\)"$/\1/p' "$DIST/bin/proxy-filter" | sed -n 1p)"
if [ -n "${JAVA_OPTS+set}" ]; then
  PF_JAVA_OPTS_DESC="JAVA_OPTS=\"$JAVA_OPTS\" (set by the caller)"
else
  PF_JAVA_OPTS_DESC="shipped defaults: $SHIPPED_JAVA_OPTS"
fi
[ -n "${PROXY_FILTER_OPTS:-}" ] && PF_JAVA_OPTS_DESC="$PF_JAVA_OPTS_DESC; PROXY_FILTER_OPTS=\"$PROXY_FILTER_OPTS\""
if [ "$PINNED" = 1 ]; then
  # A JVM pinned to one CPU sizes its pools and GC threads for one.
  SHIPPED_JAVA_OPTS="$SHIPPED_JAVA_OPTS -XX:ActiveProcessorCount=1"
  export JAVA_OPTS="${JAVA_OPTS:-$SHIPPED_JAVA_OPTS}"
  PF_JAVA_OPTS_DESC="$PF_JAVA_OPTS_DESC, pinned: JAVA_OPTS=\"$JAVA_OPTS\""
fi

if [ "$JETTY_STOCK" = 1 ] && [ "$LOAD" = 1 ]; then
  # Compiled once into bench/target (ignored by git), again when the source or the jars change.
  STOCK_CLASSES="$ROOT/bench/target/load-classes"
  stock_jar="$(ls "$DIST"/lib/jetty-ee10-proxy-*.jar 2>/dev/null | sed -n 1p)"
  if [ -f "$STOCK_CLASSES/StockJettyProxy.class" ] && [ "$STOCK_CLASSES/StockJettyProxy.class" -nt "$SCRIPT_DIR/StockJettyProxy.java" ] \
      && [ -n "$stock_jar" ] && [ "$STOCK_CLASSES/StockJettyProxy.class" -nt "$stock_jar" ]; then
    :
  elif command -v "$JAVAC" >/dev/null 2>&1 && [ -n "$stock_jar" ]; then
    mkdir -p "$STOCK_CLASSES" "$TMP/stock"
    if ! "$JAVAC" -nowarn -d "$STOCK_CLASSES" -cp "$DIST/lib/*" "$SCRIPT_DIR/StockJettyProxy.java" >"$TMP/stock/javac.log" 2>&1; then
      log "stock Jetty proxy does not compile, skipped: $(head -3 "$TMP/stock/javac.log")"
      JETTY_STOCK=0
    fi
  else
    log "no javac or no jetty-ee10-proxy in $DIST/lib: stock Jetty proxy skipped"
    JETTY_STOCK=0
  fi
fi

if [ "$TOMCAT" = 1 ] && [ "$LOAD" = 1 ]; then
  # ProxyFilter in embedded Tomcat: Tomcat's embed jar (Servlet 6.1) goes before the distribution's lib/.
  tomcat_version="$(sed -n 's:.*<tomcat.version>\(.*\)</tomcat.version>.*:\1:p' "$ROOT/pom.xml" | sed -n 1p)"
  maven_repo="${MAVEN_REPO:-$HOME/.m2/repository}"
  if [ -z "${TOMCAT_JAR:-}" ]; then
    TOMCAT_JAR="$maven_repo/org/apache/tomcat/embed/tomcat-embed-core/$tomcat_version/tomcat-embed-core-$tomcat_version.jar"
  fi
  # Tomcat's annotation API (jakarta.annotation), which its instance manager loads.
  TOMCAT_ANNOTATIONS="${TOMCAT_ANNOTATIONS_JAR:-$maven_repo/org/apache/tomcat/tomcat-annotations-api/$tomcat_version/tomcat-annotations-api-$tomcat_version.jar}"
  TOMCAT_CLASSES="$ROOT/bench/target/load-classes-tomcat"
  pf_jar="$(ls "$DIST"/lib/proxy-filter-*.jar 2>/dev/null | sed -n 1p)"
  if [ ! -f "$TOMCAT_JAR" ] || [ ! -f "$TOMCAT_ANNOTATIONS" ] || [ -z "$pf_jar" ]; then
    log "no Tomcat jars ($TOMCAT_JAR, $TOMCAT_ANNOTATIONS; set TOMCAT_JAR, TOMCAT_ANNOTATIONS_JAR) or no proxy-filter jar in $DIST/lib: ProxyFilter in Tomcat skipped"
    TOMCAT=0
  elif [ -f "$TOMCAT_CLASSES/TomcatFilterProxy.class" ] && [ "$TOMCAT_CLASSES/TomcatFilterProxy.class" -nt "$SCRIPT_DIR/TomcatFilterProxy.java" ] \
      && [ "$TOMCAT_CLASSES/TomcatFilterProxy.class" -nt "$pf_jar" ]; then
    :
  elif command -v "$JAVAC" >/dev/null 2>&1; then
    mkdir -p "$TOMCAT_CLASSES" "$TMP/tomcat"
    if ! "$JAVAC" -nowarn -d "$TOMCAT_CLASSES" -cp "$TOMCAT_JAR:$DIST/lib/*" "$SCRIPT_DIR/TomcatFilterProxy.java" >"$TMP/tomcat/javac.log" 2>&1; then
      log "ProxyFilter in Tomcat does not compile, skipped: $(head -3 "$TMP/tomcat/javac.log")"
      TOMCAT=0
    fi
  else
    log "no javac: ProxyFilter in Tomcat skipped"
    TOMCAT=0
  fi
fi

# --- Ports, bodies, configurations ---------------------------------------------------------------

USED_PORTS=" "
# A port below the ephemeral range that nothing listens on.
free_port() {
  local p tries
  for ((tries = 0; tries < 200; tries++)); do
    p=$((20000 + RANDOM % 12000))
    case "$USED_PORTS" in *" $p "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      USED_PORTS="$USED_PORTS$p "
      echo "$p"
      return 0
    fi
  done
  die "no free port found"
}

ORIGIN_A=$(free_port); USED_PORTS="$USED_PORTS$ORIGIN_A "
ORIGIN_B=$(free_port); USED_PORTS="$USED_PORTS$ORIGIN_B "
ORIGIN_STATUS=$(free_port); USED_PORTS="$USED_PORTS$ORIGIN_STATUS "
declare -A PORT=()
for t in nginx haproxy proxy-filter proxy-filter-base proxy-filter-log jetty-stock tomcat-filter nginx-cache proxy-filter-cache proxy-filter-idle; do
  PORT[$t]=$(free_port); USED_PORTS="$USED_PORTS${PORT[$t]} "
done

declare -A BODY_BYTES=([100b]=100 [64k]=65536 [1m]=1048576)
mkdir -p "$TMP/www"
for p in 100b 64k 1m; do
  head -c "${BODY_BYTES[$p]}" /dev/urandom >"$TMP/www/$p"
done
chmod -R a+rX "$TMP/www"

NGINX_USER=""
[ "$(id -u)" = 0 ] && NGINX_USER="user root;"

# The access_log directive of nginx instance NAME: off, or (--access-log) nginx's combined format to a file,
# for the proxies under test only (the origins log nothing either way).
nginx_access_log() {
  if [ "$ACCESS_LOG" = 1 ] && [ "$1" != origin ]; then
    echo "access_log $TMP/$1/logs/access.log combined;"
  else
    echo "access_log off;"
  fi
}

# nginx instance NAME with the http{} body $2; prefix $TMP/NAME.
write_nginx() {
  local name=$1 http=$2 workers=${3:-auto}
  mkdir -p "$TMP/$name/logs"
  cat >"$TMP/$name/nginx.conf" <<EOF
$NGINX_USER
daemon off;
master_process on;
worker_processes $workers;
pid $TMP/$name/nginx.pid;
error_log $TMP/$name/logs/error.log warn;
events { worker_connections 4096; }
http {
  $(nginx_access_log "$name")
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path $TMP/$name/client_body;
  proxy_temp_path $TMP/$name/proxy_temp;
  fastcgi_temp_path $TMP/$name/fastcgi;
  uwsgi_temp_path $TMP/$name/uwsgi;
  scgi_temp_path $TMP/$name/scgi;
$http
}
EOF
}

# The origins: one nginx, two ports ("origin a" and "origin b"), fixed bodies, cacheable for an hour.
write_nginx origin "
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:$ORIGIN_A;
    root $TMP/www;
    location / { add_header Cache-Control \"public, max-age=3600\"; add_header X-Origin a; }
  }
  server {
    listen 127.0.0.1:$ORIGIN_B;
    root $TMP/www;
    location / { add_header Cache-Control \"public, max-age=3600\"; add_header X-Origin b; }
  }
  server {
    listen 127.0.0.1:$ORIGIN_STATUS;
    location = /status { stub_status; }
  }"

UPSTREAM="
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  upstream origins {
    server 127.0.0.1:$ORIGIN_A;
    server 127.0.0.1:$ORIGIN_B;
    keepalive 64;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
  }"
PROXY_LOCATION="proxy_pass http://origins; proxy_http_version 1.1; proxy_set_header Connection \"\";"

NGINX_WORKERS=auto
[ "$PINNED" = 1 ] && NGINX_WORKERS=1
write_nginx nginx "$UPSTREAM
  server {
    listen 127.0.0.1:${PORT[nginx]};
    location / { $PROXY_LOCATION }
  }" "$NGINX_WORKERS"

write_nginx nginx-cache "$UPSTREAM
  proxy_cache_path $TMP/nginx-cache/cache levels=1:2 keys_zone=bench:10m max_size=256m inactive=1h use_temp_path=off;
  server {
    listen 127.0.0.1:${PORT[nginx-cache]};
    location / { $PROXY_LOCATION proxy_cache bench; add_header X-Cache-Status \$upstream_cache_status always; }
  }" "$NGINX_WORKERS"

mkdir -p "$TMP/haproxy"
cat >"$TMP/haproxy/haproxy.cfg" <<EOF
global
  maxconn 4096
  pidfile $TMP/haproxy/haproxy.pid
$([ "$PINNED" = 1 ] && echo "  nbthread 1")
$([ "$ACCESS_LOG" = 1 ] && echo "  log stdout format raw local0 info" || true)

defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 300s
  option http-keep-alive
$([ "$ACCESS_LOG" = 1 ] && printf '  log global\n  option httplog\n' || true)

frontend fe
  bind 127.0.0.1:${PORT[haproxy]}
  default_backend origins

backend origins
  balance roundrobin
  http-reuse always
  server a 127.0.0.1:$ORIGIN_A
  server b 127.0.0.1:$ORIGIN_B
EOF

# proxy-filter's configuration on PORT, optionally with the cache on.
write_proxy_filter() {
  local file=$1 port=$2 cache=${3:-0} access=${4:-$ACCESS_LOG} dist=${5:-$DIST}
  cat >"$file" <<EOF
server.host=127.0.0.1
server.port=$port
admin.port=-1
log.access=$([ "$access" = 1 ] && echo combined || echo off)
$(grep -q 'log\.access\.to' "$dist/config/proxy.properties" && echo "log.access.to=stdout" || true)
pool.bench.strategy=round-robin
pool.bench.backend.a.url=http://127.0.0.1:$ORIGIN_A
pool.bench.backend.b.url=http://127.0.0.1:$ORIGIN_B
route.main.path=/
route.main.pool=bench
EOF
  if [ "$cache" = 1 ]; then
    local sample="$DIST/config/proxy.properties"
    grep -Eq '^#?[[:space:]]*cache\.enabled[[:space:]]*=' "$sample" && echo "cache.enabled=true" >>"$file"
    grep -Eq '^#?[[:space:]]*route\.[A-Za-z0-9_-]+\.cache[[:space:]]*=' "$sample" && echo "route.main.cache=true" >>"$file"
    [ -n "${BENCH_CACHE_PROPS:-}" ] && printf '%s\n' "$BENCH_CACHE_PROPS" >>"$file"
  fi
  return 0
}

# Does this distribution have an HTTP cache? Its sample configuration documents every key.
PF_CACHE=0
PF_CACHE_NOTE="n/a: the distribution has no HTTP cache (no cache.* key in config/proxy.properties)"
if grep -Eq '^#?[[:space:]]*cache\.' "$DIST/config/proxy.properties"; then
  PF_CACHE=1
  PF_CACHE_NOTE=""
fi

# --- Starting and checking ------------------------------------------------------------------------

declare -A MAIN_PID=() READY_URL=() READY_LOG=()

# Each launch_* starts a server in the background; ready NAME then waits for it. Launching them all
# before waiting lets the JVMs start side by side.
launch_nginx() {
  local name=$1 port=$2 cpu=("${ON_PROXY_CPU[@]}")
  [ "$name" = origin ] && cpu=("${ON_REST_CPU[@]}")
  start_bg "$TMP/$name/logs/stdout.log" "${cpu[@]}" "$NGINX" -e "$TMP/$name/logs/error.log" -p "$TMP/$name" -c "$TMP/$name/nginx.conf"
  MAIN_PID[$name]=$BG_PID
  READY_URL[$name]="http://127.0.0.1:$port/100b"
  READY_LOG[$name]="$TMP/$name/logs/error.log"
}

launch_haproxy() {
  "$HAPROXY" -c -q -f "$TMP/haproxy/haproxy.cfg" >"$TMP/haproxy/check.log" 2>&1 \
    || { cat "$TMP/haproxy/check.log" >&2; return 1; }
  start_bg "$TMP/haproxy/haproxy.log" "${ON_PROXY_CPU[@]}" "$HAPROXY" -db -f "$TMP/haproxy/haproxy.cfg"
  MAIN_PID[haproxy]=$BG_PID
  READY_URL[haproxy]="http://127.0.0.1:${PORT[haproxy]}/100b"
  READY_LOG[haproxy]="$TMP/haproxy/haproxy.log"
}

launch_proxy_filter() {
  local name=$1 cache=${2:-0} dist=${3:-$DIST} access=${4:-$ACCESS_LOG}
  mkdir -p "$TMP/$name"
  write_proxy_filter "$TMP/$name/proxy.properties" "${PORT[$name]}" "$cache" "$access" "$dist"
  start_bg "$TMP/$name/proxy.log" "${ON_PROXY_CPU[@]}" "$dist/bin/proxy-filter" --config "$TMP/$name/proxy.properties"
  MAIN_PID[$name]=$BG_PID
  READY_URL[$name]="http://127.0.0.1:${PORT[$name]}/100b"
  READY_LOG[$name]="$TMP/$name/proxy.log"
}

launch_jetty_stock() {
  mkdir -p "$TMP/stock"
  # shellcheck disable=SC2086
  # The distribution's logging (Logback in lib/): without its file, Logback's default logs Jetty at DEBUG.
  start_bg "$TMP/stock/proxy.log" "${ON_PROXY_CPU[@]}" "$JAVA" $SHIPPED_JAVA_OPTS -Dlogback.configurationFile="$DIST/config/logback.xml" \
    -cp "$STOCK_CLASSES:$DIST/lib/*" StockJettyProxy \
    127.0.0.1 "${PORT[jetty-stock]}" "http://127.0.0.1:$ORIGIN_A" "http://127.0.0.1:$ORIGIN_B"
  MAIN_PID[jetty-stock]=$BG_PID
  READY_URL[jetty-stock]="http://127.0.0.1:${PORT[jetty-stock]}/100b"
  READY_LOG[jetty-stock]="$TMP/stock/proxy.log"
}

# ProxyFilter in embedded Tomcat, on proxy-filter's configuration (its own port), same JVM options.
launch_tomcat_filter() {
  mkdir -p "$TMP/tomcat"
  write_proxy_filter "$TMP/tomcat/proxy.properties" "${PORT[tomcat-filter]}"
  # shellcheck disable=SC2086
  start_bg "$TMP/tomcat/proxy.log" "${ON_PROXY_CPU[@]}" "$JAVA" $SHIPPED_JAVA_OPTS -Dlogback.configurationFile="$DIST/config/logback.xml" \
    -cp "$TOMCAT_CLASSES:$TOMCAT_JAR:$TOMCAT_ANNOTATIONS:$DIST/lib/*" TomcatFilterProxy \
    "$TMP/tomcat/proxy.properties"
  MAIN_PID[tomcat-filter]=$BG_PID
  READY_URL[tomcat-filter]="http://127.0.0.1:${PORT[tomcat-filter]}/100b"
  READY_LOG[tomcat-filter]="$TMP/tomcat/proxy.log"
}

# Waits until NAME's URL answers 200 while its process lives; shows its log when it does not.
ready() {
  local name=$1 i pid=${MAIN_PID[$1]} url=${READY_URL[$1]} logf=${READY_LOG[$1]}
  for ((i = 0; i < 600; i++)); do
    if ! is_alive "$pid"; then
      log "$name exited at start; its log:"; tail -20 "$logf" >&2
      return 1
    fi
    if [ "$("$CURL" -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" 2>/dev/null)" = 200 ]; then
      return 0
    fi
    sleep 0.1
  done
  log "$name not ready after 60 s; its log:"; tail -20 "$logf" >&2
  return 1
}

# Each path through PORT returns 200 and the body's exact size.
check_bodies() {
  local name=$1 port=$2 p got
  for p in 100b 64k 1m; do
    got="$("$CURL" -s -o /dev/null -w '%{http_code} %{size_download}' --max-time 10 "http://127.0.0.1:$port/$p" || true)"
    [ "$got" = "200 ${BODY_BYTES[$p]}" ] || { log "$name: GET /$p gave '$got', expected '200 ${BODY_BYTES[$p]}'"; return 1; }
  done
}

# --- Measuring ------------------------------------------------------------------------------------

# The processes of a proxy: the main PID and its children (nginx workers).
proxy_pids() { echo "$1 $(children "$1")"; }

# utime + stime of the given processes, in clock ticks.
cpu_ticks() {
  local total=0 pid line rest
  for pid in "$@"; do
    read -r line 2>/dev/null <"/proc/$pid/stat" || continue
    rest="${line##*) }"          # past "pid (comm) ", whatever comm holds
    set -- $rest                 # state ppid ... : utime is field 14 of stat, 12 here
    total=$((total + ${12} + ${13}))
  done
  echo "$total"
}

# Samples the summed VmRSS (KiB) of the PIDs every 200 ms, writing the largest to FILE.
rss_sampler() {
  local out=$1 max=0 sum pid k v
  shift
  while :; do
    sum=0
    for pid in "$@"; do
      while read -r k v _; do
        if [ "$k" = "VmRSS:" ]; then sum=$((sum + v)); break; fi
      done 2>/dev/null <"/proc/$pid/status" || true
    done
    if [ "$sum" -gt "$max" ]; then max=$sum; echo "$max" >"$out"; fi
    sleep 0.2
  done
}

# Requests the origins have served so far (nginx stub_status; each read counts itself).
origin_requests() {
  "$CURL" -s --max-time 2 "http://127.0.0.1:$ORIGIN_STATUS/status" 2>/dev/null | awk 'NR == 3 { print $3 }'
}

vm_field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || true; }

# wrk's output -> "rps p50_ms p99_ms requests errors non2xx".
parse_wrk() {
  awk '
    function ms(s) {
      if (s ~ /us$/) return substr(s, 1, length(s) - 2) / 1000
      if (s ~ /ms$/) return substr(s, 1, length(s) - 2) + 0
      if (s ~ /m$/) return substr(s, 1, length(s) - 1) * 60000
      if (s ~ /s$/) return substr(s, 1, length(s) - 1) * 1000
      return "NA"
    }
    BEGIN { rps = "NA"; p50 = "NA"; p99 = "NA"; req = "NA"; err = 0; non2xx = 0 }
    /Latency Distribution/ { dist = 1 }
    dist && $1 == "50%" { p50 = ms($2) }
    dist && $1 == "99%" { p99 = ms($2) }
    / requests in / { req = $1 }
    /^Requests\/sec:/ { rps = $2 }
    /Non-2xx or 3xx responses:/ { non2xx = $NF }
    /Socket errors:/ { gsub(",", ""); err = $4 + $6 + $8 + $10 }
    END { print rps, p50, p99, req, err, non2xx }
  ' "$1"
}

RUNS="$TMP/runs.tsv"
: >"$RUNS"

# One wrk run against TARGET's URL path; ROUND 0 is a warm-up, not recorded. The run is recorded under
# LABEL (default: the URL path).
measure() {
  local round=$1 target=$2 path=$3 seconds=$4 label=${5:-$3}
  local port=${PORT[$target]} pids before after sampler rss out="$TMP/wrk.out"
  pids="$(proxy_pids "${MAIN_PID[$target]}")"
  rm -f "$TMP/rss.max"
  # shellcheck disable=SC2086
  rss_sampler "$TMP/rss.max" $pids &
  sampler=$!
  PIDS+=("$sampler")
  # Cache-hit runs count the requests that reached the origins (misses), which should be none.
  local origin_before="" origin=NA
  [ "$label" = cache ] && origin_before=$(origin_requests)
  # shellcheck disable=SC2086
  before=$(cpu_ticks $pids)
  start_bg "$out" "${ON_REST_CPU[@]}" "$WRK" -t"$THREADS" -c"$CONNECTIONS" -d"${seconds}s" --timeout 5s --latency "http://127.0.0.1:$port/$path"
  wait_bg "$BG_PID" || log "wrk exited non-zero for $target /$path"
  # shellcheck disable=SC2086
  after=$(cpu_ticks $pids)
  stop_pid "$sampler" 1
  if [ -n "$origin_before" ]; then
    local origin_after
    origin_after=$(origin_requests)
    [ -n "$origin_after" ] && origin=$((origin_after - origin_before - 1))
  fi
  rss=$(cat "$TMP/rss.max" 2>/dev/null || echo NA)
  local rps p50 p99 req err non2xx cpu
  read -r rps p50 p99 req err non2xx < <(parse_wrk "$out")
  if [ "$req" != NA ] && [ "$req" -gt 0 ]; then
    # ticks * 10^6 / CLK_TCK / requests, in hundredths of a microsecond, rounded
    local c=$(( ((after - before) * 100000000 / CLK_TCK * 2 / req + 1) / 2 ))
    cpu="$((c / 100)).$(printf '%02d' $((c % 100)))"
  else
    cpu=NA
  fi
  if [ "$round" -gt 0 ]; then
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$target" "$label" "$rps" "$p50" "$p99" "$cpu" "$rss" "$req" "$err" "$non2xx" "$origin" >>"$RUNS"
  fi
  local tag="round $round"
  [ "$round" = 0 ] && tag="warm-up"
  log "$(printf '%-8s %-19s %-6s %9s req/s  p50 %6s ms  p99 %7s ms  cpu %6s us/req  rss %6s KiB  err %s/%s' \
    "$tag" "$target" "/$path" "$rps" "$p50" "$p99" "$cpu" "$rss" "$err" "$non2xx")"
  if [ "$err" != 0 ] || [ "$non2xx" != 0 ]; then
    sed 's/^/    wrk: /' "$out" >&2
  fi
}

# --- Versions and machine ---------------------------------------------------------------------------

JAVA_VERSION="$("$JAVA" -version 2>&1 | tr '\n' ' ' | sed 's/  */ /g; s/ $//')"
NGINX_VERSION="$("$NGINX" -v 2>&1 | sed -n 1p)"
HAPROXY_VERSION="$("$HAPROXY" -v 2>&1 | sed -n 1p)"
WRK_VERSION="$("$WRK" -v 2>&1 | sed -n 1p || true)"
CPU_MODEL="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)"
MEM_TOTAL="$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null || true)"
JETTY_VERSION="$(ls "$DIST"/lib/ | sed -n 's/^jetty-server-\(.*\)\.jar$/\1/p' | sed -n 1p)"
GIT_REV="$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)"
BASELINE_DESC=""
if [ -n "$BASELINE" ]; then
  # The baseline's own revision when it sits in a git checkout (a worktree's jetty-distribution/target).
  BASELINE_DESC="$(cd "$BASELINE" && git rev-parse --short HEAD 2>/dev/null || basename "$BASELINE")"
fi
# Changes to bench/ itself do not change what is measured.
if [ "$GIT_REV" != unknown ] && [ -n "$(cd "$ROOT" && git status --porcelain --untracked-files=no -- . ':!bench' 2>/dev/null)" ]; then
  GIT_REV="$GIT_REV (with uncommitted changes outside bench/)"
fi
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
STARTED_AT="$(date -u '+%Y-%m-%d %H:%M UTC')"

# --- Start everything -----------------------------------------------------------------------------

log "origins: nginx on 127.0.0.1:$ORIGIN_A and :$ORIGIN_B"
launch_nginx origin "$ORIGIN_A"
ready origin || die "the origin nginx did not start"
READY_URL[origin]="http://127.0.0.1:$ORIGIN_B/100b"
ready origin || die "the origin nginx does not answer on :$ORIGIN_B"
check_bodies origin-a "$ORIGIN_A" && check_bodies origin-b "$ORIGIN_B" || die "the origins serve wrong bodies"

declare -a PROXIED=() CACHED=()
if [ "$LOAD" = 1 ]; then
  log "proxies: nginx :${PORT[nginx]}, HAProxy :${PORT[haproxy]}, proxy-filter :${PORT[proxy-filter]}$([ "$JETTY_STOCK" = 1 ] && echo ", stock Jetty :${PORT[jetty-stock]}")$([ "$TOMCAT" = 1 ] && echo ", ProxyFilter in Tomcat :${PORT[tomcat-filter]}"), nginx proxy_cache :${PORT[nginx-cache]}$([ "$PF_CACHE" = 1 ] && echo ", proxy-filter cache :${PORT[proxy-filter-cache]}")"
  launch_proxy_filter proxy-filter
  [ -n "$BASELINE" ] && launch_proxy_filter proxy-filter-base 0 "$BASELINE"
  [ "$LOG_ROW" = 1 ] && launch_proxy_filter proxy-filter-log 0 "$DIST" 1
  [ "$JETTY_STOCK" = 1 ] && launch_jetty_stock
  [ "$TOMCAT" = 1 ] && launch_tomcat_filter
  [ "$PF_CACHE" = 1 ] && launch_proxy_filter proxy-filter-cache 1
  launch_nginx nginx "${PORT[nginx]}"
  launch_nginx nginx-cache "${PORT[nginx-cache]}"
  launch_haproxy || die "HAProxy's configuration does not pass haproxy -c"

  ready nginx || die "the nginx proxy did not start"
  ready haproxy || die "HAProxy did not start"
  ready proxy-filter || die "proxy-filter did not start"
  PROXIED=(nginx haproxy proxy-filter)
  if [ -n "$BASELINE" ]; then
    ready proxy-filter-base || die "the baseline proxy-filter ($BASELINE) did not start"
    PROXIED+=(proxy-filter-base)
  fi
  if [ "$LOG_ROW" = 1 ]; then
    ready proxy-filter-log || die "proxy-filter with its access log on did not start"
    PROXIED+=(proxy-filter-log)
  fi
  if [ "$JETTY_STOCK" = 1 ]; then
    if ready jetty-stock; then PROXIED+=(jetty-stock); else log "stock Jetty proxy skipped"; JETTY_STOCK=0; fi
  fi
  if [ "$TOMCAT" = 1 ]; then
    if ready tomcat-filter; then PROXIED+=(tomcat-filter); else log "ProxyFilter in Tomcat skipped"; TOMCAT=0; fi
  fi
  for t in "${PROXIED[@]}"; do check_bodies "$t" "${PORT[$t]}" || die "$t serves wrong bodies"; done

  ready nginx-cache || die "the nginx cache did not start"
  "$CURL" -s -o /dev/null "http://127.0.0.1:${PORT[nginx-cache]}/100b"
  status="$("$CURL" -s -o /dev/null -D - "http://127.0.0.1:${PORT[nginx-cache]}/100b" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-cache-status" { print $2 }')"
  [ "$status" = HIT ] || die "nginx proxy_cache does not hit (X-Cache-Status: '$status')"
  CACHED=(nginx-cache)
  if [ "$PF_CACHE" = 1 ]; then
    if ready proxy-filter-cache && check_bodies proxy-filter-cache "${PORT[proxy-filter-cache]}"; then
      CACHED+=(proxy-filter-cache)
    else
      PF_CACHE_NOTE="n/a: proxy-filter did not start or serve with the cache on ($(grep -m1 'configuration error' "$TMP/proxy-filter-cache/proxy.log" || echo 'see its log'); BENCH_CACHE_PROPS adds keys)"
      stop_pid "${MAIN_PID[proxy-filter-cache]}"
      log "$PF_CACHE_NOTE"
    fi
  else
    log "$PF_CACHE_NOTE"
  fi
fi

# --- Rounds -----------------------------------------------------------------------------------------

# Every (target, path) pair of one round; the order of the targets rotates from round to round.
pairs_of_round() {
  local round=$1 p i n t
  for p in 100b 64k 1m; do
    n=${#PROXIED[@]}
    for ((i = 0; i < n; i++)); do
      t=${PROXIED[$(((i + round) % n))]}
      echo "$t $p"
    done
  done
  n=${#CACHED[@]}
  for ((i = 0; i < n; i++)); do
    echo "${CACHED[$(((i + round) % n))]} cache"
  done
}

# The cache-hit runs ask the cache proxies for /100b, and are recorded under the path "cache".
url_path() { if [ "$1" = cache ]; then echo 100b; else echo "$1"; fi; }

is_java() { case "$1" in proxy-filter|proxy-filter-base|proxy-filter-log|proxy-filter-cache|jetty-stock|tomcat-filter) return 0 ;; *) return 1 ;; esac; }

if [ "$LOAD" = 1 ]; then
  runs_per_round=$(pairs_of_round 0 | wc -l)
  java_targets=0
  for t in "${PROXIED[@]}" "${CACHED[@]}"; do is_java "$t" && java_targets=$((java_targets + 1)); done
  estimate=$((runs_per_round * (ROUNDS * DURATION + WARMUP) + java_targets * JVM_WARMUP))
  log "$runs_per_round runs per round, $ROUNDS round(s) of ${DURATION}s; warm-up ${WARMUP}s per run, ${JVM_WARMUP}s more per Java proxy: $((estimate / 60)) min $((estimate % 60)) s of load"
  if [ "$JVM_WARMUP" -gt 0 ]; then
    for t in "${PROXIED[@]}" "${CACHED[@]}"; do
      is_java "$t" && measure 0 "$t" 100b "$JVM_WARMUP"
    done
  fi
  if [ "$WARMUP" -gt 0 ]; then
    while read -r t p; do
      measure 0 "$t" "$(url_path "$p")" "$WARMUP" "$p"
    done < <(pairs_of_round 0)
  fi
  for ((round = 1; round <= ROUNDS; round++)); do
    while read -r t p; do
      measure "$round" "$t" "$(url_path "$p")" "$DURATION" "$p"
    done < <(pairs_of_round "$round")
  done
  PF_HWM="$(vm_field "${MAIN_PID[proxy-filter]}" VmHWM)"
fi

# --- Idle keep-alive connections --------------------------------------------------------------------

IDLE_RESULT=""
idle_step() {
  local need=$((IDLE_COUNT + 2048)) soft hard
  soft=$(ulimit -Sn); hard=$(ulimit -Hn)
  if [ "$soft" != unlimited ] && [ "$soft" -lt "$need" ]; then
    if [ "$hard" != unlimited ] && [ "$hard" -lt "$need" ]; then
      ulimit -Hn "$need" 2>/dev/null || { IDLE_RESULT="n/a: ulimit -n is $soft (hard $hard) and cannot be raised to $need"; return 0; }
    fi
    ulimit -Sn "$need" 2>/dev/null || { IDLE_RESULT="n/a: ulimit -n cannot be raised to $need"; return 0; }
  fi
  local ports
  ports=$(awk '{ print $2 - $1 + 1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 28232)
  if [ "$ports" -lt $((IDLE_COUNT + 1000)) ]; then
    IDLE_RESULT="n/a: only $ports ephemeral ports for $IDLE_COUNT connections"; return 0
  fi
  log "idle connections: a fresh proxy-filter on :${PORT[proxy-filter-idle]}, ulimit -n $(ulimit -Sn)"
  launch_proxy_filter proxy-filter-idle
  ready proxy-filter-idle || { IDLE_RESULT="n/a: proxy-filter did not start"; return 0; }
  local pid=${MAIN_PID[proxy-filter-idle]} before after hwm line open established
  # A proxy that has served traffic (JIT, pools, buffers), as in production: 3 s of wrk first.
  start_bg "$TMP/idle-warmup.out" "$WRK" -t"$THREADS" -c"$CONNECTIONS" -d3s "http://127.0.0.1:${PORT[proxy-filter-idle]}/100b"
  wait_bg "$BG_PID" || true
  sleep 2
  before=$(vm_field "$pid" VmRSS)
  local hold=20 open_seconds=60
  start_bg "$TMP/idle.out" "$JAVA" -Xss256k "$SCRIPT_DIR/IdleClients.java" 127.0.0.1 "${PORT[proxy-filter-idle]}" /100b \
    "$IDLE_COUNT" 16 "$open_seconds" "$hold"
  local client=$BG_PID i
  for ((i = 0; i < (open_seconds + 30) * 5; i++)); do
    grep -Eq '^OPEN [0-9]+ FAILED [0-9]+ SECONDS [0-9.]+' "$TMP/idle.out" 2>/dev/null && break
    is_alive "$client" || break
    sleep 0.2
  done
  line="$(grep -E -m1 '^OPEN [0-9]+ FAILED [0-9]+ SECONDS [0-9.]+' "$TMP/idle.out" 2>/dev/null || true)"
  if [ -z "$line" ]; then
    IDLE_RESULT="n/a: the client did not report ($(tail -3 "$TMP/idle.out" | tr '\n' ' '))"
    stop_pid "$client" 2; stop_pid "$pid"; return 0
  fi
  sleep 3
  after=$(vm_field "$pid" VmRSS)
  hwm=$(vm_field "$pid" VmHWM)
  established="n/a"
  if command -v ss >/dev/null 2>&1; then
    established=$(ss -Htn state established "( sport = :${PORT[proxy-filter-idle]} )" 2>/dev/null | wc -l)
  fi
  open=$(echo "$line" | awk '{ print $2 }')
  log "idle connections: $line; proxy RSS ${before} KiB -> ${after} KiB, $established established at the proxy"
  IDLE_RESULT="$(awk -v b="$before" -v a="$after" -v h="$hwm" -v o="$open" -v e="$established" -v line="$line" -v n="$IDLE_COUNT" 'BEGIN {
    printf "| connections asked / opened | %d / %d |\n", n, o
    printf "| still open at the proxy when measured (ss) | %s |\n", e
    printf "| proxy RSS before (after 3 s of wrk, its connections closed) | %.1f MiB |\n", b / 1024
    printf "| proxy RSS with the connections open (3 s after the last) | %.1f MiB |\n", a / 1024
    printf "| difference | %.1f MiB (%.1f KiB per connection) |\n", (a - b) / 1024, (o > 0 ? (a - b) / o : 0)
    printf "| peak RSS of that proxy (VmHWM) | %.1f MiB |\n", h / 1024
    printf "| client report | `%s` |\n", line
  }')"
  stop_pid "$client" 2
  stop_pid "$pid"
}
if [ "$IDLE" = 1 ]; then
  idle_step
fi

# --- Report ------------------------------------------------------------------------------------------

LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"
ELAPSED=$((SECONDS - START_SECONDS))
{
  if [ "$LOAD" = 1 ]; then echo "# Load test results"; else echo "# Idle connections: results"; fi
  echo
  echo "Written by \`$COMMAND_LINE\` (bench/load/README.md says how to read it)."
  echo
  echo "- date: $STARTED_AT; took $((ELAPSED / 60)) min $((ELAPSED % 60)) s"
  echo "- machine: $(nproc) CPU(s), ${CPU_MODEL:-unknown CPU}, $MEM_TOTAL, Linux $(uname -r); load average before $LOAD_BEFORE, after $LOAD_AFTER"
  if [ "$PINNED" = 1 ]; then
    echo "- pinned: each proxy under test alone on CPU 1 (one nginx worker, HAProxy nbthread 1, JVMs with -XX:ActiveProcessorCount=1); wrk and the origins on CPU 0"
  else
    echo "- wrk, the origins and the proxy share these CPUs: the numbers are for comparing the proxies in this run, not absolute."
  fi
  echo "- anchors as their users tune them: nginx keepalive_requests 1000000 and keepalive_timeout 300s towards clients and in the upstream block (keepalive 64); HAProxy http-reuse always, http-keep-alive 300 s; nobody reconnects during a run"
  if [ "$ACCESS_LOG" = 1 ]; then
    echo "- access log ON in every target, to a file: nginx \`combined\`, HAProxy \`option httplog\` to stdout (a file), proxy-filter \`log.access=combined\` with \`log.access.to=stdout\` (a file); stock Jetty and the Tomcat filter log nothing"
  else
    echo "- access log off in every target$([ "$LOG_ROW" = 1 ] && echo ", except the row \"proxy-filter, access log on\": the same distribution with \`log.access=combined\` and \`log.access.to=stdout\` (a file), in the same rounds" || true)"
  fi
  if awk -v l="${LOAD_BEFORE%% *}" -v n="$(nproc)" 'BEGIN { exit !(l + 0 > n / 2) }'; then
    echo "- **The machine was busy before the run started (load average ${LOAD_BEFORE%% *} on $(nproc) CPUs): other work competed with this run, and its numbers are noisy.**"
  fi
  echo "- proxy-filter $GIT_REV, Jetty ${JETTY_VERSION:-?}; JVM options: $PF_JAVA_OPTS_DESC"
  [ -n "$BASELINE" ] && echo "- baseline: $BASELINE_DESC, unpacked in $BASELINE, same configuration and JVM options"
  echo "- java: $JAVA_VERSION"
  echo "- $NGINX_VERSION; $HAPROXY_VERSION; $WRK_VERSION"
  [ "$LOAD" = 1 ] && echo "- load: \`wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency\`, keep-alive, $ROUNDS round(s) interleaved, ${WARMUP}s warm-up per proxy and path (${JVM_WARMUP}s more for each Java proxy); two nginx origins on 127.0.0.1, balanced round-robin with keep-alive upstream connections"
  echo
  if [ "$LOAD" = 1 ]; then
    echo "## Throughput, latency, CPU and memory"
    echo
    awk -v baseline="${BASELINE_DESC:-}" -f "$SCRIPT_DIR/report.awk" "$RUNS"
    if [ -n "$PF_CACHE_NOTE" ]; then
      echo "proxy-filter cache hits: $PF_CACHE_NOTE"
      echo
    fi
    if [ "$JETTY_STOCK" = 0 ]; then
      echo "Stock Jetty AsyncProxyServlet: not measured (--no-jetty-stock, or it could not be built or started)."
      echo
    fi
    if [ "$TOMCAT" = 0 ]; then
      echo "ProxyFilter in Tomcat: not measured (--no-tomcat, or no Tomcat embed jar, or it could not be built or started)."
      echo
    fi
    if [ -n "${PF_HWM:-}" ]; then
      echo "proxy-filter's VmHWM (its peak RSS since start, over the warm-up and all rounds): $(awk -v k="$PF_HWM" 'BEGIN { printf "%.0f MiB", k / 1024 }')"
      echo
    fi
  fi
  if [ "$IDLE" = 1 ]; then
    echo "## Memory for $IDLE_COUNT idle keep-alive client connections (proxy-filter)"
    echo
    if [ "${IDLE_RESULT:0:4}" = "n/a:" ]; then
      echo "$IDLE_RESULT"
    else
      echo "| | |"
      echo "|---|---|"
      echo "$IDLE_RESULT"
    fi
    echo
  fi
  if [ "$LOAD" = 1 ]; then
    echo "<details><summary>Every measured run</summary>"
    echo
    echo "| round | proxy | path | req/s | p50 ms | p99 ms | CPU µs/req | peak RSS KiB | requests | socket errors | non-2xx | origin requests |"
    echo "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    awk -F'\t' '{ printf "| %s |\n", $1 " | " $2 " | " $3 " | " $4 " | " $5 " | " $6 " | " $7 " | " $8 " | " $9 " | " $10 " | " $11 " | " ($12 == "NA" ? "" : $12) }' "$RUNS"
    echo
    echo "</details>"
  fi
} >"$TMP/results.md"

mkdir -p "$(dirname "$OUT")"
cp "$TMP/results.md" "$OUT"
echo
sed -n '/^## /,$p' "$TMP/results.md" | sed '/^<details>/,$d'
log "results written to $OUT (${ELAPSED}s)"
