#!/usr/bin/env bash
# ops-bench.sh - Relay under load while operations happen: a backend dying, live reloads, a
# zero-downtime upgrade. What counts is what the clients saw: requests, non-2xx responses and
# socket errors (wrk), not the rate.
#
# Two nginx backends (the bench origin twice) behind Relay, round robin: java -jar, no JVM flags, the
# listener, the upstream group, the route and an admin listener (for POST /reload); the rest is the
# shipped reference.conf. wrk -t$THREADS -c$CONNS -d$DURATION --latency on CPU $WRK_CPU, servers on
# CPU $SERVER_CPU, after a WARMUP-second run. Scenarios (SCENARIOS):
#   failover  two runs: both backends alive, then the second stopped (its port refuses connections):
#             a request that meets it is retried on the other, so no client should see an error
#   reload    RELOADS reloads during one run, RELOAD_INTERVAL s apart, alternating two configurations
#             (both backends at weight 1 / the first at weight 3): every 4th by SIGHUP, the others by
#             POST /reload on the admin listener
#   upgrade   UPGRADE_AT s into the run, java -jar proxy-server.jar -c FILE --upgrade: the new process
#             takes the listening sockets over, the old one drains and must exit with status 0
#
# Usage: mvn -q -B package -DskipTests && bench/ops-bench.sh
# Settings (env): DURATION=30 WARMUP=10 THREADS=2 CONNS=32 RELOADS=20 RELOAD_INTERVAL=1.2 UPGRADE_AT=10
#   SCENARIOS="failover reload upgrade" WRK_CPU=0 SERVER_CPU=1
#   ORIGIN_PORT=28310 ORIGIN2_PORT=28311 RELAY_PORT=28312 ADMIN_PORT=28313
#   RELAY_JAR=proxy-server/target/proxy-server.jar RELAY_CONF_EXTRA='' (HOCON lines inside proxy { })
#   RESULTS_DIR=<dir> (default $TMPDIR or /tmp, ops-bench-results/<timestamp>)
set -Eeuo pipefail

: "${DURATION:=30}" "${WARMUP:=10}" "${THREADS:=2}" "${CONNS:=32}" "${RELOADS:=20}" "${RELOAD_INTERVAL:=1.2}"
: "${UPGRADE_AT:=10}" "${SCENARIOS:=failover reload upgrade}" "${WRK_CPU:=0}" "${SERVER_CPU:=1}"
: "${ORIGIN_PORT:=28310}" "${ORIGIN2_PORT:=28311}" "${RELAY_PORT:=28312}" "${ADMIN_PORT:=28313}"
: "${RELAY_CONF_EXTRA:=}"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/side-by-side.sh
. "$ROOT/bench/side-by-side.sh"
bench_init ops-bench
require_tools "wrk nginx curl util-linux iproute2" wrk nginx curl java taskset setsid ss
require_free_ports "$ORIGIN_PORT" "$ORIGIN2_PORT" "$RELAY_PORT" "$ADMIN_PORT"

ADMIN="admin.address = \"$HOST:$ADMIN_PORT\"
  $RELAY_CONF_EXTRA"
EVEN="\"$HOST:$ORIGIN_PORT\", \"$HOST:$ORIGIN2_PORT\""
UNEVEN="{ address = \"$HOST:$ORIGIN_PORT\", weight = 3 }, \"$HOST:$ORIGIN2_PORT\""
declare -A SPID=()
start_backends() {  # both nginx backends; BACKEND2_PID
  start_origin; wait_http "http://$HOST:$ORIGIN_PORT/small" 10 "$ORIGIN_PID"
  start_origin origin2 "$ORIGIN2_PORT"; BACKEND2_PID=$LAST_PID
  wait_http "http://$HOST:$ORIGIN2_PORT/small" 10 "$BACKEND2_PID"
}
start_proxy() {  # Relay over both backends, waited for; SPID[relay]
  RELAY_BACKENDS=$EVEN start_relay relay "$RELAY_PORT" "" "$ADMIN"
  SPID[relay]=$LAST_PID
  wait_http "http://$HOST:$RELAY_PORT/small" 120 "${SPID[relay]}"
}
exit_status() {  # exit_status <pid> <seconds>: waits for a child of this shell to end; EXIT_STATUS
  local deadline=$((SECONDS + $2))
  while kill -0 "$1" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.2; done
  kill -0 "$1" 2>/dev/null && die "process $1 still running after $2 s"
  EXIT_STATUS=0; wait "$1" || EXIT_STATUS=$?
}
load() {  # load <out> <seconds>: wrk in the background, CLIENT_PID; wait_load collects it
  if (( PIN )); then taskset -c "$WRK_CPU" wrk -t"$THREADS" -c"$CONNS" -d"$2s" --latency "http://$HOST:$RELAY_PORT/small" > "$1" 2>&1 &
  else wrk -t"$THREADS" -c"$CONNS" -d"$2s" --latency "http://$HOST:$RELAY_PORT/small" > "$1" 2>&1 & fi
  CLIENT_PID=$!
}
wait_load() { wait "$CLIENT_PID" || log "wrk exited non-zero"; CLIENT_PID=; }

TSV=$RESULTS_DIR/runs.tsv
printf 'scenario\toperation\trequests\trps\tp50_ms\tp99_ms\terrors\tnon2xx\tsocket_errors\n' > "$TSV"
record() {  # record <scenario> <operation> <wrk output>
  local rps p50 p99 reqs err non2xx sockerr
  read -r rps p50 p99 reqs err <<<"$(parse_wrk "$3")"
  non2xx=$(awk '/Non-2xx/{print $NF}' "$3"); sockerr=$(awk '/Socket errors:/{gsub(/,/,""); print $4+$6+$8+$10}' "$3")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$reqs" "$rps" "$p50" "$p99" "$err" "${non2xx:-0}" "${sockerr:-0}" >> "$TSV"
  log "$1 ($2): $reqs requests, $rps req/s, p99 $p99 ms, non-2xx ${non2xx:-0}, socket errors ${sockerr:-0}"
}
warm() { load "$RESULTS_DIR/raw/wrk_warmup_$1.txt" "$WARMUP"; wait_load; }

start_backends
start_proxy
{
  host_meta
  echo "versions: $(nginx -v 2>&1 | sed 's/.*: //'); $(java -version 2>&1 | head -1); wrk -t$THREADS -c$CONNS -d${DURATION}s on cpu $WRK_CPU, servers on cpu $SERVER_CPU (pin=$PIN)"
  echo "relay: java -jar $RELAY_JAR -c relay.conf: $(tr -s ' \n' ' ' < "$T/relay.conf")"
} > "$RESULTS_DIR/meta.txt"
cat "$RESULTS_DIR/meta.txt" >&2

for sc in $SCENARIOS; do
  case $sc in
    failover)
      warm failover
      load "$RESULTS_DIR/raw/wrk_failover_alive.txt" "$DURATION"; wait_load
      record failover "both backends alive" "$RESULTS_DIR/raw/wrk_failover_alive.txt"
      kill -TERM -- "-$BACKEND2_PID"; exit_status "$BACKEND2_PID" 10
      log "the second backend stopped (exit status $EXIT_STATUS)"
      load "$RESULTS_DIR/raw/wrk_failover_refused.txt" "$DURATION"; wait_load
      record failover "the second refuses connections" "$RESULTS_DIR/raw/wrk_failover_refused.txt"
      start_origin origin2 "$ORIGIN2_PORT"; BACKEND2_PID=$LAST_PID
      wait_http "http://$HOST:$ORIGIN2_PORT/small" 10 "$BACKEND2_PID" ;;
    reload)
      warm reload
      posted=0 accepted=0 hups=0
      load "$RESULTS_DIR/raw/wrk_reload.txt" "$DURATION"
      for i in $(seq 1 "$RELOADS"); do
        sleep "$RELOAD_INTERVAL"
        if (( i % 2 )); then backends=$UNEVEN; else backends=$EVEN; fi
        RELAY_BACKENDS=$backends write_relay_conf relay "$RELAY_PORT" "" "$ADMIN"
        if (( i % 4 == 0 )); then kill -HUP "${SPID[relay]}"; hups=$((hups + 1))
        else
          posted=$((posted + 1))
          code=$(curl -s -o "$RESULTS_DIR/raw/reload_$i.txt" -w '%{http_code}' -X POST "http://$HOST:$ADMIN_PORT/reload" || true)
          [[ "$code" == 200 ]] && accepted=$((accepted + 1))
        fi
      done
      wait_load
      record reload "$RELOADS reloads, ${RELOAD_INTERVAL}s apart ($posted POST /reload, $accepted answered 200; $hups SIGHUP)" "$RESULTS_DIR/raw/wrk_reload.txt" ;;
    upgrade)
      warm upgrade
      load "$RESULTS_DIR/raw/wrk_upgrade.txt" "$DURATION"
      sleep "$UPGRADE_AT"
      old=${SPID[relay]}
      start_server relay-next java -jar "$RELAY_JAR" -c "$T/relay.conf" --upgrade
      SPID[relay]=$LAST_PID
      wait_load
      kill -0 "${SPID[relay]}" 2>/dev/null || die "the upgraded process exited: $(tail -5 "$T/relay-next.out" "$T/relay-next.err")"
      exit_status "$old" 60
      record upgrade "one upgrade ${UPGRADE_AT}s in (the old process exited with status $EXIT_STATUS)" "$RESULTS_DIR/raw/wrk_upgrade.txt" ;;
    *) die "unknown scenario $sc (expected: failover reload upgrade)" ;;
  esac
done

SUM=$RESULTS_DIR/summary.md
{
  echo "| scenario | operation during the run | requests | req/s | p50 ms | p99 ms | non-2xx | socket errors |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' 'NR>1 { printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $8, $9 }' "$TSV"
  echo
  echo "Relay (shipped defaults, no JVM flags) over two nginx backends, round robin; wrk -t$THREADS -c$CONNS -d${DURATION}s after a ${WARMUP}s warm-up."
} > "$SUM"
cat "$SUM"
log "results: $RESULTS_DIR (summary.md, runs.tsv, meta.txt, raw/)"
