#!/usr/bin/env bash
# filters-bench.sh - what a filter of proxy-filters costs per request: Relay with the filter
# (relay-alt) side by side with the same Relay without it (relay) and nginx, in one run of
# proxy-bench.sh (its method: pinned CPUs, rotated order, medians, CPU µs/request from /proc, the
# foreign-CPU column). The cost of a filter is relay-alt's CPU µs/request minus relay's.
#
#   FILTER=rate-limit   /small through { name = rate-limit, key = client-ip } with a limit never
#                       reached: the sliding-window sketch's decision on every request
#   FILTER=compression  /small (100 bytes: below min-length, the filter only negotiates) and /text
#                       (16 KiB of text/html) with "Accept-Encoding: gzip" on every request, the
#                       filter at gzip level 1; nginx compresses too (gzip on, gzip_comp_level 1),
#                       so the nginx row is the reference for doing the same work
#   FILTER=redis        /small through rate-limit with store = redis (a real redis-server this script
#                       starts on REDIS_PORT, no persistence), limit never reached: Redis-backed
#                       decisions per second with the local sketch in front; afterwards the script
#                       reads Redis's command counters (INFO commandstats) and reports the round
#                       trips per proxied request
#
# Usage: mvn -q -B package -DskipTests && FILTER=rate-limit bench/filters-bench.sh
# Settings (env): FILTER=rate-limit, REDIS_PORT=28290, FILTER_CONF (replaces the filter block),
# and everything proxy-bench.sh takes (DURATION, RUNS, CONNS, ...). TARGETS defaults to "nginx relay".
set -Eeuo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${FILTER:=rate-limit}" "${REDIS_PORT:=28290}"
export TARGETS=${TARGETS:-nginx relay}

case $FILTER in
  rate-limit)
    conf=${FILTER_CONF:-'{ name = rate-limit, key = client-ip, limit = 1000000000, period = 1s }'}
    export PATHS=${PATHS:-/small} ;;
  compression)
    conf=${FILTER_CONF:-'{ name = compression, gzip-level = 1 }'}
    export PATHS=${PATHS:-/small /text}
    export WRK_HEADER=${WRK_HEADER:-Accept-Encoding: gzip}
    export NGINX_LOCATION_EXTRA=${NGINX_LOCATION_EXTRA:-gzip on; gzip_comp_level 1; gzip_min_length 256; gzip_types text/html text/plain; gzip_proxied any;} ;;
  redis)
    command -v redis-server >/dev/null || { echo "filters-bench: redis-server is missing (apt-get install redis-server)" >&2; exit 1; }
    conf=${FILTER_CONF:-"{ name = rate-limit, key = client-ip, limit = 1000000000, period = 1s, store = redis, redis = \"redis://127.0.0.1:$REDIS_PORT\" }"}
    export PATHS=${PATHS:-/small}
    redis_dir=$(mktemp -d)
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$redis_dir" \
      --daemonize yes --pidfile "$redis_dir/redis.pid" --logfile "$redis_dir/redis.log"
    trap 'kill "$(cat "$redis_dir/redis.pid" 2>/dev/null)" 2>/dev/null; rm -rf "$redis_dir"' EXIT
    for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
    redis-cli -p "$REDIS_PORT" config resetstat >/dev/null ;;
  *) sed -n '2,22p' "$0" >&2; exit 2 ;;
esac
export RELAY_ALT_CONF="filters = [ $conf ]"
status=0
"$here/proxy-bench.sh" "$@" || status=$?
if [[ "$FILTER" == redis ]]; then
  echo
  echo "Redis commands during the whole run (warm-ups and sanity requests included):"
  redis-cli -p "$REDIS_PORT" info commandstats | grep -E '^cmdstat_(evalsha|eval|script|incrby|get|set)' || true
fi
exit $status
