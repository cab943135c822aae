#!/usr/bin/env bash
# h2-bench.sh - HTTP/2 side by side: Relay and nginx (http2 on), the same certificate, in one run.
#
# Self-contained (it does not use ../shared/bench; what it shares with bench/tls-bench.sh is in
# bench/side-by-side.sh); the same pinning and CPU accounting as the shared proxy-bench.sh, so its
# figures read the same way:
#   origin   plain nginx, worker_processes 1, HTTP/1.1: GET /small -> 100-byte body, /64k -> 65,536 bytes
#   nginx    nginx with HTTP/2 on a TLS port (listen ... ssl http2, ALPN h2) and on a plain port
#            (listen ... http2: h2c with prior knowledge), worker_processes 1, upstream keepalive
#            CONNS x STREAMS: nginx proxies each concurrent stream on an origin connection of its own,
#            and with fewer kept idle it would close and reopen origin connections all run long (a
#            cost of the setting, not of HTTP/2; Relay's pool keeps up to 1024 by default)
#   relay    java -jar proxy-server/target/proxy-server.jar -c FILE, no JVM flags, shipped defaults
#            (access log on, HTTP/2 on by default), one TLS listener and one plain listener
# Both present one ECDSA P-256 certificate (generated with openssl), TLS 1.3 only.
#
# Scenarios ("<proto>-<path>"), each RUNS rounds, target order rotated per round, medians reported:
#   tls-small tls-64k     h2load -c$CONNS -m$STREAMS over TLS (ALPN h2)
#   h2c-small h2c-64k     h2load -c$CONNS -m$STREAMS in cleartext (prior knowledge)
# Figures: req/s, mean request time, proxy CPU µs/request. h2load -> CPU $CLIENT_CPU, origin and
# proxies -> CPU $SERVER_CPU: the proxy and the origin share a core, as in ../shared/bench.
#
# Usage: mvn -q -B package -DskipTests && bench/h2-bench.sh
# Settings (env): DURATION=10 CONNS=50 STREAMS=10 RUNS=3 WARMUP=10 CLIENT_CPU=0 SERVER_CPU=1
#   ORIGIN_PORT=28190 NGINX_TLS_PORT=28191 NGINX_H2C_PORT=28192 RELAY_TLS_PORT=28193 RELAY_H2C_PORT=28194
#   SCENARIOS="tls-small tls-64k h2c-small h2c-64k"
#   RELAY_JAR=proxy-server/target/proxy-server.jar RELAY_EXTRA_CONF='' (HOCON lines inside proxy { })
#   RESULTS_DIR=<dir> (default $TMPDIR or /tmp, h2-bench-results/<timestamp>)
set -Eeuo pipefail

: "${DURATION:=10}" "${CONNS:=50}" "${STREAMS:=10}" "${RUNS:=3}" "${WARMUP:=10}"
: "${CLIENT_CPU:=0}" "${SERVER_CPU:=1}"
: "${ORIGIN_PORT:=28190}" "${NGINX_TLS_PORT:=28191}" "${NGINX_H2C_PORT:=28192}"
: "${RELAY_TLS_PORT:=28193}" "${RELAY_H2C_PORT:=28194}"
: "${SCENARIOS:=tls-small tls-64k h2c-small h2c-64k}" "${RELAY_EXTRA_CONF:=}"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/side-by-side.sh
. "$ROOT/bench/side-by-side.sh"
bench_init h2-bench
require_tools "nghttp2-client nginx curl openssl util-linux iproute2" h2load nginx curl openssl java taskset setsid ss
require_free_ports "$ORIGIN_PORT" "$NGINX_TLS_PORT" "$NGINX_H2C_PORT" "$RELAY_TLS_PORT" "$RELAY_H2C_PORT"

make_certificate
start_origin
# ---------- nginx with HTTP/2 (TLS and h2c), one process ----------
NGINX_UPSTREAM_KEEPALIVE=$(( CONNS * STREAMS ))
start_nginx_proxy "listen $HOST:$NGINX_TLS_PORT ssl http2 backlog=4096;
    listen $HOST:$NGINX_H2C_PORT http2 backlog=4096;"
declare -A SPID=( [nginx]=$LAST_PID )

# ---------- relay (shipped defaults, no JVM flags) ----------
cat > "$T/relay.conf" <<EOF
proxy {
  listeners = [ { address = "$HOST:$RELAY_TLS_PORT"
                  tls { certificates = [ { cert = "$T/cert.pem", key = "$T/key.pem" } ], min-version = TLSv1.3 } },
                { address = "$HOST:$RELAY_H2C_PORT" } ]
  upstreams { origin { backends = [ "$HOST:$ORIGIN_PORT" ] } }
  routes = [ { upstream = origin } ]
  $RELAY_EXTRA_CONF
}
EOF
start_server relay java -jar "$RELAY_JAR" -c "$T/relay.conf"
SPID[relay]=$LAST_PID
declare -A TLS_PORT=( [nginx]=$NGINX_TLS_PORT [relay]=$RELAY_TLS_PORT )
declare -A H2C_PORT=( [nginx]=$NGINX_H2C_PORT [relay]=$RELAY_H2C_PORT )
wait_https "$NGINX_TLS_PORT" 10 "${SPID[nginx]}" --http2
wait_https "$RELAY_TLS_PORT" 120 "${SPID[relay]}" --http2

for t in nginx relay; do
  got=$(curl -s -o /dev/null -w '%{http_version} %{http_code} %{size_download}' --http2 --cacert "$T/cert.pem" \
    --resolve "bench.test:${TLS_PORT[$t]}:$HOST" "https://bench.test:${TLS_PORT[$t]}/64k")
  [[ "$got" == "2 200 65536" ]] || die "$t: /64k over TLS h2 returned '$got'"
  got=$(curl -s -o /dev/null -w '%{http_version} %{http_code} %{size_download}' --http2-prior-knowledge \
    "http://$HOST:${H2C_PORT[$t]}/small")
  [[ "$got" == "2 200 100" ]] || die "$t: /small over h2c returned '$got'"
  log "$t: h2 on ${TLS_PORT[$t]} (TLS) and ${H2C_PORT[$t]} (h2c), pid ${SPID[$t]}"
done
{
  host_meta
  echo "versions: $(nginx -v 2>&1 | sed 's/.*: //'); $(h2load --version 2>&1 | head -1); $(openssl version); $(java -version 2>&1 | head -1)"
  echo "pinning: h2load -> cpu $CLIENT_CPU; origin and proxies -> cpu $SERVER_CPU (pin=$PIN); h2load -t1 -c$CONNS -m$STREAMS -D$DURATION, $RUNS rounds"
  echo "nginx: upstream keepalive $NGINX_UPSTREAM_KEEPALIVE (one origin connection per concurrent stream)"
  echo "certificate: ECDSA P-256; TLS 1.3 only on both; relay: java -jar $(basename "$RELAY_JAR") -c relay.conf (no JVM flags)"
} > "$RESULTS_DIR/meta.txt"
cat "$RESULTS_DIR/meta.txt" >&2

# ---------- measurement ----------
TSV=$RESULTS_DIR/runs.tsv
printf 'round\tscenario\ttarget\trps\tmean_ms\tsucceeded\tfailed\tproxy_cpu_us\torigin_cpu_us\trss_kb\n' > "$TSV"
parse_h2load() {  # -> rps mean_ms succeeded failed
  awk 'function ms(v, n,u){n=v; sub(/[a-z]+$/,"",n); u=v; sub(/^[0-9.]+/,"",u);
         return u=="us" ? n/1000 : u=="ms" ? n+0 : u=="s" ? n*1000 : -1}
       /^finished in/{rps=$4; sub(/,$/,"",rps)}
       /^requests:/{ok=$8; failed=$10+$12+$14}
       /^time for request:/{mean=ms($6)}
       END{printf "%.0f %.3f %d %d\n", rps, mean, ok, failed}' "$1"
}
url() {  # url <scenario> <target>
  local proto=${1%%-*} path=${1#*-}
  if [[ "$proto" == tls ]]; then echo "https://$HOST:${TLS_PORT[$2]}/$path"; else echo "http://$HOST:${H2C_PORT[$2]}/$path"; fi
}
run_h2load() {  # run_h2load <round> <scenario> <target> <seconds> [record]
  local r=$1 s=$2 t=$3 d=$4 rec=${5:-} out
  out="$RESULTS_DIR/raw/h2load_r${r}_${s}_${t}.txt"
  run_client "$t" "$out" "$CLIENT_CPU" h2load -t1 -c"$CONNS" -m"$STREAMS" -D"$d" "$(url "$s" "$t")"
  [[ -z "$rec" ]] && return 0
  local rps mean ok failed pc oc
  read -r rps mean ok failed <<<"$(parse_h2load "$out")"
  pc=$(cpu_us_per_request "$P0" "$P1" "$ok")
  oc=$(cpu_us_per_request "$O0" "$O1" "$ok")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$s" "$t" "$rps" "$mean" "$ok" "$failed" "$pc" "$oc" \
    "$(tree_rss_kb "${SPID[$t]}")" >> "$TSV"
  log "round $r $s $t: $rps req/s, mean ${mean} ms, proxy ${pc} µs/req, failed $failed"
}

TARGETS=(nginx relay)
run_rounds run_h2load

SUM=$RESULTS_DIR/summary.md
{
  echo "| scenario | target | req/s (median) | vs nginx | mean ms | proxy CPU µs/req | vs nginx | origin CPU µs/req | RSS MiB | failed |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for s in $SCENARIOS; do
    base=$(col "$s" nginx 4 | median); basecpu=$(col "$s" nginx 8 | median)
    for t in "${TARGETS[@]}"; do
      rps=$(col "$s" "$t" 4 | median); cpu=$(col "$s" "$t" 8 | median)
      printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$s" "$t" "$rps" \
        "$(ratio "$rps" "$base")" \
        "$(col "$s" "$t" 5 | median)" "$cpu" \
        "$(ratio "$cpu" "$basecpu")" \
        "$(col "$s" "$t" 9 | median)" "$(col "$s" "$t" 10 | sort -g | tail -1 | awk '{printf "%.0f", $1/1024}')" \
        "$(col "$s" "$t" 7 | awk '{n+=$1} END{print n+0}')"
    done
  done
  echo
  echo "h2load -c$CONNS -m$STREAMS: $CONNS HTTP/2 connections with up to $STREAMS streams each; the origin speaks HTTP/1.1 to both proxies."
} > "$SUM"
cat "$SUM"
log "results: $RESULTS_DIR"
