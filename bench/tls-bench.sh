#!/usr/bin/env bash
# tls-bench.sh - TLS termination side by side: Relay and nginx, the same certificate, in one run.
#
# Self-contained (it does not use ../shared/bench; what it shares with bench/h2-bench.sh is in
# bench/side-by-side.sh); same pinning and CPU accounting as the shared proxy-bench.sh, so its figures
# read the same way:
#   origin   plain nginx, worker_processes 1: GET /small -> 100-byte body
#   nginx    nginx terminating TLS (listen ... ssl), worker_processes 1, upstream keepalive 64
#   relay    java -jar proxy-server/target/proxy-server.jar -c FILE, no JVM flags, shipped defaults
#            (access log on), a listener with tls { certificates = [...] , min-version = TLSv1.3 }
# Both present one ECDSA P-256 certificate (generated with openssl), TLS 1.3 only.
#
# Scenarios, each RUNS rounds, target order rotated per round, medians reported:
#   keepalive   wrk -c$CONNS over HTTPS keep-alive connections: req/s, p99, proxy CPU µs/request
#   handshake   wrk -c$CONNS -H 'Connection: close': every request on a new connection, a full
#               TLS 1.3 handshake (wrk resumes no session): handshakes/s, proxy CPU µs/handshake
# wrk -> CPU $WRK_CPU, origin and proxies -> CPU $SERVER_CPU (as in ../shared/bench). In the
# handshake scenario the client's own ECDHE/ECDSA work on its core can be the limit: compare the
# proxies' CPU per handshake and the ratio in the same run, not absolute rates.
#
# Usage: mvn -q -B package -DskipTests && bench/tls-bench.sh
# Settings (env): DURATION=10 CONNS=50 RUNS=3 WARMUP=15 WRK_CPU=0 SERVER_CPU=1
#   ORIGIN_PORT=28180 NGINX_PORT=28181 RELAY_PORT=28182 SCENARIOS="keepalive handshake"
#   RELAY_JAR=proxy-server/target/proxy-server.jar RELAY_EXTRA_CONF='' (HOCON lines inside proxy { })
#   RESULTS_DIR=<dir> (default $TMPDIR or /tmp, tls-bench-results/<timestamp>)
set -Eeuo pipefail

: "${DURATION:=10}" "${CONNS:=50}" "${RUNS:=3}" "${WARMUP:=15}"
: "${WRK_CPU:=0}" "${SERVER_CPU:=1}"
: "${ORIGIN_PORT:=28180}" "${NGINX_PORT:=28181}" "${RELAY_PORT:=28182}"
: "${SCENARIOS:=keepalive handshake}" "${RELAY_EXTRA_CONF:=}"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/side-by-side.sh
. "$ROOT/bench/side-by-side.sh"
bench_init tls-bench
require_tools "wrk nginx curl openssl util-linux iproute2" wrk nginx curl openssl java taskset setsid ss
require_free_ports "$ORIGIN_PORT" "$NGINX_PORT" "$RELAY_PORT"

make_certificate
start_origin
# ---------- nginx terminating TLS ----------
start_nginx_proxy "listen $HOST:$NGINX_PORT ssl backlog=4096;"
declare -A SPID=( [nginx]=$LAST_PID )

# ---------- relay (shipped defaults, no JVM flags) ----------
cat > "$T/relay.conf" <<EOF
proxy {
  listeners = [ { address = "$HOST:$RELAY_PORT"
                  tls { certificates = [ { cert = "$T/cert.pem", key = "$T/key.pem" } ], min-version = TLSv1.3 } } ]
  upstreams { origin { backends = [ "$HOST:$ORIGIN_PORT" ] } }
  routes = [ { upstream = origin } ]
  $RELAY_EXTRA_CONF
}
EOF
start_server relay java -jar "$RELAY_JAR" -c "$T/relay.conf"
SPID[relay]=$LAST_PID
declare -A PORT=( [nginx]=$NGINX_PORT [relay]=$RELAY_PORT )
wait_https "$NGINX_PORT" 10 "${SPID[nginx]}"
wait_https "$RELAY_PORT" 120 "${SPID[relay]}"

for t in nginx relay; do
  proto=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' --cacert "$T/cert.pem" \
    --resolve "bench.test:${PORT[$t]}:$HOST" "https://bench.test:${PORT[$t]}/small")
  [[ "$proto" == "200 100" ]] || die "$t: /small over TLS returned '$proto'"
  # "New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384" in s_client's summary
  version=$(echo | openssl s_client -connect "$HOST:${PORT[$t]}" -servername bench.test 2>/dev/null \
    | sed -n 's/^New, \(TLSv[0-9.]*\), Cipher is \(.*\)$/\1 \2/p' | head -1)
  log "$t on ${PORT[$t]} (pid ${SPID[$t]}): $version"
done
{
  host_meta
  echo "versions: $(nginx -v 2>&1 | sed 's/.*: //'); $(openssl version); $(java -version 2>&1 | head -1)"
  echo "pinning: wrk -> cpu $WRK_CPU; origin and proxies -> cpu $SERVER_CPU (pin=$PIN); wrk -t1 -c$CONNS -d${DURATION}s, $RUNS rounds"
  echo "certificate: ECDSA P-256; TLS 1.3 only on both; relay: java -jar $(basename "$RELAY_JAR") -c relay.conf (no JVM flags)"
} > "$RESULTS_DIR/meta.txt"
cat "$RESULTS_DIR/meta.txt" >&2

# ---------- measurement ----------
TSV=$RESULTS_DIR/runs.tsv
printf 'round\tscenario\ttarget\trps\tp50_ms\tp99_ms\trequests\terrors\tproxy_cpu_us\torigin_cpu_us\trss_kb\n' > "$TSV"
run_wrk() {  # run_wrk <round> <scenario> <target> <seconds> [record]
  local r=$1 s=$2 t=$3 d=$4 rec=${5:-} extra=() out
  [[ "$s" == handshake ]] && extra=(-H 'Connection: close')
  out="$RESULTS_DIR/raw/wrk_r${r}_${s}_${t}.txt"
  run_client "$t" "$out" "$WRK_CPU" wrk -t1 -c"$CONNS" -d"${d}s" --latency "${extra[@]}" "https://$HOST:${PORT[$t]}/small"
  [[ -z "$rec" ]] && return 0
  local rps p50 p99 reqs err
  read -r rps p50 p99 reqs err <<<"$(parse_wrk "$out")"
  local pc oc
  pc=$(cpu_us_per_request "$P0" "$P1" "$reqs")
  oc=$(cpu_us_per_request "$O0" "$O1" "$reqs")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$s" "$t" "$rps" "$p50" "$p99" "$reqs" "$err" "$pc" "$oc" \
    "$(tree_rss_kb "${SPID[$t]}")" >> "$TSV"
  log "round $r $s $t: $rps req/s p99 ${p99} ms, proxy ${pc} µs/req, errors $err"
}

TARGETS=(nginx relay)
run_rounds run_wrk

SUM=$RESULTS_DIR/summary.md
{
  echo "| scenario | target | req/s (median) | vs nginx | p50 ms | p99 ms | proxy CPU µs/req | vs nginx | origin CPU µs/req | RSS MiB | errors |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for s in $SCENARIOS; do
    base=$(col "$s" nginx 4 | median); basecpu=$(col "$s" nginx 9 | median)
    for t in "${TARGETS[@]}"; do
      rps=$(col "$s" "$t" 4 | median); cpu=$(col "$s" "$t" 9 | median)
      printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$s" "$t" "$rps" \
        "$(ratio "$rps" "$base")" \
        "$(col "$s" "$t" 5 | median)" "$(col "$s" "$t" 6 | median)" "$cpu" \
        "$(ratio "$cpu" "$basecpu")" \
        "$(col "$s" "$t" 10 | median)" "$(col "$s" "$t" 11 | sort -g | tail -1 | awk '{printf "%.0f", $1/1024}')" \
        "$(col "$s" "$t" 8 | awk '{n+=$1} END{print n+0}')"
    done
  done
  echo
  echo "keepalive: HTTPS keep-alive, µs per request. handshake: one full TLS 1.3 handshake (ECDSA P-256) per request, so req/s = handshakes/s and µs/req = CPU per handshake (plus one proxied request)."
} > "$SUM"
cat "$SUM"
log "results: $RESULTS_DIR"
