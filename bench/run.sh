#!/usr/bin/env bash
# run.sh - one command per table of docs/benchmarks.md; needs a clone, the jar and Debian packages:
#   apt-get install -y wrk nginx haproxy curl openssl python3 util-linux iproute2 nghttp2-client
#   mvn -q -B package -DskipTests
#
#   bench/run.sh proxy        HTTP/1.1 /small and /64k: direct, nginx, HAProxy, Relay   (proxy-bench.sh)
#   bench/run.sh access-log   the same plus a second Relay with the access log off      (proxy-bench.sh)
#   bench/run.sh tls-origin   plain client -> proxy -> TLS origin, pooled connections   (proxy-bench.sh)
#   bench/run.sh cache        HTTP cache hits, /small and /64k: nginx proxy_cache, Relay's cache filter,
#                             both uncached for reference                               (cache-bench.sh)
#   bench/run.sh cache-miss   the same, every request a new URL: what a miss that stores costs (cache-bench.sh)
#   bench/run.sh rate-limit   /small through the rate-limit filter against the bare proxy (filters-bench.sh)
#   bench/run.sh compression  /small and /text through the compression filter (gzip), nginx gzip as reference
#   bench/run.sh redis-limit  /small through rate-limit with store = redis (a real redis-server) (filters-bench.sh)
#   bench/run.sh reuse        upstream connection reuse, 50/200 keep-alive and closing clients (conn-reuse.sh)
#   bench/run.sh mem          memory per idle keep-alive client connection             (conn-mem.sh)
#   bench/run.sh heap         the Java heap by class: bytes per request, live bytes per idle connection (heap.sh)
#   bench/run.sh warmup       a fresh Relay step by step beside nginx: req/s, tail, compiler and GC CPU (warmup.sh)
#   bench/run.sh tls          TLS termination, keep-alive and handshakes               (tls-bench.sh)
#   bench/run.sh h2           HTTP/2 over TLS and h2c                                   (h2-bench.sh)
#   bench/run.sh grpc         gRPC unary calls, direct and through Relay                (grpc-bench.sh)
#   bench/run.sh ops          failover, live reloads and an upgrade under load          (ops-bench.sh)
#   bench/run.sh slow         a normal client's latency under slowhttptest attacks     (slow-attacks.sh)
#   bench/run.sh jmh          the load-balancer selection tables (JMH, benchmarks module; JMH_ITERATIONS)
#   bench/run.sh limits       the rate-limiting primitives, 1 and 2 threads, allocation per op (JMH)
#   bench/profile.sh          /small under JFR: top CPU frames, exact bytes allocated per request
#   bench/run.sh async-profile  /small under async-profiler (EVENT=alloc|itimer): allocation sites,
#                             CPU with native frames                                    (async-profile.sh)
# Every script's settings (DURATION, RUNS, ...) pass through the environment; see each script's header.
#
# Against the reference harness (../shared/bench, not part of the repository), with Relay run the
# same way (java -jar, no JVM flags, a FILE with the listener, upstream and route only):
#   HARNESS=../shared/bench bench/run.sh proxy|reuse|mem
#   JVM_FLAGS=... and RELAY_CONF_EXTRA=... change the candidate there (none by default).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
table=${1:-proxy}
[[ $# -gt 0 ]] && shift

if [[ -n "${HARNESS:-}" ]]; then
  case $table in
    proxy) script=proxy-bench.sh ;; reuse) script=conn-reuse.sh ;; mem) script=conn-mem.sh ;;
    *) echo "HARNESS runs proxy, reuse or mem (not $table)" >&2; exit 2 ;;
  esac
  [[ -f "$HARNESS/$script" ]] || { echo "missing $HARNESS/$script" >&2; exit 1; }
  jar=${RELAY_JAR:-$root/proxy-server/target/proxy-server.jar}
  [[ -f "$jar" ]] || { echo "missing $jar: run 'mvn -q -B package -DskipTests' first" >&2; exit 1; }
  conf_dir=$(mktemp -d)
  trap 'rm -rf "$conf_dir"' EXIT
  extra=${RELAY_CONF_EXTRA:-}
  # Another Relay holding the default upgrade socket would make this one refuse to start.
  [[ -n "$(ss -Hxl src /tmp/relay-upgrade.sock 2>/dev/null)" ]] && extra="server.upgrade-socket = \"$conf_dir/upgrade.sock\"
$extra"
  # The harness gives the candidate command PROXY_PORT and ORIGIN: the command writes the config.
  export RELAY_JAR=$jar RELAY_CONF_DIR=$conf_dir RELAY_JVM_FLAGS=${JVM_FLAGS:-} RELAY_CONF_EXTRA=$extra
  export PROXY_NAME=${PROXY_NAME:-relay}
  export PROXY_CMD='cat > "$RELAY_CONF_DIR/bench.conf" <<CONF
proxy {
  listeners = [ { address = "127.0.0.1:${PROXY_PORT}" } ]
  upstreams { origin { backends = [ "${ORIGIN}" ] } }
  routes = [ { upstream = origin } ]
  ${RELAY_CONF_EXTRA}
}
CONF
exec java $RELAY_JVM_FLAGS -jar "$RELAY_JAR" -c "$RELAY_CONF_DIR/bench.conf"'
  bash "$HARNESS/$script" "$@"
  exit
fi

case $table in
  proxy)      exec "$here/proxy-bench.sh" "$@" ;;
  access-log) RELAY_ALT_CONF=${RELAY_ALT_CONF:-server.access-log = false} exec "$here/proxy-bench.sh" "$@" ;;
  tls-origin) MODE=tls-origin exec "$here/proxy-bench.sh" "$@" ;;
  cache)      MODE=hit exec "$here/cache-bench.sh" "$@" ;;
  cache-miss) MODE=miss exec "$here/cache-bench.sh" "$@" ;;
  rate-limit) FILTER=rate-limit exec "$here/filters-bench.sh" "$@" ;;
  compression) FILTER=compression exec "$here/filters-bench.sh" "$@" ;;
  redis-limit) FILTER=redis exec "$here/filters-bench.sh" "$@" ;;
  reuse)      exec "$here/conn-reuse.sh" "$@" ;;
  mem)        exec "$here/conn-mem.sh" "$@" ;;
  tls)        exec "$here/tls-bench.sh" "$@" ;;
  h2)         exec "$here/h2-bench.sh" "$@" ;;
  grpc)       exec "$here/grpc-bench.sh" "$@" ;;
  ops)        exec "$here/ops-bench.sh" "$@" ;;
  slow)       exec "$here/slow-attacks.sh" "$@" ;;
  async-profile) exec "$here/async-profile.sh" "$@" ;;
  heap)       exec "$here/heap.sh" "$@" ;;
  warmup)     exec "$here/warmup.sh" "$@" ;;
  jmh)
    jar=$root/benchmarks/target/benchmarks.jar
    [[ -f "$jar" ]] || (cd "$root" && mvn -q -B package -DskipTests -pl benchmarks -am)
    # JMH refuses an option given twice: JMH_ITERATIONS replaces the iteration options; arguments
    # (e.g. -p backends=10) are added to each command.
    # shellcheck disable=SC2086
    for threads in 1 2; do
      java -jar "$jar" 'SelectionBenchmark.select$' ${JMH_ITERATIONS:--f 1 -wi 3 -i 5 -w 1s -r 1s} -t $threads -prof gc "$@"
    done
    # shellcheck disable=SC2086
    java -jar "$jar" 'SelectionBenchmark.observeAttempt' -p algorithm=peak-ewma ${JMH_ITERATIONS:--f 1 -wi 2 -i 3 -w 1s -r 1s} \
      -t 1 -prof gc "$@" ;;
  limits)
    jar=$root/benchmarks/target/benchmarks.jar
    [[ -f "$jar" ]] || (cd "$root" && mvn -q -B package -DskipTests -pl benchmarks -am)
    # shellcheck disable=SC2086
    for threads in 1 2; do
      java -jar "$jar" 'LimitsBenchmark' ${JMH_ITERATIONS:--f 1 -wi 2 -i 3 -w 1s -r 1s} -t $threads -prof gc "$@"
    done ;;
  *) sed -n '2,28p' "$0" >&2; exit 2 ;;
esac
