#!/usr/bin/env bash
# conn-reuse.sh - the upstream connection reuse ratio of nginx, HAProxy and Relay, counted exactly
# from the origin's log (loopback only, everything it starts stopped on exit).
#
# The origin (nginx) logs "$connection $connection_requests" for every request: the serial number
# of the connection it arrived on and how many requests that connection has carried so far. A 1 in
# the second field is the first request on a connection the proxy has just opened. Over one
# measured wrk run through a proxy:
#   requests           lines the origin logged during the run
#   connections opened lines with connection_requests = 1
#   reuse %            100 x (requests - opened) / requests: the share of requests sent on an
#                      already-open upstream connection (Cloudflare's "connection reuse ratio")
# Relay's own access log says the same per request (reused=0|1): counted in the same window as a
# cross-check. After each run: the target's ESTABLISHED connections to the origin (ss -p, by the
# pids of its process tree; all the proxies run at once, so a count by port alone would mix them).
#
# The origin must not bias the ratio: nginx's default keepalive_requests (1000) would close every
# connection after its 1000th request and cap any proxy at 99.9 %; the origin here never closes a
# keep-alive connection during a run (keepalive_requests 100000000, keepalive_timeout 300s).
# The proxies keep their own settings: nginx upstream keepalive 64 and its default
# keepalive_requests 1000 per upstream connection (NGINX_KEEPALIVE, NGINX_KEEPALIVE_REQUESTS),
# HAProxy http-reuse always, Relay the shipped defaults.
# Each measured run follows a WARMUP-second run of the same scenario that is not counted, so the
# ratio is the steady state (pools filled), independent of DURATION.
#
# Scenarios: ka50 (wrk -c50 keep-alive clients), ka200 (-c200: more clients than nginx's 64 idle
# upstream connections), close50 (-c50 with "Connection: close": a new client connection per request
# must not mean a new upstream connection). Targets: direct (wrk to the origin: a control row, the
# client's own keep-alive), nginx, haproxy, relay.
#
# Usage: mvn -q -B package -DskipTests && bench/conn-reuse.sh
# Settings (env): DURATION=5 WARMUP=3 SCENARIOS="ka50 ka200 close50" TARGETS="direct nginx haproxy relay"
#   NGINX_KEEPALIVE=64 NGINX_KEEPALIVE_REQUESTS=1000 WRK_CPU=0 SERVER_CPU=1
#   ORIGIN_PORT=28290 NGINX_PORT=28291 HAPROXY_PORT=28292 RELAY_PORT=28293
#   RELAY_JAR=proxy-server/target/proxy-server.jar RELAY_CONF_EXTRA='' (HOCON lines inside proxy { })
#   RESULTS_DIR=<dir> (default $TMPDIR or /tmp, conn-reuse-results/<timestamp>)
set -Eeuo pipefail

: "${DURATION:=5}" "${WARMUP:=3}" "${SCENARIOS:=ka50 ka200 close50}" "${TARGETS:=direct nginx haproxy relay}"
: "${NGINX_KEEPALIVE:=64}" "${NGINX_KEEPALIVE_REQUESTS:=1000}" "${WRK_CPU:=0}" "${SERVER_CPU:=1}"
: "${ORIGIN_PORT:=28290}" "${NGINX_PORT:=28291}" "${HAPROXY_PORT:=28292}" "${RELAY_PORT:=28293}"
: "${RELAY_CONF_EXTRA:=}"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/side-by-side.sh
. "$ROOT/bench/side-by-side.sh"
bench_init conn-reuse
require_tools "wrk nginx haproxy curl util-linux iproute2" wrk nginx haproxy curl java taskset setsid ss
require_free_ports "$ORIGIN_PORT" "$NGINX_PORT" "$HAPROXY_PORT" "$RELAY_PORT"

read -r -a TARGETS <<<"$TARGETS"
declare -A PORT=( [direct]=$ORIGIN_PORT [nginx]=$NGINX_PORT [haproxy]=$HAPROXY_PORT [relay]=$RELAY_PORT )
declare -A SPID=()
ORIGIN_LOG=$T/origin-access.log start_origin
wait_http "http://$HOST:$ORIGIN_PORT/small" 10 "$ORIGIN_PID"
NGINX_UPSTREAM_KEEPALIVE=$NGINX_KEEPALIVE start_targets
{
  host_meta
  echo "versions: $(nginx -v 2>&1 | sed 's/.*: //'); $(haproxy -v | head -1 | cut -d' ' -f1-3); $(java -version 2>&1 | head -1)"
  echo "wrk -t1 -d${DURATION}s on cpu $WRK_CPU after an uncounted ${WARMUP}s run; origin and proxies on cpu $SERVER_CPU (pin=$PIN)"
  echo "nginx: upstream keepalive $NGINX_KEEPALIVE, keepalive_requests $NGINX_KEEPALIVE_REQUESTS; haproxy: http-reuse always"
  [[ -f "$T/relay.conf" ]] && echo "relay: java -jar $RELAY_JAR -c relay.conf: $(tr -s ' \n' ' ' < "$T/relay.conf")"
} > "$RESULTS_DIR/meta.txt"
cat "$RESULTS_DIR/meta.txt" >&2

TSV=$RESULTS_DIR/runs.tsv
printf 'scenario\ttarget\trequests\topened\treuse_pct\trps\terrors\testab_after\tproxy_says_opened\tforeign_cpu_pct\n' > "$TSV"
for sc in $SCENARIOS; do
  case $sc in
    ka50) args=(-c50) ;; ka200) args=(-c200) ;; close50) args=(-c50 -H "Connection: close") ;;
    *) die "unknown scenario $sc (expected: ka50 ka200 close50)" ;;
  esac
  for t in "${TARGETS[@]}"; do
    url="http://$HOST:${PORT[$t]}/small"
    (( WARMUP > 0 )) && run_client "$t" "$RESULTS_DIR/raw/wrk_warmup_${sc}_${t}.txt" "$WRK_CPU" wrk -t1 "${args[@]}" -d"${WARMUP}s" "$url"
    from=$(flushed_size "$T/origin-access.log"); relay_from=$(stat -c %s "$T/relay.out" 2>/dev/null || echo 0)
    out="$RESULTS_DIR/raw/wrk_${sc}_${t}.txt"
    run_client "$t" "$out" "$WRK_CPU" wrk -t1 "${args[@]}" -d"${DURATION}s" --latency "$url"
    estab=$(ss -Htanp state established "( dport = :$ORIGIN_PORT )" \
      | grep -cE "pid=($(tree "${SPID[$t]}" | paste -sd'|')),") || true
    to=$(flushed_size "$T/origin-access.log"); relay_to=$(stat -c %s "$T/relay.out" 2>/dev/null || echo 0)
    read -r rps _ _ _ err <<<"$(parse_wrk "$out")"
    read -r requests opened <<<"$(tail -c +$((from + 1)) "$T/origin-access.log" | head -c $((to - from)) \
      | awk '{ n++; if ($2 == 1) o++ } END { print n+0, o+0 }')"
    proxy_says=-
    [[ "$t" == relay ]] && proxy_says=$(tail -c +$((relay_from + 1)) "$T/relay.out" | head -c $((relay_to - relay_from)) \
      | grep -c ' reused=0 ' || true)
    reuse=$(awk -v n="$requests" -v o="$opened" 'BEGIN{printf "%.3f", (n>0 ? 100*(n-o)/n : 0)}')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$sc" "$t" "$requests" "$opened" "$reuse" "$rps" "$err" \
      "$estab" "$proxy_says" "$FOREIGN_PCT" >> "$TSV"
    log "$sc $t: $requests requests, $opened upstream connections opened, reuse $reuse %, $rps req/s, errors $err"
  done
done
[[ -f "$T/relay.out" ]] && relay_facts relay >> "$RESULTS_DIR/meta.txt"

SUM=$RESULTS_DIR/summary.md
{
  echo "| scenario | target | requests (origin log) | upstream connections opened | reuse % | req/s | its connections to the origin after | foreign CPU % | errors |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' 'NR>1 { printf "| %s | %s | %d | %d | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $8, $10, $7 }' "$TSV"
  echo
  echo "wrk -t1 -d${DURATION}s (after an uncounted ${WARMUP}s run); ka50/ka200 = 50/200 keep-alive clients, close50 = 50 clients closing after every request. nginx upstream keepalive $NGINX_KEEPALIVE (keepalive_requests $NGINX_KEEPALIVE_REQUESTS, its default), HAProxy http-reuse always, Relay shipped defaults. direct = wrk straight to the origin (the client's own keep-alive: a control row). Relay's access log counted $(awk -F'\t' 'NR>1 && $2=="relay" {printf "%s%s (%s)", sep, $9, $1; sep=", "}' "$TSV") requests on new upstream connections (reused=0)."
} > "$SUM"
cat "$SUM"
log "results: $RESULTS_DIR (summary.md, runs.tsv, meta.txt, raw/)"
