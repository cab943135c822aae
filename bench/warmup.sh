#!/usr/bin/env bash
# warmup.sh - how a fresh Relay reaches its steady state under load, step by step, beside nginx
# (loopback only): what the JIT compilers and the collector take from the core the proxy shares
# with the origin while the proxy serves, and what that does to req/s and the tail.
#
# A fresh Relay (java -jar proxy-server.jar -c FILE, no JVM flags, the shipped reference.conf) and
# nginx as proxies to one nginx origin, all pinned to SERVER_CPU, wrk on WRK_CPU, as proxy-bench.sh
# runs them. nginx first, NGINX_STEPS steps of STEP s (its figures do not move: the reference), then
# Relay from its first request, STEPS steps of STEP s back to back, each on new connections (a new
# wrk), so every step starts with 50 connections opened and ends with them closed, as the rounds
# of proxy-bench.sh and ../shared/bench do. Per step: req/s, p50, p99 and the slowest request; the
# CPU of Relay's threads by kind, from /proc/PID/task (the event loops, the C2 and C1 compilers, the
# VM thread, which runs the serial collector's pauses and the safepoints, the access log's writer,
# the rest); the compilations the JVM finished and its young collections with their pause time
# (jcmd PerfCounter.print). Nothing is added to the JVM: no flag, no agent, no recording.
# To see which methods the compilers recompile and why (deoptimizations), run a step with a JFR
# recording of jdk.Compilation and jdk.Deoptimization (docs/benchmarks.md, issue 11 tenth pass).
#
# Usage: mvn -q -B package -DskipTests && bench/warmup.sh          (or bench/run.sh warmup)
# Settings (env): PATH_=/small CONNS=50 STEP=10 STEPS=12 NGINX_STEPS=3 WRK_CPU=0 SERVER_CPU=1
#   ORIGIN_PORT=28350 NGINX_PORT=28351 RELAY_PORT=28353 RELAY_JAR=proxy-server/target/proxy-server.jar
#   RELAY_CONF_EXTRA='' (HOCON lines inside proxy { }) RESULTS_DIR=<dir> (default $TMPDIR or /tmp,
#   warmup-results/<timestamp>)
set -Eeuo pipefail
: "${PATH_:=/small}" "${CONNS:=50}" "${STEP:=10}" "${STEPS:=12}" "${NGINX_STEPS:=3}"
: "${WRK_CPU:=0}" "${SERVER_CPU:=1}" "${ORIGIN_PORT:=28350}" "${NGINX_PORT:=28351}" "${RELAY_PORT:=28353}"
: "${RELAY_CONF_EXTRA:=}"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/side-by-side.sh
. "$ROOT/bench/side-by-side.sh"
bench_init warmup
require_tools "wrk nginx curl util-linux iproute2" wrk nginx curl java jcmd taskset setsid ss
require_free_ports "$ORIGIN_PORT" "$NGINX_PORT" "$RELAY_PORT"
declare -A PORT=([nginx]=$NGINX_PORT [relay]=$RELAY_PORT) SPID=()

thread_ms() {  # thread_ms <pid>: "<kind> <CPU ms>" per kind of thread, summed over the process's threads
  local t
  for t in /proc/"$1"/task/*; do
    printf '%s\t%s\n' "$(cat "$t/comm" 2>/dev/null)" "$(sed 's/^.*) //' "$t/stat" 2>/dev/null | awk '{print $12+$13}')"
  done | awk -F'\t' -v hz="$CLK_TCK" '
    $2 == "" { next }
    { k = $1 ~ /^C2 Compiler/ ? "c2" : $1 ~ /^C1 Compiler/ ? "c1" : $1 == "VM Thread" ? "vm" \
        : $1 ~ /^relay-access-lo/ ? "log" : $1 ~ /^relay-(accept|worker)/ ? "loop" : "other"; ms[k] += $2 * 1000 / hz }
    END { for (k in ms) print k, ms[k] }'
}
jvm_counters() {  # jvm_counters <pid>: "compiles <n>", "ygc <n>", "ygc_ms <ms>" from the JVM's perf counters
  jcmd "$1" PerfCounter.print 2>/dev/null | awk -F= '
    $1 == "sun.os.hrt.frequency" { hz = $2 } $1 == "sun.ci.totalCompiles" { c = $2 }
    $1 == "sun.gc.collector.0.invocations" { n = $2 } $1 == "sun.gc.collector.0.time" { t = $2 }
    END { print "compiles", c; print "ygc", n; print "ygc_ms", (hz > 0 ? t * 1000 / hz : 0) }'
}
field() { awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$1"; }
d() {  # d <threads|jvm> <key>: the step's growth of <key>, from $T/<kind>0 (before) to $T/<kind>1 (after)
  awk -v a="$(field "$T/$1"0 "$2")" -v b="$(field "$T/$1"1 "$2")" 'BEGIN { printf "%.0f", b - a }'
}

{
  host_meta
  echo "versions: $(nginx -v 2>&1 | sed 's/.*: //'); wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'); $(java -version 2>&1 | head -1)"
  echo "wrk -t1 -c$CONNS -d${STEP}s --latency $PATH_, a new wrk per step; nginx $NGINX_STEPS steps, then a fresh Relay $STEPS steps"
  echo "relay: java -jar $RELAY_JAR -c relay.conf"
} > "$RESULTS_DIR/meta.txt"

start_origin
TARGETS=(nginx relay)
start_targets
log "relay ready (it answered one request); $STEPS steps of ${STEP}s from now"
TSV=$RESULTS_DIR/steps.tsv
echo -e "target\tstep\tseconds\trps\tp50_ms\tp99_ms\tmax_ms\terrors\tcompiles\tc2_ms\tc1_ms\tvm_ms\tygc\tygc_pause_ms\tloop_ms\tlog_ms\tother_ms" > "$TSV"
for target in nginx relay; do
  steps=$NGINX_STEPS; [[ $target == relay ]] && steps=$STEPS
  pid=${SPID[$target]}
  start=$(date +%s)
  [[ $target == relay ]] && { thread_ms "$pid" > "$T/threads0"; jvm_counters "$pid" > "$T/jvm0"; }
  for s in $(seq 1 "$steps"); do
    out=$RESULTS_DIR/raw/$target-$s.txt
    run_client "$target" "$out" "$WRK_CPU" wrk -t1 -c"$CONNS" -d"${STEP}s" --latency "http://$HOST:${PORT[$target]}$PATH_"
    read -r rps p50 p99 _ errors <<< "$(parse_wrk "$out")"
    max=$(awk '/^ *Latency/ && !/Distribution/ { v = $4; n = v; sub(/[a-z]+$/, "", n); u = v; sub(/^[0-9.]+/, "", u);
           print (u == "us" ? n / 1000 : u == "s" ? n * 1000 : n + 0); exit }' "$out")
    row="$target\t$s\t$(( $(date +%s) - start ))\t$rps\t$p50\t$p99\t$max\t$errors"
    if [[ $target == relay ]]; then
      thread_ms "$pid" > "$T/threads1"; jvm_counters "$pid" > "$T/jvm1"
      row+="\t$(d jvm compiles)\t$(d threads c2)\t$(d threads c1)\t$(d threads vm)\t$(d jvm ygc)\t$(d jvm ygc_ms)\t$(d threads loop)\t$(d threads log)\t$(d threads other)"
      mv "$T/threads1" "$T/threads0"; mv "$T/jvm1" "$T/jvm0"
    else
      row+="\t-\t-\t-\t-\t-\t-\t-\t-\t-"
    fi
    echo -e "$row" >> "$TSV"
    log "$target step $s: $rps req/s, p99 $p99 ms, max $max ms$([[ $target == relay ]] && echo ", C2 $(awk -F'\t' 'END { print $10 }' "$TSV") ms")"
  done
done

{
  echo "| target | step | s | req/s | p50 ms | p99 ms | max ms | errors | compilations | C2 CPU ms | C1 CPU ms | VM thread CPU ms | young GCs | their pauses ms | event loops CPU ms | access log CPU ms | other CPU ms |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' 'NR > 1 { printf "| %s |", $1; for (i = 2; i <= NF; i++) printf " %s |", $i; printf "\n" }' "$TSV"
  echo
  echo "wrk -t1 -c$CONNS -d${STEP}s --latency on $PATH_ on cpu $WRK_CPU, a new wrk (new connections) per step; origin and proxies on cpu $SERVER_CPU; s: seconds since the target's first step began."
  echo "Relay: java -jar proxy-server.jar -c FILE, no JVM flags, shipped defaults, fresh: its first step starts after one request. CPU per kind of thread from /proc (VM thread: the serial collector's pauses and the safepoints); compilations and young GCs from the JVM's perf counters."
} > "$RESULTS_DIR/summary.md"
cat "$RESULTS_DIR/summary.md"
log "results: $RESULTS_DIR (summary.md, steps.tsv, meta.txt, raw/)"
