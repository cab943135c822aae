#!/usr/bin/env bash
# conn-mem.sh - memory per idle keep-alive client connection of nginx, HAProxy and Relay (loopback only).
#
# For each proxy in turn: bench/idle-clients.py (pinned to CLIENT_CPU) opens N connections, sends
# one GET /small on each and reads its response, so that every connection has served a request and
# now sits idle in keep-alive; 2 s later the proxy's memory is read again and
#   bytes per connection = (after - before) / N
# for the RSS (VmRSS) and, where the kernel has /proc/PID/smaps_rollup, the PSS of the proxy's
# process tree (nginx: master + worker). The first pass is the one the reference harness reports.
# Then the connections are closed and it is done a second time, in a process that has served N
# connections before: what the first pass grew once (heap pages first touched, JIT code, pools)
# shows as a smaller second delta; a JVM whose heap is still growing can show a larger one. The
# kernel's socket buffers are in neither (they are not the process's).
#
# Usage: mvn -q -B package -DskipTests && bench/conn-mem.sh
# Settings (env): N=5000 TARGETS="nginx haproxy relay" SERVER_CPU=1 CLIENT_CPU=0
#   ORIGIN_PORT=28300 NGINX_PORT=28301 HAPROXY_PORT=28302 RELAY_PORT=28303
#   RELAY_JAR=proxy-server/target/proxy-server.jar RELAY_CONF_EXTRA='' (HOCON lines inside proxy { })
#   RESULTS_DIR=<dir> (default $TMPDIR or /tmp, conn-mem-results/<timestamp>)
# The open-files limit is raised to its hard limit (the proxies inherit it); N must stay below it.
set -Eeuo pipefail

: "${N:=5000}" "${TARGETS:=nginx haproxy relay}" "${SERVER_CPU:=1}" "${CLIENT_CPU:=0}"
: "${ORIGIN_PORT:=28300}" "${NGINX_PORT:=28301}" "${HAPROXY_PORT:=28302}" "${RELAY_PORT:=28303}"
: "${RELAY_CONF_EXTRA:=}"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/side-by-side.sh
. "$ROOT/bench/side-by-side.sh"
bench_init conn-mem
require_tools "nginx haproxy curl python3 util-linux iproute2" nginx haproxy curl python3 java taskset setsid ss
require_free_ports "$ORIGIN_PORT" "$NGINX_PORT" "$HAPROXY_PORT" "$RELAY_PORT"
ulimit -n "$(ulimit -Hn)"
(( N + 200 < $(ulimit -n) )) || die "N=$N needs more open files than ulimit -n $(ulimit -n) allows"

read -r -a TARGETS <<<"$TARGETS"
declare -A PORT=( [nginx]=$NGINX_PORT [haproxy]=$HAPROXY_PORT [relay]=$RELAY_PORT ) SPID=()
start_origin
wait_http "http://$HOST:$ORIGIN_PORT/small" 10 "$ORIGIN_PID"
HAPROXY_MAXCONN=$((N + 100)) start_targets
{
  host_meta
  echo "versions: $(nginx -v 2>&1 | sed 's/.*: //'); $(haproxy -v | head -1 | cut -d' ' -f1-3); $(java -version 2>&1 | head -1); $(python3 --version)"
  echo "N=$N idle keep-alive connections, one GET /small each; client on cpu $CLIENT_CPU, servers on cpu $SERVER_CPU (pin=$PIN); ulimit -n $(ulimit -n)"
  [[ -f "$T/relay.conf" ]] && echo "relay: java -jar $RELAY_JAR -c relay.conf: $(tr -s ' \n' ' ' < "$T/relay.conf")"
} > "$RESULTS_DIR/meta.txt"
cat "$RESULTS_DIR/meta.txt" >&2

hold_connections() {  # hold_connections <target> <pass>: N idle connections open; sets R0 R1 P0 P1 (KiB)
  local t=$1
  sleep 1
  R0=$(tree_kb "${SPID[$t]}" VmRSS); P0=$(tree_kb "${SPID[$t]}" Pss)
  open_idle_clients "${PORT[$t]}" "$N" "$CLIENT_CPU" "$t, pass $2"
  sleep 2
  R1=$(tree_kb "${SPID[$t]}" VmRSS); P1=$(tree_kb "${SPID[$t]}" Pss)
  close_idle_clients
  log "$t pass $2: RSS $R0 -> $R1 KiB, PSS $P0 -> $P1 KiB for $N connections"
}
per_conn() { awk -v a="$1" -v b="$2" -v n="$N" 'BEGIN{printf "%.0f", (b-a)*1024/n}'; }

TSV=$RESULTS_DIR/runs.tsv
printf 'target\tpass\tn\trss_before_kb\trss_after_kb\tpss_before_kb\tpss_after_kb\trss_bytes_per_conn\tpss_bytes_per_conn\n' > "$TSV"
for t in "${TARGETS[@]}"; do
  for pass in 1 2; do
    hold_connections "$t" "$pass"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$pass" "$N" "$R0" "$R1" "$P0" "$P1" \
      "$(per_conn "$R0" "$R1")" "$(per_conn "$P0" "$P1")" >> "$TSV"
  done
done

SUM=$RESULTS_DIR/summary.md
{
  echo "| target | RSS MiB before → with $N idle | RSS bytes/conn (1st pass) | PSS bytes/conn (1st pass) | RSS bytes/conn (2nd pass) | PSS bytes/conn (2nd pass) |"
  echo "|---|---:|---:|---:|---:|---:|"
  awk -F'\t' '$2==1 { rss[$1]=sprintf("%.0f → %.0f", $4/1024, $5/1024); r1[$1]=$8; p1[$1]=$9; order[++n]=$1 }
              $2==2 { r2[$1]=$8; p2[$1]=$9 }
              END { for (i=1;i<=n;i++) { t=order[i]; printf "| %s | %s | %s | %s | %s | %s |\n", t, rss[t], r1[t], p1[t], r2[t], p2[t] } }' "$TSV"
  echo
  echo "$N keep-alive client connections, each after one GET /small, held idle; (memory with them - memory before) / $N, process tree of the proxy; the 2nd pass repeats it after the first connections closed. Relay: shipped defaults, no JVM flags."
} > "$SUM"
cat "$SUM"
log "results: $RESULTS_DIR (summary.md, runs.tsv, meta.txt)"
