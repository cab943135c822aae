#!/usr/bin/env bash
# upgrade-under-load.sh - the zero-downtime upgrade row of docs/benchmarks.md ("Live reload and
# zero-downtime upgrade under load"): wrk through Relay while a second process, started with
# --upgrade, takes the listening socket over; the old one stops accepting, drains and must exit 0.
#
#   origin   plain nginx, worker_processes 1 (bench/side-by-side.sh): GET /small -> 100-byte body
#   relay    java -jar proxy-server/target/proxy-server.jar -c FILE, no JVM flags, shipped defaults
#            but the access log off; transport FROM, then the upgraded process with transport TO
#
# Prints the transports each process ran, wrk's totals (requests, socket errors, non-2xx) and the
# old process's exit status; exits 1 when a request failed or the old process did not exit 0.
#
# Usage: mvn -q -B package -DskipTests && bench/upgrade-under-load.sh
# Settings (env): DURATION=30 UPGRADE_AT=10 (seconds into the run) THREADS=2 CONNS=32
#   CLOSE=0 (1: every request on a new connection, Connection: close) FROM=auto TO=auto
#   (auto, io_uring or epoll) WRK_CPU=0 SERVER_CPU=1 ORIGIN_PORT=28190 RELAY_PORT=28191
#   RELAY_JAR=proxy-server/target/proxy-server.jar
#   RESULTS_DIR=<dir> (default $TMPDIR or /tmp, upgrade-results/<timestamp>)
set -Eeuo pipefail

: "${DURATION:=30}" "${UPGRADE_AT:=10}" "${THREADS:=2}" "${CONNS:=32}" "${CLOSE:=0}"
: "${FROM:=auto}" "${TO:=auto}" "${WRK_CPU:=0}" "${SERVER_CPU:=1}"
: "${ORIGIN_PORT:=28190}" "${RELAY_PORT:=28191}"
HOST=127.0.0.1
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${RELAY_JAR:=$ROOT/proxy-server/target/proxy-server.jar}"
: "${RESULTS_DIR:=${TMPDIR:-/tmp}/upgrade-results/$(date +%Y%m%d-%H%M%S)}"
# shellcheck source=bench/side-by-side.sh
. "$ROOT/bench/side-by-side.sh"
bench_init upgrade-under-load
require_tools "wrk nginx curl util-linux iproute2" wrk nginx curl java taskset setsid ss
require_free_ports "$ORIGIN_PORT" "$RELAY_PORT"
(( UPGRADE_AT < DURATION )) || die "UPGRADE_AT ($UPGRADE_AT) must be less than DURATION ($DURATION)"

relay_conf() {  # relay_conf <transport>: $T/relay.conf, upgrades on (socket and pid file in $T)
  cat > "$T/relay.conf" <<EOF
proxy {
  listeners = [ "$HOST:$RELAY_PORT" ]
  upstreams { origin { backends = [ "$HOST:$ORIGIN_PORT" ] } }
  routes = [ { upstream = origin } ]
  server { access-log = false, transport = $1, upgrade-socket = "$T/upgrade.sock", pid-file = "$T/relay.pid", grace-period = 10s }
}
EOF
}

wait_line() {  # wait_line <name> <text> <seconds> <pid>: until the process's output has a line with <text>
  local deadline=$((SECONDS + $3))
  until grep -qF -- "$2" "$T/$1.out" 2>/dev/null; do
    kill -0 "$4" 2>/dev/null || { cat "$T/$1.out" "$T/$1.err" >&2 || true; die "$1 (pid $4) exited"; }
    (( SECONDS < deadline )) || die "$1: no '$2' after $3 s"
    sleep 0.2
  done
}

transport_of() { sed -n 's/.*server bootstrapped: transport \([a-z_]*\),.*/\1/p' "$T/$1.out" | head -1; }

start_origin
relay_conf "$FROM"
start_server relay-old java -jar "$RELAY_JAR" -c "$T/relay.conf"
OLD_PID=$LAST_PID
wait_line relay-old "written to $T/relay.pid" 120 "$OLD_PID"
status=$(curl -s -o /dev/null -w '%{http_code}' "http://$HOST:$RELAY_PORT/small")
[[ "$status" == 200 ]] || die "relay: /small returned $status"
log "old relay (pid $OLD_PID) on $(transport_of relay-old); wrk for ${DURATION}s, the upgrade ${UPGRADE_AT}s in"

wrk_args=(-t"$THREADS" -c"$CONNS" -d"${DURATION}s")
(( CLOSE )) && wrk_args+=(-H "Connection: close")
if (( PIN )); then taskset -c "$WRK_CPU" wrk "${wrk_args[@]}" "http://$HOST:$RELAY_PORT/small" > "$RESULTS_DIR/wrk.txt" 2>&1 &
else wrk "${wrk_args[@]}" "http://$HOST:$RELAY_PORT/small" > "$RESULTS_DIR/wrk.txt" 2>&1 & fi
CLIENT_PID=$!
sleep "$UPGRADE_AT"

relay_conf "$TO"
start_server relay-new java -jar "$RELAY_JAR" -c "$T/relay.conf" --upgrade
NEW_PID=$LAST_PID
wait_line relay-new "upgrade complete" 120 "$NEW_PID"
log "new relay (pid $NEW_PID) on $(transport_of relay-new) took over"
old_rc=0
wait "$OLD_PID" || old_rc=$?
wait "$CLIENT_PID" || log "wrk exited non-zero"
CLIENT_PID=
cp "$T/relay-old.out" "$T/relay-new.out" "$RESULTS_DIR/raw/"

requests=$(awk '/requests in/ {print $1}' "$RESULTS_DIR/wrk.txt")
socket_errors=$(awk '/Socket errors/ {for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) n += $i} END {print n + 0}' \
  "$RESULTS_DIR/wrk.txt")
non2xx=$(awk '/Non-2xx/ {print $NF}' "$RESULTS_DIR/wrk.txt")
{
  host_meta
  echo "old: $(transport_of relay-old), new: $(transport_of relay-new); wrk ${wrk_args[*]}"
  echo "| requests | socket errors | non-2xx | old process exit |"
  echo "|---:|---:|---:|---:|"
  echo "| ${requests:-0} | ${socket_errors:-0} | ${non2xx:-0} | $old_rc |"
} | tee "$RESULTS_DIR/summary.md"
[[ "${socket_errors:-0}" == 0 && "${non2xx:-0}" == 0 && "$old_rc" == 0 && -n "$requests" ]]
