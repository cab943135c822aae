#!/usr/bin/env bash
# proxy-bench.sh - Relay side by side with nginx and HAProxy as HTTP/1.1 reverse proxies, in one run.
#
# Loopback only, every server on its own high port and in a temp dir, all stopped on exit:
#   origin   nginx, worker_processes 1: GET /small -> 100-byte body, GET /64k -> 65,536 bytes
#   direct   wrk straight to the origin (a control row: what the origin and wrk do alone)
#   nginx    nginx as proxy, worker_processes 1, upstream keepalive 64, HTTP/1.1 to the origin
#   haproxy  HAProxy, nbthread 1, mode http, http-reuse always
#   relay    java -jar proxy-server/target/proxy-server.jar -c FILE as users run it: no JVM flags,
#            FILE holds only the listener, the upstream group and the route, everything else is the
#            shipped reference.conf (access log on, to a file; zero-downtime upgrades on)
#   relay-alt  with RELAY_ALT_CONF, RELAY_ALT_JVM_FLAGS or RELAY_ALT_JAR set: a second Relay, the same FILE plus
#            those lines (for example 'server.access-log = false' for the "access log off" row in the
#            same run), started with those JVM flags (for example the launcher flags of src/dist), from
#            that jar (an earlier build, for a before/after in one run)
# For each path, each target: wrk -t$THREADS -c$CONNS -d$DURATION --latency, RUNS rounds with the
# target order rotated every round, after a warm-up (WARMUP s per target and path, CANDIDATE_WARMUP
# s for Relay: the JIT, in parts of WARMUP_PART s on new connections, see run_rounds). Reported,
# medians over the rounds: req/s and its ratio to nginx's, p50/p99,
# the proxy's CPU µs per request (utime+stime of its process tree from /proc), the origin's, RSS of
# the proxy's process tree idle and after, PSS, wrk's CPU, per-core busy and steal, and the foreign
# CPU: what the machine spent in processes this script did not start during the measurement
# (/proc/stat user+nice+system minus our process trees and wrk); a high value marks a disturbed run.
#
# CPU pinning (2 cores): wrk on CPU $WRK_CPU, the origin and the proxy under test share CPU
# $SERVER_CPU; compare ratios within one run and CPU per request, never req/s across runs.
#
# MODE (what the proxies speak on each side; a mode sets the origin, the proxies' upstream side and
# the client URL, so the TLS-listener and HTTP/2 modes of tls-bench.sh and h2-bench.sh can join):
#   http        plain HTTP client -> proxy -> plain HTTP origin (default)
#   tls-origin  plain HTTP client -> proxy -> TLS origin over pooled connections (the bench ECDSA
#               certificate): nginx proxy_pass https:// with keepalive 64 and proxy_ssl_session_reuse
#               on; HAProxy ssl verify none; Relay tls = true with the certificate as ca-file
#               (verification on); the direct row is wrk over TLS to the origin
#
# Usage: mvn -q -B package -DskipTests && bench/proxy-bench.sh
#   RELAY_ALT_CONF='server.access-log = false' bench/proxy-bench.sh     # access log on and off, one run
#   MODE=tls-origin bench/proxy-bench.sh
# Settings (env): MODE=http DURATION=10 CONNS=50 THREADS=1 RUNS=3 WARMUP=3 CANDIDATE_WARMUP=20 WARMUP_PART=5
#   PATHS="/small /64k" TARGETS="direct nginx haproxy relay" WRK_CPU=0 SERVER_CPU=1
#   ORIGIN_PORT=28280 NGINX_PORT=28281 HAPROXY_PORT=28282 RELAY_PORT=28283 RELAY_ALT_PORT=28284
#   RELAY_JAR=proxy-server/target/proxy-server.jar RELAY_CONF_EXTRA='' (HOCON lines inside proxy { })
#   RELAY_ALT_CONF='' RELAY_ALT_JAR='' NGINX_ACCESS_LOG=0 (1: nginx writes its combined access log to a file, buffered)
#   WRK_HEADER='' (one header line wrk adds to every request, e.g. 'Accept-Encoding: gzip')
#   NGINX_LOCATION_EXTRA='' (directives for nginx's proxying location, e.g. 'gzip on; gzip_types text/html;')
#   CLOSE=0 (1: wrk sends "Connection: close", a new client connection per request: accept and
#   connection set-up dominate, as with clients that do not keep connections alive)
#   RESULTS_DIR=<dir> (default $TMPDIR or /tmp, proxy-bench-results/<timestamp>) KEEP_TMP=0
# Results: RESULTS_DIR/summary.md (tables for docs/benchmarks.md), runs.tsv, meta.txt, raw/.
set -Eeuo pipefail

: "${MODE:=http}" "${DURATION:=10}" "${CONNS:=50}" "${THREADS:=1}" "${RUNS:=3}"
: "${WARMUP:=3}" "${CANDIDATE_WARMUP:=20}" "${WRK_CPU:=0}" "${SERVER_CPU:=1}"
: "${PATHS:=/small /64k}" "${TARGETS:=direct nginx haproxy relay}"
: "${ORIGIN_PORT:=28280}" "${NGINX_PORT:=28281}" "${HAPROXY_PORT:=28282}" "${RELAY_PORT:=28283}" "${RELAY_ALT_PORT:=28284}"
: "${RELAY_CONF_EXTRA:=}" "${RELAY_ALT_CONF:=}" "${RELAY_ALT_JVM_FLAGS:=}" "${NGINX_ACCESS_LOG:=0}"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/side-by-side.sh
. "$ROOT/bench/side-by-side.sh"
bench_init proxy-bench
require_tools "wrk nginx haproxy curl openssl util-linux iproute2" wrk nginx haproxy curl openssl java taskset setsid ss
require_free_ports "$ORIGIN_PORT" "$NGINX_PORT" "$HAPROXY_PORT" "$RELAY_PORT" "$RELAY_ALT_PORT"

# The second Relay joins the targets once, whether or not TARGETS already names it.
[[ -n "$RELAY_ALT_CONF$RELAY_ALT_JVM_FLAGS${RELAY_ALT_JAR:-}" && " $TARGETS " != *" relay-alt "* ]] && TARGETS="$TARGETS relay-alt"
read -r -a TARGETS <<<"$TARGETS"
declare -A PORT=( [direct]=$ORIGIN_PORT [nginx]=$NGINX_PORT [haproxy]=$HAPROXY_PORT [relay]=$RELAY_PORT [relay-alt]=$RELAY_ALT_PORT )
declare -A SPID=() IDLE_RSS=()
has_target() { [[ " ${TARGETS[*]} " == *" $1 "* ]]; }
NGINX_ACCESS_LOG_FILE= NGINX_LOG_STATE=off
[[ "$NGINX_ACCESS_LOG" == 1 ]] && NGINX_ACCESS_LOG_FILE=$T/nginx-access.log NGINX_LOG_STATE="on (combined, buffer=64k)"

# ---------- the mode: the origin's side of every proxy ----------
ORIGIN_SCHEME=http RELAY_UPSTREAM=""
case $MODE in
  http) ;;
  tls-origin)
    ORIGIN_SCHEME=https ORIGIN_TLS=1 NGINX_UPSTREAM_TLS=1 HAPROXY_UPSTREAM_TLS=1
    RELAY_UPSTREAM="tls = true, sni = \"bench.test\", ca-file = \"$T/cert.pem\"" ;;
  *) die "MODE=$MODE (expected: http or tls-origin)" ;;
esac
url() {  # url <target>: where wrk sends its requests
  if [[ "$1" == direct ]]; then echo "$ORIGIN_SCHEME://$HOST:$ORIGIN_PORT"; else echo "http://$HOST:${PORT[$1]}"; fi
}

# ---------- the servers ----------
make_certificate
start_origin
wait_http "$(url direct)/small" 10 "$ORIGIN_PID"
start_targets
# ---------- sanity: status and body size of every path through every target ----------
declare -A WANT=( [/small]=100 [/64k]=65536 [/text]=16384 )
for t in "${TARGETS[@]}"; do
  for path in $PATHS; do
    got=$(curl -sk -o /dev/null -w '%{http_code} %{size_download}' "$(url "$t")$path" || true)
    [[ "$got" == "200 ${WANT[$path]:-}" || -z "${WANT[$path]:-}" ]] || die "$t $path returned '$got'"
  done
  IDLE_RSS[$t]=$(tree_kb "${SPID[$t]}" VmRSS)
  log "$t: pid ${SPID[$t]}, $(url "$t"), RSS ${IDLE_RSS[$t]} KiB"
done

{
  host_meta
  echo "versions: $(nginx -v 2>&1 | sed 's/.*: //'); $(haproxy -v | head -1 | cut -d' ' -f1-3); $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); $(java -version 2>&1 | head -1)"
  echo "mode: $MODE; pinning: wrk -> cpu $WRK_CPU, origin and proxies -> cpu $SERVER_CPU (pin=$PIN)"
  echo "wrk -t$THREADS -c$CONNS -d${DURATION}s --latency$([[ "${CLOSE:-0}" == 1 ]] && echo ' -H "Connection: close"')${WRK_HEADER:+ -H \"$WRK_HEADER\"}; $RUNS rounds, order rotated; warm-up ${WARMUP}s per target and path, ${CANDIDATE_WARMUP}s for Relay in parts of ${WARMUP_PART:-5}s on new connections (0: one run)"
  echo "nginx access log: $NGINX_LOG_STATE; HAProxy: no log"
  for t in relay relay-alt; do
    has_target "$t" && echo "$t: java -jar $RELAY_JAR -c $t.conf: $(tr -s ' \n' ' ' < "$T/$t.conf")"
  done
  for t in "${TARGETS[@]}"; do echo "idle $t: VmRSS ${IDLE_RSS[$t]} KiB (process tree of pid ${SPID[$t]})"; done
} > "$RESULTS_DIR/meta.txt"
cat "$RESULTS_DIR/meta.txt" >&2

# ---------- measurement ----------
TSV=$RESULTS_DIR/runs.tsv
printf 'round\tpath\ttarget\trps\tp50_ms\tp99_ms\trequests\terrors\tproxy_cpu_us\torigin_cpu_us\trss_kb\tpss_kb\twrk_cpu_pct\tcpu%s_busy\tcpu%s_busy\tsteal_pct\tforeign_cpu_pct\n' \
  "$WRK_CPU" "$SERVER_CPU" > "$TSV"
run_wrk() {  # run_wrk <round> <path> <target> <seconds> [record]
  local r=$1 path=$2 t=$3 d=$4 rec=${5:-} out rps p50 p99 reqs err pc rss pss
  out="$RESULTS_DIR/raw/wrk_r${r}_${path#/}_${t}.txt"
  local close=()
  [[ "${CLOSE:-0}" == 1 ]] && close=(-H "Connection: close")
  [[ -n "${WRK_HEADER:-}" ]] && close+=(-H "$WRK_HEADER")
  run_client "$t" "$out" "$WRK_CPU" wrk -t"$THREADS" -c"$CONNS" -d"${d}s" --latency "${close[@]}" "$(url "$t")$path"
  [[ -z "$rec" ]] && return 0
  read -r rps p50 p99 reqs err <<<"$(parse_wrk "$out")"
  pc=NA rss=NA pss=NA
  if [[ "$t" != direct ]]; then
    pc=$(cpu_us_per_request "$P0" "$P1" "$reqs"); rss=$(tree_kb "${SPID[$t]}" VmRSS); pss=$(tree_kb "${SPID[$t]}" Pss)
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$path" "$t" "$rps" "$p50" "$p99" \
    "$reqs" "$err" "$pc" "$(cpu_us_per_request "$O0" "$O1" "$reqs")" "$rss" "$pss" "$CLIENT_CPU_PCT" \
    "$BUSY_CLIENT" "$BUSY_SERVER" "$STEAL" "$FOREIGN_PCT" >> "$TSV"
  log "round $r $path $t: $rps req/s p99 ${p99} ms, proxy ${pc} µs/req, errors $err, wrk ${CLIENT_CPU_PCT}%, foreign ${FOREIGN_PCT}%"
}
SCENARIOS=$PATHS
LONG_WARMUP_TARGETS="relay relay-alt"
run_rounds run_wrk

# ---------- what Relay did: transport, access-log lines; its own log lines kept ----------
for t in relay relay-alt; do
  has_target "$t" || continue
  relay_facts "$t" >> "$RESULTS_DIR/meta.txt"
  cp "$T/$t.conf" "$RESULTS_DIR/raw/"
  { grep '^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.' "$T/$t.out" | head -200; cat "$T/$t.err"; } > "$RESULTS_DIR/raw/$t.log" || true
done
[[ -n "$NGINX_ACCESS_LOG_FILE" ]] && echo "nginx access-log lines written: $(wc -l < "$NGINX_ACCESS_LOG_FILE")" >> "$RESULTS_DIR/meta.txt"

# ---------- summary: medians over the rounds ----------
SUM=$RESULTS_DIR/summary.md
{
  echo "| path | target | req/s | vs nginx | p50 ms | p99 ms | proxy CPU µs/req | vs nginx | origin CPU µs/req | RSS MiB idle→after | foreign CPU % (max) | errors |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for path in $PATHS; do
    base=$(col "$path" nginx 4 | median); basecpu=$(col "$path" nginx 9 | median)
    for t in "${TARGETS[@]}"; do
      rps=$(col "$path" "$t" 4 | median); cpu=$(col "$path" "$t" 9 | median) cpuratio=- rss=-
      if [[ "$t" == direct ]]; then cpu=-; else
        cpuratio=$(ratio "$cpu" "$basecpu"); rss="$(echo "${IDLE_RSS[$t]}" | mib)→$(col "$path" "$t" 11 | maxv | mib)"; fi
      printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$path" "$t" "$rps" "$(ratio "$rps" "$base")" \
        "$(col "$path" "$t" 5 | median)" "$(col "$path" "$t" 6 | median)" "$cpu" "$cpuratio" \
        "$(col "$path" "$t" 10 | median)" "$rss" "$(col "$path" "$t" 17 | maxv)" "$(col "$path" "$t" 8 | sumv)"
    done
  done
  echo
  echo "Mode $MODE; wrk -t$THREADS -c$CONNS -d${DURATION}s on cpu $WRK_CPU, origin and proxy on cpu $SERVER_CPU; medians of $RUNS rounds (order rotated); Relay: \`java -jar proxy-server.jar -c FILE\`, no JVM flags, shipped defaults${RELAY_CONF_EXTRA:+ plus \`$RELAY_CONF_EXTRA\`}${RELAY_ALT_CONF:+; relay-alt: plus \`$RELAY_ALT_CONF\`}${RELAY_ALT_JVM_FLAGS:+; relay-alt JVM flags \`$RELAY_ALT_JVM_FLAGS\`}${RELAY_ALT_JAR:+; relay-alt jar \`$RELAY_ALT_JAR\`}; nginx access log $NGINX_LOG_STATE."
  echo
  echo "Details (the same run):"
  echo
  details_table
  echo
  echo "CPU µs/req: utime+stime of the process tree over the run / requests. RSS, PSS: the process tree (nginx master+worker). foreign CPU: machine task time outside this run's processes, % of one core (other tenants, builds); wrk CPU near 100 % = the client is the limit (the direct rows)."
} > "$SUM"
cat "$SUM"
log "results: $RESULTS_DIR (summary.md, runs.tsv, meta.txt, raw/)"
