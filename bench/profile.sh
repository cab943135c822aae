#!/usr/bin/env bash
# profile.sh - where Relay's time and allocation go on /small: a JFR recording of the shipped jar,
# run as users run it (java -jar … -c FILE, no flags but the recording), under wrk, then a summary:
#   - CPU: the top frames by samples, inclusive (a frame counts once per sample it is in) and self;
#   - allocation per proxied request: bytes the event-loop threads allocated during the recording
#     (jdk.ThreadAllocationStatistics, exact per thread) divided by the requests served in it;
#   - allocation sites: jdk.ObjectAllocationSample weights by class and by the first Relay/Netty frames.
# Loopback only; nginx is the origin (same /small as proxy-bench.sh); everything stopped on exit.
#
# Usage: mvn -q -B package -DskipTests && bench/profile.sh
# Settings (env): DURATION=20 (recorded seconds) WARMUP=20 CONNS=50 PATH_=/small RELAY_CONF_EXTRA=''
#   ORIGIN_PORT=28380 RELAY_PORT=28383 WRK_CPU=0 SERVER_CPU=1 TOP=25
#   RESULTS_DIR=<dir> (default $TMPDIR or /tmp, profile-results/<timestamp>; the .jfr is kept there)
set -Eeuo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
: "${DURATION:=20}" "${WARMUP:=20}" "${CONNS:=50}" "${PATH_:=/small}" "${RELAY_CONF_EXTRA:=}" "${TOP:=25}"
: "${ORIGIN_PORT:=28380}" "${RELAY_PORT:=28383}" "${WRK_CPU:=0}" "${SERVER_CPU:=1}"
: "${RELAY_JAR:=$root/proxy-server/target/proxy-server.jar}"
: "${RESULTS_DIR:=${TMPDIR:-/tmp}/profile-results/$(date +%Y%m%d-%H%M%S)}"
HOST=127.0.0.1
# shellcheck source=bench/side-by-side.sh
source "$here/side-by-side.sh"
bench_init profile
require_tools "wrk nginx curl util-linux" wrk nginx curl java jfr taskset setsid ss python3
require_free_ports "$ORIGIN_PORT" "$RELAY_PORT"

start_origin
write_relay_conf relay "$RELAY_PORT" "" "$RELAY_CONF_EXTRA"
jfr_file="$RESULTS_DIR/relay.jfr"
# The recording starts after the warm-up (JIT), with JFR's "profile" settings (10 ms CPU samples,
# allocation samples) and per-thread allocation totals every second.
cat > "$T/alloc.jfc" <<JFC
<?xml version="1.0" encoding="UTF-8"?>
<configuration version="2.0">
  <event name="jdk.ThreadAllocationStatistics"><setting name="enabled">true</setting><setting name="period">1 s</setting></event>
</configuration>
JFC
start_server relay java "-XX:StartFlightRecording=delay=${WARMUP}s,duration=${DURATION}s,filename=$jfr_file,settings=profile,settings=$T/alloc.jfc" \
  -jar "$RELAY_JAR" -c "$T/relay.conf"
RELAY_PID=$LAST_PID
wait_http "http://$HOST:$RELAY_PORT$PATH_" 60 "$RELAY_PID"
log "wrk -c$CONNS for $((WARMUP + DURATION + 2)) s on $PATH_ (the recording covers ${WARMUP}..$((WARMUP + DURATION)) s)"
taskset -c "$WRK_CPU" wrk -t1 -c"$CONNS" -d"$((WARMUP + DURATION + 2))s" "http://$HOST:$RELAY_PORT$PATH_" > "$RESULTS_DIR/raw/wrk.txt"
for _ in $(seq 1 50); do [[ -s "$jfr_file" ]] && break; sleep 0.2; done
kill -TERM "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null || true
rps=$(awk '/Requests\/sec/ {print $2}' "$RESULTS_DIR/raw/wrk.txt")
python3 "$here/jfr-summary.py" "$jfr_file" "$rps" "$TOP" | tee "$RESULTS_DIR/summary.md"
log "results: $RESULTS_DIR (summary.md, relay.jfr, raw/)"
