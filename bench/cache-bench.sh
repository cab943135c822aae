#!/usr/bin/env bash
# cache-bench.sh - Relay's HTTP cache side by side with nginx's proxy_cache, in one run: what a hit
# costs (MODE=hit) and what a miss that fetches and stores costs (MODE=miss).
#
# Loopback only, every server on its own high port and in a temp dir, all stopped on exit:
#   origin       nginx, worker_processes 1: GET /small -> 100-byte body, GET /64k -> 65,536 bytes,
#                every response with "Cache-Control: max-age=3600" (ORIGIN_CACHE_CONTROL); it logs
#                each request (buffered), so the requests that reached it during a run are counted
#   nginx-cache  nginx as proxy (worker_processes 1, upstream keepalive 64, as in proxy-bench.sh) with
#                proxy_cache: the cache files on tmpfs (a directory under CACHE_TMPFS, removed on exit),
#                keys_zone=bench:10m max_size=256m inactive=60m use_temp_path=off, proxy_cache_lock on,
#                no proxy_cache_valid (the origin's max-age decides), X-Cache: $upstream_cache_status
#   relay-cache  java -jar proxy-server/target/proxy-server.jar -c FILE as users run it: no JVM flags,
#                FILE holds the listener, the upstream group, the route and RELAY_CACHE_CONF, the cache
#                filter for every route: filters = [ { name = cache, max-size = 256MiB, max-object-size = 8MiB } ]
#                (its responses carry Cache-Status: relay; hit; ttl=N or relay; fwd=miss; ...)
#   nginx, relay the same proxies without a cache (reference rows: what proxying alone costs)
#
# MODE=hit (default, PATHS "/small /64k"): after the warm-up, every request through a cache target
#   is a hit: the origin's request count over a measured run is ~0 on those rows (= the requests on
#   the uncached rows). Ratios against nginx-cache.
# MODE=miss (PATHS "/small"): a wrk Lua script (written to the temp dir) gives every request a URL no
#   request used before (<path>?<run>-<thread>-<n>); the responses are cacheable, so every request
#   through a cache target misses, is fetched from the origin and stored: what storing costs (over a
#   long run the caches fill and evict: nginx's keys zone holds ~80,000 keys). Ratios: relay-cache
#   against relay, nginx-cache against nginx (the same proxy uncached).
# Before measuring, through every target and path, two requests to a URL of their own
#   (<path>?sanity): 200 and the full body; on a cache target the first a miss (Cache-Status: relay;
#   fwd=miss / X-Cache: MISS), the second a hit (relay; hit / HIT); the uncached targets say neither.
#
# The method of proxy-bench.sh: for each path, each target: wrk -t$THREADS -c$CONNS -d$DURATION
# --latency, RUNS rounds with the target order rotated every round, after a warm-up (WARMUP s per
# target and path, CANDIDATE_WARMUP s for Relay: the JIT, in parts of WARMUP_PART s on new connections,
# see run_rounds in side-by-side.sh). Reported, medians over the rounds: req/s
# and its ratio, p50/p99, the proxy's CPU µs per request (utime+stime of its process tree from
# /proc) and its ratio, the origin's CPU µs per request, the requests that reached the origin, RSS of
# the proxy's process tree idle and after (nginx-cache: plus its cache files on tmpfs, memory that is
# not in its RSS), and the foreign CPU: what the machine spent in processes this script did not start
# during the measurement (a high value marks a disturbed run). Counting the origin's requests takes
# 1.5 s of quiet before and after each measured run (the origin flushes its log every second).
#
# CPU pinning (2 cores): wrk on CPU $WRK_CPU, the origin and the proxy under test share CPU
# $SERVER_CPU; compare ratios within one run and CPU per request, never req/s across runs.
#
# Usage: mvn -q -B package -DskipTests && bench/cache-bench.sh && MODE=miss bench/cache-bench.sh
# Settings (env): MODE=hit DURATION=10 CONNS=50 THREADS=1 RUNS=3 WARMUP=3 CANDIDATE_WARMUP=20 WARMUP_PART=5
#   PATHS="/small /64k" (miss: "/small") TARGETS="nginx-cache relay-cache nginx relay"
#   WRK_CPU=0 SERVER_CPU=1 CACHE_TMPFS=/dev/shm ORIGIN_CACHE_CONTROL=max-age=3600
#   ORIGIN_PORT=28330 NGINX_CACHE_PORT=28331 RELAY_CACHE_PORT=28332 NGINX_PORT=28333 RELAY_PORT=28334
#   RELAY_JAR=proxy-server/target/proxy-server.jar RELAY_CONF_EXTRA='' (HOCON lines inside proxy { },
#   every Relay) RELAY_CACHE_CONF='filters = [ ... ]' (relay-cache's own lines)
#   RESULTS_DIR=<dir> (default $TMPDIR or /tmp, cache-bench-results/<timestamp>) KEEP_TMP=0
# Results: RESULTS_DIR/summary.md (tables for docs/benchmarks.md), runs.tsv, meta.txt, raw/.
set -Eeuo pipefail

: "${MODE:=hit}" "${DURATION:=10}" "${CONNS:=50}" "${THREADS:=1}" "${RUNS:=3}"
: "${WARMUP:=3}" "${CANDIDATE_WARMUP:=20}" "${WRK_CPU:=0}" "${SERVER_CPU:=1}"
: "${TARGETS:=nginx-cache relay-cache nginx relay}" "${CACHE_TMPFS:=/dev/shm}"
: "${ORIGIN_PORT:=28330}" "${NGINX_CACHE_PORT:=28331}" "${RELAY_CACHE_PORT:=28332}" "${NGINX_PORT:=28333}" "${RELAY_PORT:=28334}"
: "${ORIGIN_CACHE_CONTROL:=max-age=3600}" "${RELAY_CONF_EXTRA:=}"
# (not a ${...:=...} default: the braces of the HOCON would end the expansion)
[[ -n "${RELAY_CACHE_CONF:-}" ]] || RELAY_CACHE_CONF='filters = [ { name = cache, max-size = 256MiB, max-object-size = 8MiB } ]'
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/side-by-side.sh
. "$ROOT/bench/side-by-side.sh"
case $MODE in
  hit) : "${PATHS:=/small /64k}" ;;
  miss) : "${PATHS:=/small}" ;;
  *) die "MODE=$MODE (expected: hit or miss)" ;;
esac
bench_init cache-bench
require_tools "wrk nginx curl util-linux iproute2" wrk nginx curl java taskset setsid ss
require_free_ports "$ORIGIN_PORT" "$NGINX_CACHE_PORT" "$RELAY_CACHE_PORT" "$NGINX_PORT" "$RELAY_PORT"

read -r -a TARGETS <<<"$TARGETS"
declare -A PORT=( [nginx-cache]=$NGINX_CACHE_PORT [relay-cache]=$RELAY_CACHE_PORT [nginx]=$NGINX_PORT [relay]=$RELAY_PORT )
declare -A SPID=() IDLE_RSS=()
has_target() { [[ " ${TARGETS[*]} " == *" $1 "* ]]; }
for t in "${TARGETS[@]}"; do [[ -n "${PORT[$t]:-}" ]] || die "unknown target $t (expected: ${!PORT[*]})"; done
url() { echo "http://$HOST:${PORT[$1]}"; }
baseline() {  # baseline <target>: the target its ratios compare with, nothing for none
  local b=
  if [[ "$MODE" == hit ]]; then b=nginx-cache
  else case $1 in nginx-cache) b=nginx ;; relay-cache) b=relay ;; esac; fi
  [[ -n "$b" ]] && has_target "$b" && echo "$b"
  return 0
}

# ---------- nginx-cache's cache files: on tmpfs, so that it measures memory like Relay's cache ----------
if has_target nginx-cache; then
  [[ "$(stat -f -c %T "$CACHE_TMPFS" 2>/dev/null)" == tmpfs ]] \
    || die "CACHE_TMPFS=$CACHE_TMPFS is not a tmpfs (nginx-cache would measure a disk)"
  CACHE_ROOT=$(mktemp -d "$CACHE_TMPFS/cache-bench.XXXXXX")
  CLEANUP_DIRS+=("$CACHE_ROOT")
  chmod 755 "$CACHE_ROOT"             # nginx workers run as nobody when we are root
  NGINX_CACHE_DIR=$CACHE_ROOT/nginx-cache
fi

# ---------- the servers ----------
ORIGIN_LOG=$T/origin-access.log
start_origin
wait_http "http://$HOST:$ORIGIN_PORT/small" 10 "$ORIGIN_PID"
start_targets

# ---------- sanity: a URL of their own through every target, twice: a miss that stores, then a hit ----------
declare -A WANT=( [/small]=100 [/64k]=65536 )
sanity() {  # sanity <target> <path>
  local t=$1 path=$2 field=X-Cache want=(MISS HIT) i got status said
  [[ "$t" == relay* ]] && field=Cache-Status want=("relay; fwd=miss" "relay; hit")
  for i in 0 1; do
    got=$(curl -s -D - -o /dev/null -w 'status: %{http_code} %{size_download}\n' "$(url "$t")$path?sanity" | tr -d '\r' || true)
    status=$(awk '/^status: /{print $2, $3}' <<<"$got")
    said=$(awk -v f="$(tr '[:upper:]' '[:lower:]' <<<"$field")" 'index(tolower($0), f ": ") == 1 { sub(/^[^:]*: /, ""); print; exit }' <<<"$got")
    [[ "$status" == "200 ${WANT[$path]:-}" || ( -z "${WANT[$path]:-}" && "$status" == "200 "* ) ]] \
      || die "$t $path?sanity returned '$status'"
    if [[ "$t" == *-cache ]]; then
      [[ "$said" == "${want[$i]}"* ]] || die "$t $path?sanity, request $((i + 1)): $field '$said' (expected: ${want[$i]}...)"
    else
      [[ -z "$said" ]] || die "$t is not meant to cache, yet says $field: $said"
    fi
  done
}
for t in "${TARGETS[@]}"; do
  for path in $PATHS; do sanity "$t" "$path"; done
  IDLE_RSS[$t]=$(tree_kb "${SPID[$t]}" VmRSS)
  log "$t: pid ${SPID[$t]}, $(url "$t"), RSS ${IDLE_RSS[$t]} KiB"
done

{
  host_meta
  echo "versions: $(nginx -v 2>&1 | sed 's/.*: //'); $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); $(java -version 2>&1 | head -1)"
  echo "mode: $MODE; paths: $PATHS; pinning: wrk -> cpu $WRK_CPU, origin and proxies -> cpu $SERVER_CPU (pin=$PIN)"
  echo "wrk -t$THREADS -c$CONNS -d${DURATION}s --latency$([[ "$MODE" == miss ]] && echo " -s new-url-per-request.lua"); $RUNS rounds, order rotated; warm-up ${WARMUP}s per target and path, ${CANDIDATE_WARMUP}s for Relay"
  echo "origin: Cache-Control: $ORIGIN_CACHE_CONTROL; its access log on (buffer=256k flush=1s), counted per measured run"
  has_target nginx-cache && echo "nginx-cache: $(grep -o 'proxy_cache_path[^;]*;' "$T/nginx-cache/nginx.conf") $(grep -o 'proxy_cache bench;.*;' "$T/nginx-cache/nginx.conf")"
  for t in relay-cache relay; do
    has_target "$t" && echo "$t: java -jar $RELAY_JAR -c $t.conf: $(tr -s ' \n' ' ' < "$T/$t.conf")"
  done
  for t in "${TARGETS[@]}"; do echo "idle $t: VmRSS ${IDLE_RSS[$t]} KiB (process tree of pid ${SPID[$t]})"; done
} > "$RESULTS_DIR/meta.txt"
cat "$RESULTS_DIR/meta.txt" >&2

# ---------- MODE=miss: a new URL per request, unique per wrk run (a tag), thread and request ----------
cat > "$T/new-url-per-request.lua" <<'LUA'
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  prefix = wrk.path .. "?" .. args[1] .. "-" .. id .. "-"  -- args[1]: the run's tag, after "--"
  counter = 0
end
function request()
  counter = counter + 1
  return wrk.format(nil, prefix .. counter)
end
LUA

# ---------- measurement ----------
TSV=$RESULTS_DIR/runs.tsv
printf 'round\tpath\ttarget\trps\tp50_ms\tp99_ms\trequests\terrors\tproxy_cpu_us\torigin_cpu_us\trss_kb\tpss_kb\twrk_cpu_pct\tcpu%s_busy\tcpu%s_busy\tsteal_pct\tforeign_cpu_pct\torigin_requests\tcache_tmpfs_kb\n' \
  "$WRK_CPU" "$SERVER_CPU" > "$TSV"
WRK_RUNS=0
run_wrk() {  # run_wrk <round> <path> <target> <seconds> [record]
  local r=$1 path=$2 t=$3 d=$4 rec=${5:-} out rps p50 p99 reqs err pc rss pss from to origin_reqs tmpfs=NA
  local script=() tag=()
  out="$RESULTS_DIR/raw/wrk_r${r}_${path#/}_${t}.txt"
  WRK_RUNS=$((WRK_RUNS + 1))
  [[ "$MODE" == miss ]] && script=(-s "$T/new-url-per-request.lua") tag=(-- "r$r-$WRK_RUNS")
  [[ -n "$rec" ]] && from=$(flushed_size "$ORIGIN_LOG")
  run_client "$t" "$out" "$WRK_CPU" wrk -t"$THREADS" -c"$CONNS" -d"${d}s" --latency "${script[@]}" "$(url "$t")$path" "${tag[@]}"
  [[ -z "$rec" ]] && return 0
  read -r rps p50 p99 reqs err <<<"$(parse_wrk "$out")"
  pc=$(cpu_us_per_request "$P0" "$P1" "$reqs"); rss=$(tree_kb "${SPID[$t]}" VmRSS); pss=$(tree_kb "${SPID[$t]}" Pss)
  [[ "$t" == nginx-cache ]] && tmpfs=$(du -sk "$NGINX_CACHE_DIR" | cut -f1)
  to=$(flushed_size "$ORIGIN_LOG")
  origin_reqs=$(tail -c +$((from + 1)) "$ORIGIN_LOG" | head -c $((to - from)) | wc -l)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$path" "$t" "$rps" "$p50" "$p99" \
    "$reqs" "$err" "$pc" "$(cpu_us_per_request "$O0" "$O1" "$reqs")" "$rss" "$pss" "$CLIENT_CPU_PCT" \
    "$BUSY_CLIENT" "$BUSY_SERVER" "$STEAL" "$FOREIGN_PCT" "$origin_reqs" "$tmpfs" >> "$TSV"
  log "round $r $path $t: $rps req/s p99 ${p99} ms, proxy ${pc} µs/req, origin requests $origin_reqs of $reqs, errors $err, wrk ${CLIENT_CPU_PCT}%, foreign ${FOREIGN_PCT}%"
}
SCENARIOS=$PATHS
LONG_WARMUP_TARGETS="relay-cache relay"
run_rounds run_wrk

# ---------- what each proxy did: Relay's transport and access-log lines, the logs kept ----------
for t in relay-cache relay; do
  has_target "$t" || continue
  relay_facts "$t" >> "$RESULTS_DIR/meta.txt"
  cp "$T/$t.conf" "$RESULTS_DIR/raw/"
  { grep '^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.' "$T/$t.out" | head -200; cat "$T/$t.err"; } > "$RESULTS_DIR/raw/$t.log" || true
done
for t in nginx-cache nginx; do
  has_target "$t" && cp "$T/$t/nginx.conf" "$RESULTS_DIR/raw/$t.conf" && cp "$T/$t/error.log" "$RESULTS_DIR/raw/$t-error.log"
done

# ---------- summary: medians over the rounds ----------
vs="vs nginx-cache"; [[ "$MODE" == miss ]] && vs="vs uncached"
SUM=$RESULTS_DIR/summary.md
{
  echo "| path | target | req/s | $vs | p50 ms | p99 ms | proxy CPU µs/req | $vs | origin CPU µs/req | origin requests | origin/client % | RSS MiB idle→after | foreign CPU % (max) | errors |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for path in $PATHS; do
    for t in "${TARGETS[@]}"; do
      rps=$(col "$path" "$t" 4 | median); cpu=$(col "$path" "$t" 9 | median); reqs=$(col "$path" "$t" 7 | median)
      origin=$(col "$path" "$t" 18 | median) base=$(baseline "$t") rpsratio=- cpuratio=-
      if [[ -n "$base" ]]; then
        rpsratio=$(ratio "$rps" "$(col "$path" "$base" 4 | median)"); cpuratio=$(ratio "$cpu" "$(col "$path" "$base" 9 | median)")
      fi
      rss="$(echo "${IDLE_RSS[$t]}" | mib)→$(col "$path" "$t" 11 | maxv | mib)"
      [[ "$t" == nginx-cache ]] && rss="$rss (+$(col "$path" "$t" 19 | maxv | mib) tmpfs)"
      printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$path" "$t" "$rps" "$rpsratio" \
        "$(col "$path" "$t" 5 | median)" "$(col "$path" "$t" 6 | median)" "$cpu" "$cpuratio" \
        "$(col "$path" "$t" 10 | median)" "$origin" "$(awk -v o="$origin" -v n="$reqs" 'BEGIN{printf "%.1f", (n>0 ? 100*o/n : 0)}')" \
        "$rss" "$(col "$path" "$t" 17 | maxv)" "$(col "$path" "$t" 8 | sumv)"
    done
  done
  echo
  if [[ "$MODE" == hit ]]; then
    echo "Hits: the origin sends Cache-Control: $ORIGIN_CACHE_CONTROL, the caches were filled before the measured runs (origin requests ~0 on the cache rows); ratios against nginx-cache."
  else
    echo "Misses: every request a new URL (<path>?<run>-<thread>-<n>), every response cacheable: a cache row fetches and stores each one; ratios against the same proxy uncached (relay-cache/relay, nginx-cache/nginx)."
  fi
  echo "wrk -t$THREADS -c$CONNS -d${DURATION}s on cpu $WRK_CPU, origin and proxy on cpu $SERVER_CPU; medians of $RUNS rounds (order rotated)$(
    has_target nginx-cache && echo "; nginx-cache: proxy_cache on tmpfs, keys_zone 10m, max_size 256m, proxy_cache_lock on")$(
    has_target relay-cache || has_target relay && echo "; Relay: \`java -jar proxy-server.jar -c FILE\`, no JVM flags, shipped defaults${RELAY_CONF_EXTRA:+ plus \`$RELAY_CONF_EXTRA\`}")$(
    has_target relay-cache && echo "; relay-cache: plus \`$RELAY_CACHE_CONF\`")."
  echo
  echo "Details (the same run):"
  echo
  details_table
  echo
  echo "CPU µs/req: utime+stime of the process tree over the run / requests. origin requests: lines the origin logged during a measured run (median). RSS, PSS: the process tree (nginx: master and worker, nginx-cache also its cache manager and loader; plus nginx-cache's cache files on tmpfs after the run, memory outside its RSS; Relay's cache is in its heap). foreign CPU: machine task time outside this run's processes, % of one core (other tenants, builds)."
} > "$SUM"
cat "$SUM"
log "results: $RESULTS_DIR (summary.md, runs.tsv, meta.txt, raw/)"
