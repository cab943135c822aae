#!/usr/bin/env bash
# slow-attacks.sh - does a normal client keep its latency while slow clients attack Relay?
# slowhttptest runs each attack for DURATION s against Relay (shipped reference.conf, the listener,
# upstream group and route only, no JVM flags) in front of the nginx bench origin, while a normal
# client (curl in a loop, one request every INTERVAL s, a new connection each) measures its latency.
# A run without an attack comes first, as the reference. Loopback only.
#   slowloris  slowhttptest -H: ATTACK_CONNS connections that send a header line every 10 s, never
#              ending the header (Relay's answer: header-read-timeout, 60 s by default)
#   slow-body  slowhttptest -B: PUT /sink with Content-Length 8192 whose body trickles, a few bytes
#              every 10 s; the origin reads whole bodies, so each holds an upstream connection too
#              (body-read-timeout, 60 s)
#   slow-read  slowhttptest -X: GET /64k three times per connection, read 32 bytes every 2 s
#              through a window of 512..1024 bytes (send-timeout, 60 s)
# The attacks last DURATION s, less than the timeouts: what counts is that the slow connections
# held meanwhile cost the normal client nothing, not that they are cut.
#
# Usage: mvn -q -B package -DskipTests && bench/slow-attacks.sh
# Settings (env): DURATION=30 INTERVAL=0.1 ATTACK_CONNS=1000 ATTACK_RATE=200 ATTACKS="slowloris slow-body slow-read"
#   ORIGIN_PORT=28320 RELAY_PORT=28321 RELAY_JAR=proxy-server/target/proxy-server.jar
#   RELAY_CONF_EXTRA='' (HOCON lines inside proxy { }) SERVER_CPU=1 CLIENT_CPU=0
#   RESULTS_DIR=<dir> (default $TMPDIR or /tmp, slow-attacks-results/<timestamp>)
set -Eeuo pipefail

: "${DURATION:=30}" "${INTERVAL:=0.1}" "${ATTACK_CONNS:=1000}" "${ATTACK_RATE:=200}"
: "${ATTACKS:=slowloris slow-body slow-read}" "${ORIGIN_PORT:=28320}" "${RELAY_PORT:=28321}"
: "${RELAY_CONF_EXTRA:=}" "${SERVER_CPU:=1}" "${CLIENT_CPU:=0}"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/side-by-side.sh
. "$ROOT/bench/side-by-side.sh"
bench_init slow-attacks
require_tools "slowhttptest nginx curl util-linux iproute2" slowhttptest nginx curl java taskset setsid ss
require_free_ports "$ORIGIN_PORT" "$RELAY_PORT"

pinned() { if (( PIN )); then taskset -c "$CLIENT_CPU" "$@"; else "$@"; fi; }

normal_client() {  # normal_client <out>: one line "<status> <seconds>" per request for DURATION s
  local end=$((SECONDS + DURATION))
  while (( SECONDS < end )); do
    pinned curl -s -o /dev/null --max-time 10 -w '%{http_code} %{time_total}\n' "http://$HOST:$RELAY_PORT/small" \
      >> "$1" || echo "000 10" >> "$1"
    sleep "$INTERVAL"
  done
}

attack() {  # attack <name> <out>: slowhttptest in the background, CLIENT_PID
  local common=(-c "$ATTACK_CONNS" -r "$ATTACK_RATE" -l "$DURATION" -p 10)
  case $1 in
    slowloris) pinned slowhttptest -H "${common[@]}" -i 10 -u "http://$HOST:$RELAY_PORT/small" > "$2" 2>&1 & ;;
    slow-body) pinned slowhttptest -B "${common[@]}" -i 10 -s 8192 -t PUT -u "http://$HOST:$RELAY_PORT/sink" > "$2" 2>&1 & ;;
    slow-read) pinned slowhttptest -X "${common[@]}" -k 3 -n 2 -w 512 -y 1024 -z 32 \
                 -u "http://$HOST:$RELAY_PORT/64k" > "$2" 2>&1 & ;;
    *) die "unknown attack $1 (expected: slowloris slow-body slow-read)" ;;
  esac
  CLIENT_PID=$!
}

TSV=$RESULTS_DIR/runs.tsv
printf 'attack\trequests\tp50_ms\tp99_ms\tmax_ms\terrors\tattack_connected\n' > "$TSV"
record() {  # record <attack> <normal-client out> <slowhttptest out or ->
  local n e p50 p99 max connected=-
  awk '{print $2 * 1000}' "$2" | sort -g > "$2.sorted"
  n=$(wc -l < "$2.sorted"); e=$(awk '$1 != "200" {e++} END {print e + 0}' "$2")
  p50=$(awk -v n="$n" 'NR == int(n * 0.50 + 0.5) {printf "%.1f", $1}' "$2.sorted")
  p99=$(awk -v n="$n" 'NR == int(n * 0.99 + 0.5) {printf "%.1f", $1}' "$2.sorted")
  max=$(tail -1 "$2.sorted" | awk '{printf "%.1f", $1}')
  # slowhttptest's last status line "connected: N": the attack connections it held at the end.
  [[ "$3" != - ]] && connected=$(grep -a 'connected:' "$3" | tail -1 | awk '{print $NF}')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$n" "$p50" "$p99" "$max" "$e" "${connected:--}" >> "$TSV"
  log "$1: $n requests, p50 $p50 ms, p99 $p99 ms, max $max ms, errors $e, attack connections held ${connected:--}"
}

start_origin
wait_http "http://$HOST:$ORIGIN_PORT/small" 10 "$ORIGIN_PID"
start_relay relay "$RELAY_PORT" "" "$RELAY_CONF_EXTRA"
RELAY_PID=$LAST_PID
wait_http "http://$HOST:$RELAY_PORT/small" 120 "$RELAY_PID"
{
  host_meta
  echo "versions: $(nginx -v 2>&1 | sed 's/.*: //'); $(java -version 2>&1 | head -1); $(slowhttptest -h 2>&1 | head -1 | sed 's/.*- //')"
  echo "attacks: $ATTACKS, ${DURATION}s each, $ATTACK_CONNS connections at $ATTACK_RATE/s; normal client: curl every ${INTERVAL}s; pin=$PIN"
  echo "relay: java -jar $RELAY_JAR -c relay.conf: $(tr -s ' \n' ' ' < "$T/relay.conf")"
} > "$RESULTS_DIR/meta.txt"
cat "$RESULTS_DIR/meta.txt" >&2

# Warm the JIT so that the reference run is not the one that pays for it.
DURATION=10 normal_client "$RESULTS_DIR/raw/warmup.txt"
normal_client "$RESULTS_DIR/raw/normal_none.txt"
record none "$RESULTS_DIR/raw/normal_none.txt" -
for a in $ATTACKS; do
  attack "$a" "$RESULTS_DIR/raw/attack_$a.txt"
  sleep 5   # let the attack open its connections first
  normal_client "$RESULTS_DIR/raw/normal_$a.txt"
  wait "$CLIENT_PID" || log "slowhttptest ($a) exited non-zero"
  CLIENT_PID=
  kill -0 "$RELAY_PID" 2>/dev/null || die "Relay died during $a: $(tail -5 "$T/relay.err")"
  record "$a" "$RESULTS_DIR/raw/normal_$a.txt" "$RESULTS_DIR/raw/attack_$a.txt"
  sleep 2
done
log "$(relay_facts relay)"

SUM=$RESULTS_DIR/summary.md
{
  echo "| attack | normal-client requests | p50 ms | p99 ms | max ms | errors | attack connections held at the end |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' 'NR>1 { printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7 }' "$TSV"
  echo
  echo "Relay (shipped reference.conf, no JVM flags) over nginx; each attack ${DURATION}s with $ATTACK_CONNS connections; normal client: curl, a new connection every ${INTERVAL}s."
} > "$SUM"
cat "$SUM"
log "results: $RESULTS_DIR (summary.md, runs.tsv, meta.txt, raw/)"
