#!/usr/bin/env bash
# h2-bench.sh - HTTP/2 side by side: Relay and nginx (http2 on), the same certificate, in one run.
#
# Self-contained (it does not use ../shared/bench); the same pinning and CPU accounting as the shared
# proxy-bench.sh and bench/tls-bench.sh, so its figures read the same way:
#   origin   plain nginx, worker_processes 1, HTTP/1.1: GET /small -> 100-byte body, /64k -> 65,536 bytes
#   nginx    nginx with HTTP/2 on a TLS port (listen ... ssl http2, ALPN h2) and on a plain port
#            (listen ... http2: h2c with prior knowledge), worker_processes 1, upstream keepalive 64
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
HOST=127.0.0.1
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${RELAY_JAR:=$ROOT/proxy-server/target/proxy-server.jar}"
: "${RESULTS_DIR:=${TMPDIR:-/tmp}/h2-bench-results/$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$RESULTS_DIR/raw"
T=$(mktemp -d /tmp/h2-bench.XXXXXX)
chmod 755 "$T"
CLK_TCK=$(getconf CLK_TCK)
PIDS=()
CLIENT_PID=

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

cleanup() {
  local rc=$? pid i
  set +e
  trap - EXIT INT TERM
  [[ -n "$CLIENT_PID" ]] && { kill -TERM "$CLIENT_PID" 2>/dev/null; wait "$CLIENT_PID" 2>/dev/null; }
  for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null; }
    wait "$pid" 2>/dev/null
  done
  rm -rf "$T"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for b in h2load nginx curl openssl java taskset setsid ss; do
  command -v "$b" >/dev/null || die "missing $b (apt-get install nghttp2-client nginx curl openssl util-linux iproute2)"
done
[[ -f "$RELAY_JAR" ]] || die "missing $RELAY_JAR: run 'mvn -q -B package -DskipTests' first"
for p in $ORIGIN_PORT $NGINX_TLS_PORT $NGINX_H2C_PORT $RELAY_TLS_PORT $RELAY_H2C_PORT; do
  [[ -z "$(ss -Htln "sport = :$p")" ]] || die "port $p already in use"
done
PIN=1
(( $(nproc) >= 2 )) || { log "one CPU: pinning off"; PIN=0; }

tree() { local c; echo "$1"; for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do tree "$c"; done; }
tree_ticks() {
  local t=0 p v
  for p in $(tree "$1"); do
    v=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12+$13}') || v=0
    t=$(( t + ${v:-0} ))
  done
  echo "$t"
}
tree_rss_kb() {
  local t=0 p v
  for p in $(tree "$1"); do v=$(awk '/^VmRSS:/{print $2}' "/proc/$p/status" 2>/dev/null) || v=0; t=$(( t + ${v:-0} )); done
  echo "$t"
}
LAST_PID=
start_server() {  # start_server <name> <cmd...>: own session, pinned to SERVER_CPU
  local name=$1; shift
  if (( PIN )); then setsid taskset -c "$SERVER_CPU" "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null &
  else setsid "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null & fi
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}
wait_port() {  # wait_port <port> <seconds> <pid>: until /small answers over HTTP/2 with TLS
  local deadline=$((SECONDS + $2))
  while (( SECONDS < deadline )); do
    kill -0 "$3" 2>/dev/null || { cat "$T"/*.err >&2 || true; die "process $3 for port $1 exited"; }
    curl -fsS -o /dev/null --max-time 1 --http2 --cacert "$T/cert.pem" --resolve "bench.test:$1:$HOST" \
      "https://bench.test:$1/small" 2>/dev/null && return 0
    sleep 0.3
  done
  die "port $1 not ready after $2 s"
}

# ---------- certificate: ECDSA P-256, self-signed, SAN bench.test + 127.0.0.1 ----------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench.test \
  -addext "subjectAltName=DNS:bench.test,IP:127.0.0.1" -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null

# ---------- origin (plain nginx, HTTP/1.1) ----------
mkdir -p "$T/origin/www"
SMALL_BODY="hello$(printf 'x%.0s' $(seq 1 94))"
head -c 65536 /dev/zero | tr '\0' 'x' > "$T/origin/www/64k"
temp_paths() { echo "client_body_temp_path $1/body; proxy_temp_path $1/proxy; fastcgi_temp_path $1/fcgi; uwsgi_temp_path $1/uwsgi; scgi_temp_path $1/scgi;"; }
cat > "$T/origin/nginx.conf" <<EOF
worker_processes 1; pid $T/origin/nginx.pid; error_log $T/origin/error.log warn;
events { worker_connections 16384; }
http {
  access_log off; tcp_nodelay on; keepalive_timeout 75s; keepalive_requests 1000000;
  $(temp_paths "$T/origin")
  server { listen $HOST:$ORIGIN_PORT backlog=4096; root $T/origin/www;
           location = /small { default_type text/plain; return 200 "$SMALL_BODY\n"; }
           location = /64k { default_type application/octet-stream; } }
}
EOF
start_server origin nginx -p "$T/origin/" -e "$T/origin/error.log" -c "$T/origin/nginx.conf" -g 'daemon off;'
ORIGIN_PID=$LAST_PID

# ---------- nginx with HTTP/2 (TLS and h2c), one process ----------
mkdir -p "$T/nginx"
cat > "$T/nginx/nginx.conf" <<EOF
worker_processes 1; pid $T/nginx/nginx.pid; error_log $T/nginx/error.log warn;
events { worker_connections 16384; }
http {
  access_log off; keepalive_timeout 75s; keepalive_requests 1000000;
  $(temp_paths "$T/nginx")
  upstream origin { server $HOST:$ORIGIN_PORT; keepalive 64; keepalive_requests 1000000; }
  server {
    listen $HOST:$NGINX_TLS_PORT ssl http2 backlog=4096;
    listen $HOST:$NGINX_H2C_PORT http2 backlog=4096;
    ssl_certificate $T/cert.pem; ssl_certificate_key $T/key.pem;
    ssl_protocols TLSv1.3; ssl_session_tickets on;
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
EOF
start_server nginx nginx -p "$T/nginx/" -e "$T/nginx/error.log" -c "$T/nginx/nginx.conf" -g 'daemon off;'
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
wait_port "$NGINX_TLS_PORT" 10 "${SPID[nginx]}"
wait_port "$RELAY_TLS_PORT" 120 "${SPID[relay]}"

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
  echo "date: $(date -Is)"
  echo "host: $(uname -srm); cpus: $(nproc) x $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
  echo "versions: $(nginx -v 2>&1 | sed 's/.*: //'); $(h2load --version 2>&1 | head -1); $(openssl version); $(java -version 2>&1 | head -1)"
  echo "pinning: h2load -> cpu $CLIENT_CPU; origin and proxies -> cpu $SERVER_CPU (pin=$PIN); h2load -t1 -c$CONNS -m$STREAMS -D$DURATION, $RUNS rounds"
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
  local r=$1 s=$2 t=$3 d=$4 rec=${5:-} out p0 p1 o0 o1
  out="$RESULTS_DIR/raw/h2load_r${r}_${s}_${t}.txt"
  p0=$(tree_ticks "${SPID[$t]}"); o0=$(tree_ticks "$ORIGIN_PID")
  if (( PIN )); then taskset -c "$CLIENT_CPU" h2load -t1 -c"$CONNS" -m"$STREAMS" -D"$d" "$(url "$s" "$t")" > "$out" 2>&1 &
  else h2load -t1 -c"$CONNS" -m"$STREAMS" -D"$d" "$(url "$s" "$t")" > "$out" 2>&1 & fi
  CLIENT_PID=$!
  wait "$CLIENT_PID" || log "h2load exited non-zero: $out"
  CLIENT_PID=
  p1=$(tree_ticks "${SPID[$t]}"); o1=$(tree_ticks "$ORIGIN_PID")
  [[ -z "$rec" ]] && return 0
  local rps mean ok failed pc oc
  read -r rps mean ok failed <<<"$(parse_h2load "$out")"
  pc=$(awk -v a="$p0" -v b="$p1" -v n="$ok" -v hz="$CLK_TCK" 'BEGIN{printf "%.2f", (n>0 ? (b-a)*1e6/hz/n : 0)}')
  oc=$(awk -v a="$o0" -v b="$o1" -v n="$ok" -v hz="$CLK_TCK" 'BEGIN{printf "%.2f", (n>0 ? (b-a)*1e6/hz/n : 0)}')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$s" "$t" "$rps" "$mean" "$ok" "$failed" "$pc" "$oc" \
    "$(tree_rss_kb "${SPID[$t]}")" >> "$TSV"
  log "round $r $s $t: $rps req/s, mean ${mean} ms, proxy ${pc} µs/req, failed $failed"
}

TARGETS=(nginx relay)
log "warm-up (${WARMUP}s per target and scenario)"
for s in $SCENARIOS; do for t in "${TARGETS[@]}"; do run_h2load 0 "$s" "$t" "$WARMUP"; done; done
for r in $(seq 1 "$RUNS"); do
  for s in $SCENARIOS; do
    for i in 0 1; do run_h2load "$r" "$s" "${TARGETS[$(( (i + r) % 2 ))]}" "$DURATION" record; done
  done
done

col() { awk -F'\t' -v s="$1" -v t="$2" -v c="$3" 'NR>1 && $2==s && $3==t {print $c}' "$TSV"; }
median() { sort -g | awk '{a[NR]=$1} END{ if (NR==0) print "NA"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }
SUM=$RESULTS_DIR/summary.md
{
  echo "| scenario | target | req/s (median) | vs nginx | mean ms | proxy CPU µs/req | vs nginx | origin CPU µs/req | RSS MiB | failed |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for s in $SCENARIOS; do
    base=$(col "$s" nginx 4 | median); basecpu=$(col "$s" nginx 8 | median)
    for t in "${TARGETS[@]}"; do
      rps=$(col "$s" "$t" 4 | median); cpu=$(col "$s" "$t" 8 | median)
      printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$s" "$t" "$rps" \
        "$(awk -v a="$rps" -v b="$base" 'BEGIN{printf "%.2f", (b>0 ? a/b : 0)}')" \
        "$(col "$s" "$t" 5 | median)" "$cpu" \
        "$(awk -v a="$cpu" -v b="$basecpu" 'BEGIN{printf "%.2f", (b>0 ? a/b : 0)}')" \
        "$(col "$s" "$t" 9 | median)" "$(col "$s" "$t" 10 | sort -g | tail -1 | awk '{printf "%.0f", $1/1024}')" \
        "$(col "$s" "$t" 7 | awk '{n+=$1} END{print n+0}')"
    done
  done
  echo
  echo "h2load -c$CONNS -m$STREAMS: $CONNS HTTP/2 connections with up to $STREAMS streams each; the origin speaks HTTP/1.1 to both proxies."
} > "$SUM"
cat "$SUM"
log "results: $RESULTS_DIR"
