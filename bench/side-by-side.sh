# side-by-side.sh - what the load scripts in bench/ share (sourced, not run): their temporary and
# results directories, the cleanup of every process they start, tool and port checks, CPU pinning,
# the CPU and memory accounting of a process tree and of the machine (foreign CPU), the bench
# certificate, the nginx origin, nginx (optionally with its proxy_cache), HAProxy and Relay (optionally
# with its cache filter) as proxies in front of it, the load-client
# run, the rounds (order rotated) and medians of the rounds in runs.tsv.
#
# The caller sets ROOT (the repository), SERVER_CPU and ORIGIN_PORT, sources this file and calls
# bench_init <name>; RESULTS_DIR defaults to $TMPDIR (or /tmp)/<name>-results/<timestamp>.
# The method is the one of the reference harness (../shared/bench, outside the repository): one
# run holds every target, the load client on one core, origin and proxy sharing the other, so only
# ratios within a run and CPU per request are compared.

# The repository this file lives in (the /text page is its README).
BENCH_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HOST=127.0.0.1   # every server listens on loopback only, every client connects there
: "${RELAY_JAR:=$ROOT/proxy-server/target/proxy-server.jar}"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# The load client running now (h2load, wrk): stopped first on exit.
CLIENT_PID=
PIDS=()
LAST_PID=
# Directories outside $T (e.g. an nginx cache on tmpfs): removed on exit with $T, once the servers
# that write there have stopped.
CLEANUP_DIRS=()

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
  if [[ "${KEEP_TMP:-0}" == 1 ]]; then log "kept $T ${CLEANUP_DIRS[*]}"; else rm -rf "$T" "${CLEANUP_DIRS[@]}"; fi
  exit "$rc"
}

bench_init() {  # bench_init <name>: $T (removed on exit), $RESULTS_DIR/raw, CLK_TCK, the traps
  : "${RESULTS_DIR:=${TMPDIR:-/tmp}/$1-results/$(date +%Y%m%d-%H%M%S)}"
  mkdir -p "$RESULTS_DIR/raw"
  T=$(mktemp -d "/tmp/$1.XXXXXX")
  chmod 755 "$T"                      # nginx workers run as nobody when we are root
  CLK_TCK=$(getconf CLK_TCK)
  trap cleanup EXIT
  trap 'exit 130' INT TERM
}

require_tools() {  # require_tools "<apt-get packages>" <command...>
  local packages=$1 b; shift
  for b in "$@"; do
    command -v "$b" >/dev/null || die "missing $b (apt-get install $packages)"
  done
  [[ -f "$RELAY_JAR" ]] || die "missing $RELAY_JAR: run 'mvn -q -B package -DskipTests' first"
}

require_free_ports() {  # require_free_ports <port...>; then PIN=1 unless there is one CPU
  local p
  for p in "$@"; do
    [[ -z "$(ss -Htln "sport = :$p")" ]] || die "port $p already in use"
  done
  PIN=1
  (( $(nproc) >= 2 )) || { log "one CPU: pinning off"; PIN=0; }
}

# ---------- accounting: a process tree, the machine ----------
tree() { local c; echo "$1"; for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do tree "$c"; done; }
tree_ticks() {  # utime+stime of a process tree (all threads), in clock ticks
  local t=0 p v
  for p in $(tree "$1"); do
    v=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12+$13}') || v=0
    t=$(( t + ${v:-0} ))
  done
  echo "$t"
}
tree_kb() {  # tree_kb <pid> VmRSS|Pss: KiB summed over the tree (Pss from smaps_rollup, 0 without it)
  local t=0 p v
  for p in $(tree "$1"); do
    if [[ "$2" == VmRSS ]]; then v=$(awk '/^VmRSS:/{print $2}' "/proc/$p/status" 2>/dev/null) || v=0
    else v=$(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup" 2>/dev/null) || v=0; fi
    t=$(( t + ${v:-0} ))
  done
  echo "$t"
}
tree_rss_kb() { tree_kb "$1" VmRSS; }
ours_ticks() {  # CPU ticks of every process tree this script started
  local t=0 pid
  for pid in "${PIDS[@]}"; do t=$(( t + $(tree_ticks "$pid") )); done
  echo "$t"
}
cpu_us_per_request() {  # cpu_us_per_request <ticks before> <ticks after> <requests>
  awk -v a="$1" -v b="$2" -v n="$3" -v hz="$CLK_TCK" 'BEGIN{printf "%.2f", (n>0 ? (b-a)*1e6/hz/n : 0)}'
}
cpu_snapshot() {  # from /proc/stat: "all <user+nice+system>" and per CPU "cpuN <busy> <total> <steal>"
  # busy of a CPU includes irq, softirq and steal (what the core could not give to idle); the
  # machine-wide figure is task time only, comparable with the utime+stime of processes.
  awk '/^cpu /{print "all", $2+$3+$4} /^cpu[0-9]+ /{b=$2+$3+$4+$7+$8+$9; print $1, b, b+$5+$6, $9}' /proc/stat
}
cpu_pct() {  # cpu_pct <before> <after> <cpuN> [4 = steal]: % of that core's time, busy by default
  awk -v c="$3" -v f="${4:-2}" 'FNR==NR{if($1==c){v=$f;t=$3};next} $1==c{d=$3-t; printf "%.0f", (d>0?100*($f-v)/d:0)}' "$1" "$2"
}
child_seconds() {  # user+sys seconds of this shell's reaped children, from the output of bash `times`
  awk 'NR==2 { n=0; for (i=1;i<=2;i++) { v=$i; sub(/s$/,"",v); split(v,a,"m"); n+=a[1]*60+a[2] } print n }' "$1"
}

start_server() {  # start_server <name> <cmd...>: own session, pinned to SERVER_CPU; its pid in LAST_PID
  # A plain background command: bash forks and execs setsid (not a group leader, so it calls
  # setsid() itself) which execs taskset and then the server: $! is the server's pid and pgid.
  local name=$1; shift
  if (( PIN )); then setsid taskset -c "$SERVER_CPU" "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null &
  else setsid "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null & fi
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}

wait_http() {  # wait_http <url> <seconds> <pid> [curl option...]: until the URL answers 2xx
  local url=$1 seconds=$2 pid=$3 deadline=$((SECONDS + $2))
  shift 3
  while (( SECONDS < deadline )); do
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$T"/*.err >&2 || true; die "process $pid for $url exited"; }
    curl -fsS -o /dev/null --max-time 1 -k "$@" "$url" 2>/dev/null && return 0
    sleep 0.3
  done
  die "$url not ready after $seconds s"
}

wait_https() {  # wait_https <port> <seconds> <pid> [curl option...]: until /small answers over TLS
  local port=$1 seconds=$2 pid=$3 deadline=$((SECONDS + $2))
  shift 3
  while (( SECONDS < deadline )); do
    kill -0 "$pid" 2>/dev/null || { cat "$T"/*.err >&2 || true; die "process $pid for port $port exited"; }
    curl -fsS -o /dev/null --max-time 1 "$@" --cacert "$T/cert.pem" --resolve "bench.test:$port:$HOST" \
      "https://bench.test:$port/small" 2>/dev/null && return 0
    sleep 0.3
  done
  die "port $port not ready after $seconds s"
}

make_certificate() {  # $T/cert.pem and $T/key.pem: ECDSA P-256, self-signed, SAN bench.test + 127.0.0.1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench.test \
    -addext "subjectAltName=DNS:bench.test,IP:127.0.0.1" -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null
}

# ---------- the servers ----------
temp_paths() { echo "client_body_temp_path $1/body; proxy_temp_path $1/proxy; fastcgi_temp_path $1/fcgi; uwsgi_temp_path $1/uwsgi; scgi_temp_path $1/scgi;"; }

start_origin() {  # start_origin [<name> <port>]: nginx (default: "origin" on ORIGIN_PORT, its pid in ORIGIN_PID),
  # worker_processes 1, HTTP/1.1: /small (100 bytes), /64k, /text (16,384 bytes of this repository's
  # README as text/html: text that compresses like a web page, for the compression filter), PUT /sink
  # (reads the whole body, then 201/204)
  # ORIGIN_TLS=1: the port speaks TLS (the bench certificate, make_certificate first).
  # ORIGIN_LOG=<file>: one line "<connection serial> <requests on it so far>" per request.
  # ORIGIN_CACHE_CONTROL=<value>: every response carries "Cache-Control: <value>" (e.g. max-age=3600,
  # for caching proxies); unset, the origin sends none.
  # It never closes a keep-alive connection of its own accord (keepalive_requests far above any
  # run, nginx's default 1000 would close every 1000th and cap any proxy's reuse at 99.9 %).
  local name=${1:-origin} port=${2:-$ORIGIN_PORT} small listen log="access_log off;" cache_control=""
  local dir=$T/$name
  mkdir -p "$dir/www"
  small="hello$(printf 'x%.0s' $(seq 1 94))"
  head -c 65536 /dev/zero | tr '\0' 'x' > "$dir/www/64k"
  head -c 16384 "$BENCH_REPO/README.md" > "$dir/www/text"
  listen="listen $HOST:$port backlog=4096;"
  [[ "${ORIGIN_TLS:-0}" == 1 ]] && listen="listen $HOST:$port ssl backlog=4096;
    ssl_certificate $T/cert.pem; ssl_certificate_key $T/key.pem; ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:origin:1m; ssl_session_tickets on;"
  [[ -n "${ORIGIN_LOG:-}" ]] && log="log_format reuse '\$connection \$connection_requests';
  access_log ${ORIGIN_LOG} reuse buffer=256k flush=1s;"
  [[ -n "${ORIGIN_CACHE_CONTROL:-}" ]] && cache_control="add_header Cache-Control \"$ORIGIN_CACHE_CONTROL\" always;"
  # sendfile without TCP_CORK (tcp_nopush): with cork, /64k straight from the origin stalls on
  # delayed ACKs over loopback (the reference harness saw 40 ms p99s).
  cat > "$dir/nginx.conf" <<EOF
worker_processes 1; pid $dir/nginx.pid; error_log $dir/error.log warn;
events { worker_connections 16384; }
http {
  $log
  sendfile on; tcp_nopush off; tcp_nodelay on; keepalive_timeout 300s; keepalive_requests 100000000;
  open_file_cache max=64 inactive=60s; open_file_cache_valid 60s;
  $(temp_paths "$dir")
  server { $listen
           root $dir/www;
           $cache_control
           location = /small { default_type text/plain; return 200 "$small\n"; }
           location = /64k { default_type application/octet-stream; }
           location = /text { default_type text/html; }
           location = /sink { dav_methods PUT; client_max_body_size 1m; } }
}
EOF
  start_server "$name" nginx -p "$dir/" -e "$dir/error.log" -c "$dir/nginx.conf" -g 'daemon off;'
  [[ "$name" != origin ]] || ORIGIN_PID=$LAST_PID
}

start_nginx_proxy() {  # start_nginx_proxy "<listen directives>" [<name>]: nginx, worker_processes 1, to the origin
  # <name> (default nginx): its directory $T/<name> and its output files, so that several run at once.
  # NGINX_UPSTREAM_KEEPALIVE idle origin connections kept (default 64, as in ../shared/bench),
  # NGINX_KEEPALIVE_REQUESTS per origin connection (default: never closed for that);
  # NGINX_UPSTREAM_TLS=1: proxy_pass https:// with session reuse, no verification (nginx's default);
  # NGINX_ACCESS_LOG_FILE=<file>: the combined log there (buffered 64k, flushed each second), else off.
  # NGINX_CACHE_DIR=<dir>: a proxy_cache there (keys_zone 10m, max_size 256m, inactive 60m, no
  # proxy_cache_valid: the origin's Cache-Control decides; proxy_cache_lock on) and every response
  # says X-Cache: $upstream_cache_status (HIT, MISS, ...); unset, no cache.
  # A listen with ssl gets the bench certificate, TLS 1.3 only. Proxy buffers hold a 64 KiB body
  # (16 x 8k) and never spill to a temp file: /64k measures proxying, not the disk (a cached response
  # goes to its cache file all the same: put NGINX_CACHE_DIR on tmpfs).
  # NGINX_LOCATION_EXTRA=<directives>: added to the proxying location (e.g. "gzip on; gzip_types text/html;").
  local name=${2:-nginx} scheme=http ssl="" log="access_log off;" cache_zone="" cache=""
  local dir=$T/$name
  mkdir -p "$dir"
  [[ "${NGINX_UPSTREAM_TLS:-0}" == 1 ]] && scheme=https
  [[ "$1" == *" ssl"* ]] && ssl="ssl_certificate $T/cert.pem; ssl_certificate_key $T/key.pem;
    ssl_protocols TLSv1.3; ssl_session_tickets on;"
  [[ -n "${NGINX_ACCESS_LOG_FILE:-}" ]] && log="access_log $NGINX_ACCESS_LOG_FILE combined buffer=64k flush=1s;"
  if [[ -n "${NGINX_CACHE_DIR:-}" ]]; then
    cache_zone="proxy_cache_path $NGINX_CACHE_DIR levels=1:2 keys_zone=bench:10m max_size=256m inactive=60m use_temp_path=off;"
    cache="proxy_cache bench; proxy_cache_lock on; add_header X-Cache \$upstream_cache_status;"
  fi
  cat > "$dir/nginx.conf" <<EOF
worker_processes 1; pid $dir/nginx.pid; error_log $dir/error.log warn;
events { worker_connections 16384; }
http {
  $log
  keepalive_timeout 300s; keepalive_requests 100000000;
  $(temp_paths "$dir")
  $cache_zone
  upstream origin { server $HOST:$ORIGIN_PORT; keepalive ${NGINX_UPSTREAM_KEEPALIVE:-64};
                    keepalive_requests ${NGINX_KEEPALIVE_REQUESTS:-100000000}; keepalive_timeout 60s; }
  server {
    $1
    $ssl
    location / { proxy_pass $scheme://origin; proxy_http_version 1.1; proxy_set_header Connection "";
                 proxy_ssl_session_reuse on;
                 proxy_buffer_size 8k; proxy_buffers 16 8k; proxy_max_temp_file_size 0;
                 $cache ${NGINX_LOCATION_EXTRA:-} }
  }
}
EOF
  start_server "$name" nginx -p "$dir/" -e "$dir/error.log" -c "$dir/nginx.conf" -g 'daemon off;'
}

start_haproxy() {  # start_haproxy "<bind address>": HAProxy, nbthread 1, mode http, http-reuse always
  # HAPROXY_UPSTREAM_TLS=1: TLS to the origin (ssl verify none, sessions reused by default);
  # HAPROXY_MAXCONN (default 4096). No log: HAProxy logs only where a log target is configured.
  local tls=""
  [[ "${HAPROXY_UPSTREAM_TLS:-0}" == 1 ]] && tls=" ssl verify none"
  cat > "$T/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn ${HAPROXY_MAXCONN:-4096}
defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 300s
  timeout server 60s
  timeout http-keep-alive 300s
frontend fe
  bind $1
  default_backend be
backend be
  server origin $HOST:$ORIGIN_PORT$tls
EOF
  haproxy -c -q -f "$T/haproxy.cfg" || die "haproxy config $T/haproxy.cfg"
  start_server haproxy haproxy -db -f "$T/haproxy.cfg"
}

relay_upgrade_socket() {  # relay_upgrade_socket <name>: a config line, or nothing for the shipped default
  # Upgrades stay on (they choose the transport). Only when the default socket is held by another
  # Relay on this machine (which would refuse to start a second one) does this run use its own.
  # Decided once per name: a rewritten config (a reload, an upgrade) keeps the socket it had.
  local choice=$T/$1.upgrade-socket-line
  if [[ ! -f "$choice" ]]; then
    if [[ "$1" != relay ]] || [[ -n "$(ss -Hxl src /tmp/relay-upgrade.sock 2>/dev/null)" ]]; then
      [[ "$1" == relay ]] && log "relay: /tmp/relay-upgrade.sock is in use, this run's upgrade socket is in $T"
      echo "server.upgrade-socket = \"$T/$1-upgrade.sock\"" > "$choice"
    else
      : > "$choice"
    fi
  fi
  cat "$choice"
}

write_relay_conf() {  # write_relay_conf <name> <port> "<upstream group lines>" "<extra lines>": $T/<name>.conf
  # The listener, the upstream group "origin" (RELAY_BACKENDS, default the origin) and the route,
  # plus the extra lines (e.g. server.access-log = false); the rest is the shipped reference.conf.
  local backends=${RELAY_BACKENDS:-\"$HOST:$ORIGIN_PORT\"}
  cat > "$T/$1.conf" <<EOF
proxy {
  listeners = [ { address = "$HOST:$2" } ]
  upstreams { origin { backends = [ $backends ]
                       $3 } }
  routes = [ { upstream = origin } ]
  $(relay_upgrade_socket "$1")
  $4
}
EOF
}

start_relay() {  # start_relay <name> <port> "<upstream group lines>" "<extra lines>": Relay as users run it
  # java -jar proxy-server.jar -c FILE, no JVM flags, FILE from write_relay_conf: access log on (to
  # stdout, which goes to $T/<name>.out), upgrades on.
  # relay-alt may get JVM flags (RELAY_ALT_JVM_FLAGS: the launcher flags of proxy-server/src/dist, say)
  # and another jar (RELAY_ALT_JAR: an earlier commit's, for a before/after in one run).
  local flags= jar=$RELAY_JAR
  [[ "$1" == relay-alt ]] && flags=${RELAY_ALT_JVM_FLAGS:-} && jar=${RELAY_ALT_JAR:-$RELAY_JAR}
  write_relay_conf "$@"
  # shellcheck disable=SC2086
  start_server "$1" java $flags -jar "$jar" -c "$T/$1.conf"
}

start_targets() {  # start_targets: each proxy named in the TARGETS array, on its port in PORT; fills SPID
  # (direct = the origin, started before); returns when every one answers /small over plain HTTP.
  # Relay gets RELAY_UPSTREAM (upstream group lines) and RELAY_CONF_EXTRA; relay-alt RELAY_ALT_CONF too,
  # relay-cache RELAY_CACHE_CONF (its cache filter). nginx-cache caches in NGINX_CACHE_DIR (the
  # caller's, on tmpfs); the plain nginx never does.
  local t
  for t in "${TARGETS[@]}"; do
    case $t in
      direct) SPID[direct]=$ORIGIN_PID ;;
      nginx) NGINX_CACHE_DIR= start_nginx_proxy "listen $HOST:${PORT[nginx]} backlog=4096;" ;;
      nginx-cache) NGINX_CACHE_DIR=${NGINX_CACHE_DIR:?nginx-cache needs NGINX_CACHE_DIR} \
        start_nginx_proxy "listen $HOST:${PORT[nginx-cache]} backlog=4096;" nginx-cache ;;
      haproxy) start_haproxy "$HOST:${PORT[haproxy]}" ;;
      relay) start_relay relay "${PORT[relay]}" "${RELAY_UPSTREAM:-}" "${RELAY_CONF_EXTRA:-}" ;;
      relay-alt) start_relay relay-alt "${PORT[relay-alt]}" "${RELAY_UPSTREAM:-}" "${RELAY_CONF_EXTRA:-}
  ${RELAY_ALT_CONF:-}" ;;
      relay-cache) start_relay relay-cache "${PORT[relay-cache]}" "${RELAY_UPSTREAM:-}" "${RELAY_CONF_EXTRA:-}
  ${RELAY_CACHE_CONF:-}" ;;
      *) die "unknown target $t (expected: ${!PORT[*]})" ;;
    esac
    [[ "$t" == direct ]] || SPID[$t]=$LAST_PID
  done
  for t in "${TARGETS[@]}"; do
    [[ "$t" == direct ]] || wait_http "http://$HOST:${PORT[$t]}/small" 120 "${SPID[$t]}"
  done
}

relay_facts() {  # relay_facts <name>: the transport it chose and how many access-log lines it wrote
  local out="$T/$1.out" lines logged
  lines=$(wc -l < "$out"); logged=$(grep -c '^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.' "$out" || true)
  echo "$1: $(grep -o 'transport [a-z_]*, [0-9]* worker thread(s)' "$out" | head -1); access-log lines written: $((lines - logged))"
}

flushed_size() {  # flushed_size <file>: its size once nginx's buffered log (flush=1s) is on disk
  sleep 1.5
  stat -c %s "$1"
}

# ---------- the load client and the rounds ----------
run_client() {  # run_client <target> <out> <cpu> <command...>: the load client, output to <out>, pinned to <cpu>.
  # Sets: P0 P1 (the target's process-tree CPU ticks before and after), O0 O1 (the origin's),
  # CLIENT_CPU_PCT (the client's user+sys, % of one core), FOREIGN_PCT (CPU time the machine spent in
  # tasks this script did not start: /proc/stat user+nice+system less our process trees and the
  # client, % of one core; other tenants and builds show here), BUSY_CLIENT / BUSY_SERVER (% of the
  # client's and the server's core, irq and steal included), STEAL (max % of either core).
  local target=$1 out=$2 cpu=$3 w0 w1 ours0 ours1 steal_client steal_server
  shift 3
  P0=$(tree_ticks "${SPID[$target]}"); O0=$(tree_ticks "$ORIGIN_PID"); ours0=$(ours_ticks)
  cpu_snapshot > "$T/cpu0"; times > "$T/times0"; w0=$(date +%s.%N)
  if (( PIN )); then taskset -c "$cpu" "$@" > "$out" 2>&1 &
  else "$@" > "$out" 2>&1 & fi
  CLIENT_PID=$!
  wait "$CLIENT_PID" || log "$1 exited non-zero: $out"
  CLIENT_PID=
  w1=$(date +%s.%N); times > "$T/times1"; cpu_snapshot > "$T/cpu1"
  ours1=$(ours_ticks); P1=$(tree_ticks "${SPID[$target]}"); O1=$(tree_ticks "$ORIGIN_PID")
  CLIENT_CPU_PCT=$(awk -v a="$(child_seconds "$T/times0")" -v b="$(child_seconds "$T/times1")" -v w0="$w0" -v w1="$w1" \
    'BEGIN{printf "%.0f", (w1>w0 ? 100*(b-a)/(w1-w0) : 0)}')
  FOREIGN_PCT=$(awk -v ours=$((ours1 - ours0)) -v c0="$(child_seconds "$T/times0")" -v c1="$(child_seconds "$T/times1")" \
    -v hz="$CLK_TCK" -v w0="$w0" -v w1="$w1" '
    FNR==NR { if ($1=="all") a=$2; next }
    $1=="all" { f=($2-a-ours)/hz - (c1-c0); if (f<0) f=0; printf "%.1f", (w1>w0 ? 100*f/(w1-w0) : 0) }' "$T/cpu0" "$T/cpu1")
  BUSY_CLIENT=$(cpu_pct "$T/cpu0" "$T/cpu1" "cpu$cpu"); BUSY_SERVER=$(cpu_pct "$T/cpu0" "$T/cpu1" "cpu$SERVER_CPU")
  steal_client=$(cpu_pct "$T/cpu0" "$T/cpu1" "cpu$cpu" 4); steal_server=$(cpu_pct "$T/cpu0" "$T/cpu1" "cpu$SERVER_CPU" 4)
  STEAL=$(( steal_client > steal_server ? steal_client : steal_server ))
}

parse_wrk() {  # parse_wrk <wrk --latency output> -> "rps p50_ms p99_ms requests errors" (non-2xx + socket errors)
  awk 'function ms(v, n,u){n=v; sub(/[a-z]+$/,"",n); u=v; sub(/^[0-9.]+/,"",u);
         return u=="us" ? n/1000 : u=="ms" ? n+0 : u=="s" ? n*1000 : u=="m" ? n*60000 : -1}
       /Latency Distribution/{ld=1; next} ld&&$1=="50%"{p50=ms($2)} ld&&$1=="99%"{p99=ms($2); ld=0}
       / requests in /{reqs=$1} /^Requests\/sec:/{rps=$2}
       /Non-2xx/{err+=$NF} /Socket errors:/{gsub(/,/,""); err+=$4+$6+$8+$10}
       END{printf "%.0f %.3f %.3f %d %d\n", rps, p50, p99, reqs, err}' "$1"
}

run_rounds() {  # run_rounds <run function>: a warm-up per scenario and target, then RUNS rounds, the order rotated
  # The targets named in LONG_WARMUP_TARGETS (the JVM's JIT) warm up CANDIDATE_WARMUP seconds, the others WARMUP.
  # A long warm-up runs in parts of WARMUP_PART seconds (default 5), each on new connections: the JIT then
  # has compiled the accept, first-request and close paths too, as in a server that has run for a while.
  # Warmed up in one run, the first measured rounds recompiled dozens of methods deoptimized by the first
  # connection set-up or close they saw (unstable_if and class_check traps in -XX:+LogCompilation), on the
  # core the proxy shares with the origin. WARMUP_PART=0: one run, as the reference harness does.
  local s t r i w part n=${#TARGETS[@]}
  local parts="in parts of ${WARMUP_PART:-5}s"
  (( ${WARMUP_PART:-5} > 0 )) || parts="in one run"
  log "warm-up (${WARMUP}s per target and scenario${LONG_WARMUP_TARGETS:+, ${CANDIDATE_WARMUP}s for $LONG_WARMUP_TARGETS $parts})"
  for s in $SCENARIOS; do
    for t in "${TARGETS[@]}"; do
      w=$WARMUP
      part=$w
      if [[ " ${LONG_WARMUP_TARGETS:-} " == *" $t "* ]]; then
        w=$CANDIDATE_WARMUP
        part=${WARMUP_PART:-5}
        (( part > 0 )) || part=$w
      fi
      while (( w > 0 )); do
        (( part < w )) || part=$w
        "$1" 0 "$s" "$t" "$part"
        w=$((w - part))
      done
    done
  done
  for r in $(seq 1 "$RUNS"); do
    for s in $SCENARIOS; do
      for i in $(seq 0 $((n - 1))); do "$1" "$r" "$s" "${TARGETS[$(( (i + r) % n ))]}" "$DURATION" record; done
    done
  done
}

open_idle_clients() {  # open_idle_clients <port> <n> <cpu> <what>: bench/idle-clients.py opens n connections,
  # one GET /small each, and holds them idle until close_idle_clients; dies unless all n are open within 180 s
  local line
  if (( PIN )); then coproc CLIENTS { taskset -c "$3" python3 "$BENCH_REPO/bench/idle-clients.py" "$1" "$2" 2>&1; }
  else coproc CLIENTS { python3 "$BENCH_REPO/bench/idle-clients.py" "$1" "$2" 2>&1; }; fi
  CLIENT_PID=$CLIENTS_PID
  read -r -t 180 line <&"${CLIENTS[0]}" || line="no answer within 180 s"
  [[ "$line" == "READY $2" ]] || die "$4: the idle client says: $line"
}
close_idle_clients() {  # close_idle_clients: the connections of open_idle_clients close, the client exits
  echo >&"${CLIENTS[1]}"
  wait "$CLIENT_PID" 2>/dev/null || true
  CLIENT_PID=
}

host_meta() {  # the first lines of meta.txt: date, host and CPUs
  echo "date: $(date -Is)"
  echo "host: $(uname -srm); cpus: $(nproc) x $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo); mem: $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
}

col() { awk -F'\t' -v s="$1" -v t="$2" -v c="$3" 'NR>1 && $2==s && $3==t {print $c}' "$TSV"; }
median() { sort -g | awk '{a[NR]=$1} END{ if (NR==0) print "NA"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }
maxv() { sort -g | tail -1; }
sumv() { awk '{s+=$1} END{print s+0}'; }
# a/b to two places; "-" when there is no b (no nginx row in the run: its median is NA).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b + 0 > 0) printf "%.2f", a / b; else printf "-" }'; }
mib() { awk '{printf "%.0f", $1/1024}'; }

details_table() {  # the "Details" table for PATHS x TARGETS from a runs.tsv laid out as proxy-bench.sh's
  # (4 rps, 12 pss_kb, 13 wrk_cpu_pct, 14/15 the cores' busy %, 16 steal_pct): the spread of req/s over
  # the rounds, PSS after (none for direct), wrk's CPU, each core's busy and the steal.
  local path t spread pss
  echo "| path | target | rps spread % | PSS MiB after | wrk CPU % | cpu$WRK_CPU/cpu$SERVER_CPU busy % | steal % (max) |"
  echo "|---|---|---:|---:|---:|---:|---:|"
  for path in $PATHS; do
    for t in "${TARGETS[@]}"; do
      spread=$(col "$path" "$t" 4 | sort -g | awk '{a[NR]=$1} END{m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", (m>0 ? 100*(a[NR]-a[1])/m : 0)}')
      pss=-; [[ "$t" != direct ]] && pss=$(col "$path" "$t" 12 | maxv | mib)
      printf '| %s | %s | %s | %s | %s | %s/%s | %s |\n' "$path" "$t" "$spread" "$pss" "$(col "$path" "$t" 13 | median)" \
        "$(col "$path" "$t" 14 | median)" "$(col "$path" "$t" 15 | median)" "$(col "$path" "$t" 16 | maxv)"
    done
  done
}
