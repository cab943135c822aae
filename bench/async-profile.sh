#!/usr/bin/env bash
# async-profile.sh - where Relay's CPU and allocation go on /small, with async-profiler: the shipped
# jar run as users run it (java -jar … -c FILE; the only flag is the profiler agent), under wrk.
# It complements profile.sh (JFR): JFR gives the exact bytes per request, but its allocation samples
# alias with a fixed per-request pattern (one class can take 40 % of the weight); async-profiler's
# TLAB samples spread over the sites, and its CPU samples include native frames (the io_uring system
# call, the allocator, JIT-compiled stubs), so the Java share of the event loop is visible.
#
# async-profiler (tools.profiler:async-profiler from Maven Central, its linux-x64 or linux-arm64
# library) is fetched into the local Maven repository on first use. The agent starts with the
# process and writes when it exits, so the first WARMUP seconds (JIT) are in the profile: keep
# DURATION well above WARMUP. Loopback only; nginx is the origin; everything is stopped on exit.
#
# Usage: mvn -q -B package -DskipTests && bench/async-profile.sh      (or bench/run.sh async-profile)
# Settings (env): EVENT=alloc|itimer|cpu (default alloc; itimer needs no perf_events) INTERVAL=
#   (alloc: bytes between samples, default 2048; itimer/cpu: ns, default 1000000) DURATION=20
#   WARMUP=5 CONNS=50 PATH_=/small RELAY_CONF_EXTRA='' ORIGIN_PORT=28390 RELAY_PORT=28393
#   WRK_CPU=0 SERVER_CPU=1 TOP=30 ASYNC_PROFILER_VERSION=3.0 CONNECTION=keep-alive (close: wrk sends
#   Connection: close, so every request is a new client connection) RELAY_JVM_FLAGS= (extra JVM flags, for
#   an experiment: -Dsome.property=value; the shipped way is none)
#   RESULTS_DIR=<dir> (default $TMPDIR or /tmp, async-profile-results/<timestamp>)
set -Eeuo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
: "${EVENT:=alloc}" "${DURATION:=20}" "${WARMUP:=5}" "${CONNS:=50}" "${PATH_:=/small}" "${RELAY_CONF_EXTRA:=}"
: "${ORIGIN_PORT:=28390}" "${RELAY_PORT:=28393}" "${WRK_CPU:=0}" "${SERVER_CPU:=1}" "${TOP:=30}"
: "${ASYNC_PROFILER_VERSION:=3.0}" "${CONNECTION:=keep-alive}"
: "${RELAY_JAR:=$root/proxy-server/target/proxy-server.jar}"
: "${RESULTS_DIR:=${TMPDIR:-/tmp}/async-profile-results/$(date +%Y%m%d-%H%M%S)}"
if [[ -z "${INTERVAL:-}" ]]; then
  if [[ $EVENT == alloc ]]; then INTERVAL=2048; else INTERVAL=1000000; fi
fi
HOST=127.0.0.1
# shellcheck source=bench/side-by-side.sh
source "$here/side-by-side.sh"
bench_init async-profile
require_tools "wrk nginx curl util-linux maven unzip" wrk nginx curl java mvn unzip taskset setsid ss python3
require_free_ports "$ORIGIN_PORT" "$RELAY_PORT"

case $(uname -m) in
  x86_64) platform=linux-x64 ;;
  aarch64) platform=linux-arm64 ;;
  *) die "async-profiler ships no library for $(uname -m)" ;;
esac
profiler_jar=$HOME/.m2/repository/tools/profiler/async-profiler/$ASYNC_PROFILER_VERSION/async-profiler-$ASYNC_PROFILER_VERSION.jar
if [[ ! -f $profiler_jar ]]; then
  log "fetching tools.profiler:async-profiler:$ASYNC_PROFILER_VERSION from Maven Central"
  mvn -q -B dependency:get -Dartifact="tools.profiler:async-profiler:$ASYNC_PROFILER_VERSION" >&2
fi
unzip -q -o "$profiler_jar" "$platform/libasyncProfiler.so" -d "$T"
agent=$T/$platform/libasyncProfiler.so

start_origin
write_relay_conf relay "$RELAY_PORT" "" "$RELAY_CONF_EXTRA"
collapsed=$RESULTS_DIR/$EVENT.collapsed
# "threads" puts each stack under its thread's name, so the summary can keep the event loops apart.
start_server relay java ${RELAY_JVM_FLAGS:-} "-agentpath:$agent=start,event=$EVENT,interval=$INTERVAL,threads,total,collapsed,file=$collapsed" \
  -jar "$RELAY_JAR" -c "$T/relay.conf"
RELAY_PID=$LAST_PID
wait_http "http://$HOST:$RELAY_PORT$PATH_" 60 "$RELAY_PID"
log "wrk -c$CONNS (Connection: $CONNECTION) for $((WARMUP + DURATION)) s on $PATH_, $EVENT every $INTERVAL"
taskset -c "$WRK_CPU" wrk -t1 -c"$CONNS" -d"$((WARMUP + DURATION))s" -H "Connection: $CONNECTION" \
  "http://$HOST:$RELAY_PORT$PATH_" > "$RESULTS_DIR/raw/wrk.txt"
# The agent writes the profile when the JVM exits: a graceful stop, then wait for the file.
kill -TERM "$RELAY_PID"
for _ in $(seq 1 100); do [[ -s "$collapsed" ]] && ! kill -0 "$RELAY_PID" 2>/dev/null && break; sleep 0.2; done
[[ -s "$collapsed" ]] || die "no profile written (see $T/relay.err)"
rps=$(awk '/Requests\/sec/ {print $2}' "$RESULTS_DIR/raw/wrk.txt")
python3 "$here/async-summary.py" "$collapsed" "$EVENT" "$rps" "$TOP" | tee "$RESULTS_DIR/summary.md"
log "results: $RESULTS_DIR (summary.md, $EVENT.collapsed, raw/)"
