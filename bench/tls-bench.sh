#!/usr/bin/env bash
# tls-bench.sh - TLS termination side by side: Relay and nginx, the same certificate, in one run.
#
# Self-contained (it does not use ../shared/bench); same pinning and CPU accounting as the shared
# proxy-bench.sh, so its figures read the same way:
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
HOST=127.0.0.1
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${RELAY_JAR:=$ROOT/proxy-server/target/proxy-server.jar}"
: "${RESULTS_DIR:=${TMPDIR:-/tmp}/tls-bench-results/$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$RESULTS_DIR/raw"
T=$(mktemp -d /tmp/tls-bench.XXXXXX)
chmod 755 "$T"
CLK_TCK=$(getconf CLK_TCK)
PIDS=()
WRK_PID=

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

cleanup() {
  local rc=$? pid i
  set +e
  trap - EXIT INT TERM
  [[ -n "$WRK_PID" ]] && { kill -TERM "$WRK_PID" 2>/dev/null; wait "$WRK_PID" 2>/dev/null; }
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

for b in wrk nginx curl openssl java taskset setsid ss; do
  command -v "$b" >/dev/null || die "missing $b (apt-get install wrk nginx curl openssl util-linux iproute2)"
done
[[ -f "$RELAY_JAR" ]] || die "missing $RELAY_JAR: run 'mvn -q -B package -DskipTests' first"
for p in $ORIGIN_PORT $NGINX_PORT $RELAY_PORT; do
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
wait_port() {  # wait_port <port> <seconds> <pid>: until /small answers over TLS with the bench certificate
  local deadline=$((SECONDS + $2))
  while (( SECONDS < deadline )); do
    kill -0 "$3" 2>/dev/null || { cat "$T"/*.err >&2 || true; die "process $3 for port $1 exited"; }
    curl -fsS -o /dev/null --max-time 1 --cacert "$T/cert.pem" --resolve "bench.test:$1:$HOST" \
      "https://bench.test:$1/small" 2>/dev/null && return 0
    sleep 0.3
  done
  die "port $1 not ready after $2 s"
}

# ---------- certificate: ECDSA P-256, self-signed, SAN bench.test + 127.0.0.1 ----------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench.test \
  -addext "subjectAltName=DNS:bench.test,IP:127.0.0.1" -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null

# ---------- origin (plain nginx) ----------
mkdir -p "$T/origin"
SMALL_BODY="hello$(printf 'x%.0s' $(seq 1 94))"
temp_paths() { echo "client_body_temp_path $1/body; proxy_temp_path $1/proxy; fastcgi_temp_path $1/fcgi; uwsgi_temp_path $1/uwsgi; scgi_temp_path $1/scgi;"; }
cat > "$T/origin/nginx.conf" <<EOF
worker_processes 1; pid $T/origin/nginx.pid; error_log $T/origin/error.log warn;
events { worker_connections 16384; }
http {
  access_log off; tcp_nodelay on; keepalive_timeout 75s; keepalive_requests 1000000;
  $(temp_paths "$T/origin")
  server { listen $HOST:$ORIGIN_PORT backlog=4096;
           location = /small { default_type text/plain; return 200 "$SMALL_BODY\n"; } }
}
EOF
start_server origin nginx -p "$T/origin/" -e "$T/origin/error.log" -c "$T/origin/nginx.conf" -g 'daemon off;'
ORIGIN_PID=$LAST_PID

# ---------- nginx terminating TLS ----------
mkdir -p "$T/nginx"
cat > "$T/nginx/nginx.conf" <<EOF
worker_processes 1; pid $T/nginx/nginx.pid; error_log $T/nginx/error.log warn;
events { worker_connections 16384; }
http {
  access_log off; keepalive_timeout 75s; keepalive_requests 1000000;
  $(temp_paths "$T/nginx")
  upstream origin { server $HOST:$ORIGIN_PORT; keepalive 64; keepalive_requests 1000000; }
  server {
    listen $HOST:$NGINX_PORT ssl backlog=4096;
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
wait_port "$NGINX_PORT" 10 "${SPID[nginx]}"
wait_port "$RELAY_PORT" 120 "${SPID[relay]}"

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
  echo "date: $(date -Is)"
  echo "host: $(uname -srm); cpus: $(nproc) x $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
  echo "versions: $(nginx -v 2>&1 | sed 's/.*: //'); $(openssl version); $(java -version 2>&1 | head -1)"
  echo "pinning: wrk -> cpu $WRK_CPU; origin and proxies -> cpu $SERVER_CPU (pin=$PIN); wrk -t1 -c$CONNS -d${DURATION}s, $RUNS rounds"
  echo "certificate: ECDSA P-256; TLS 1.3 only on both; relay: java -jar $(basename "$RELAY_JAR") -c relay.conf (no JVM flags)"
} > "$RESULTS_DIR/meta.txt"
cat "$RESULTS_DIR/meta.txt" >&2

# ---------- measurement ----------
TSV=$RESULTS_DIR/runs.tsv
printf 'round\tscenario\ttarget\trps\tp50_ms\tp99_ms\trequests\terrors\tproxy_cpu_us\torigin_cpu_us\trss_kb\n' > "$TSV"
parse_wrk() {  # -> rps p50 p99 requests errors
  awk 'function ms(v, n,u){n=v; sub(/[a-z]+$/,"",n); u=v; sub(/^[0-9.]+/,"",u);
         return u=="us" ? n/1000 : u=="ms" ? n+0 : u=="s" ? n*1000 : -1}
       /Latency Distribution/{ld=1; next} ld&&$1=="50%"{p50=ms($2)} ld&&$1=="99%"{p99=ms($2); ld=0}
       / requests in /{reqs=$1} /^Requests\/sec:/{rps=$2}
       /Non-2xx/{err+=$NF} /Socket errors:/{gsub(/,/,""); err+=$4+$6+$8+$10}
       END{printf "%.0f %.3f %.3f %d %d\n", rps, p50, p99, reqs, err}' "$1"
}
run_wrk() {  # run_wrk <round> <scenario> <target> <seconds> [record]
  local r=$1 s=$2 t=$3 d=$4 rec=${5:-} extra=() out p0 p1 o0 o1
  [[ "$s" == handshake ]] && extra=(-H 'Connection: close')
  out="$RESULTS_DIR/raw/wrk_r${r}_${s}_${t}.txt"
  p0=$(tree_ticks "${SPID[$t]}"); o0=$(tree_ticks "$ORIGIN_PID")
  if (( PIN )); then taskset -c "$WRK_CPU" wrk -t1 -c"$CONNS" -d"${d}s" --latency "${extra[@]}" "https://$HOST:${PORT[$t]}/small" > "$out" 2>&1 &
  else wrk -t1 -c"$CONNS" -d"${d}s" --latency "${extra[@]}" "https://$HOST:${PORT[$t]}/small" > "$out" 2>&1 & fi
  WRK_PID=$!
  wait "$WRK_PID" || log "wrk exited non-zero: $out"
  WRK_PID=
  p1=$(tree_ticks "${SPID[$t]}"); o1=$(tree_ticks "$ORIGIN_PID")
  [[ -z "$rec" ]] && return 0
  local rps p50 p99 reqs err
  read -r rps p50 p99 reqs err <<<"$(parse_wrk "$out")"
  local pc oc
  pc=$(awk -v a="$p0" -v b="$p1" -v n="$reqs" -v hz="$CLK_TCK" 'BEGIN{printf "%.2f", (n>0 ? (b-a)*1e6/hz/n : 0)}')
  oc=$(awk -v a="$o0" -v b="$o1" -v n="$reqs" -v hz="$CLK_TCK" 'BEGIN{printf "%.2f", (n>0 ? (b-a)*1e6/hz/n : 0)}')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$s" "$t" "$rps" "$p50" "$p99" "$reqs" "$err" "$pc" "$oc" \
    "$(tree_rss_kb "${SPID[$t]}")" >> "$TSV"
  log "round $r $s $t: $rps req/s p99 ${p99} ms, proxy ${pc} µs/req, errors $err"
}

TARGETS=(nginx relay)
log "warm-up (${WARMUP}s per target and scenario)"
for s in $SCENARIOS; do for t in "${TARGETS[@]}"; do run_wrk 0 "$s" "$t" "$WARMUP"; done; done
for r in $(seq 1 "$RUNS"); do
  for s in $SCENARIOS; do
    for i in 0 1; do run_wrk "$r" "$s" "${TARGETS[$(( (i + r) % 2 ))]}" "$DURATION" record; done
  done
done

col() { awk -F'\t' -v s="$1" -v t="$2" -v c="$3" 'NR>1 && $2==s && $3==t {print $c}' "$TSV"; }
median() { sort -g | awk '{a[NR]=$1} END{ if (NR==0) print "NA"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }
SUM=$RESULTS_DIR/summary.md
{
  echo "| scenario | target | req/s (median) | vs nginx | p50 ms | p99 ms | proxy CPU µs/req | vs nginx | origin CPU µs/req | RSS MiB | errors |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for s in $SCENARIOS; do
    base=$(col "$s" nginx 4 | median); basecpu=$(col "$s" nginx 9 | median)
    for t in "${TARGETS[@]}"; do
      rps=$(col "$s" "$t" 4 | median); cpu=$(col "$s" "$t" 9 | median)
      printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$s" "$t" "$rps" \
        "$(awk -v a="$rps" -v b="$base" 'BEGIN{printf "%.2f", (b>0 ? a/b : 0)}')" \
        "$(col "$s" "$t" 5 | median)" "$(col "$s" "$t" 6 | median)" "$cpu" \
        "$(awk -v a="$cpu" -v b="$basecpu" 'BEGIN{printf "%.2f", (b>0 ? a/b : 0)}')" \
        "$(col "$s" "$t" 10 | median)" "$(col "$s" "$t" 11 | sort -g | tail -1 | awk '{printf "%.0f", $1/1024}')" \
        "$(col "$s" "$t" 8 | awk '{n+=$1} END{print n+0}')"
    done
  done
  echo
  echo "keepalive: HTTPS keep-alive, µs per request. handshake: one full TLS 1.3 handshake (ECDSA P-256) per request, so req/s = handshakes/s and µs/req = CPU per handshake (plus one proxied request)."
} > "$SUM"
cat "$SUM"
log "results: $RESULTS_DIR"
