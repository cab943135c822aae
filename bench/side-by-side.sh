# side-by-side.sh - what bench/tls-bench.sh and bench/h2-bench.sh share (sourced, not run): their
# temporary and results directories, the cleanup of every process they start, tool and port checks,
# CPU pinning, the CPU and RSS accounting of a process tree, the bench certificate, the plain nginx
# origin, the nginx proxy in front of it, and medians of the rounds in runs.tsv.
#
# The caller sets HOST, SERVER_CPU, ORIGIN_PORT and RESULTS_DIR, then calls bench_init <name>.

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# The load client running now (h2load, wrk): stopped first on exit.
CLIENT_PID=
PIDS=()
LAST_PID=

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

bench_init() {  # bench_init <name>: $T (removed on exit), $RESULTS_DIR/raw, CLK_TCK, the traps
  mkdir -p "$RESULTS_DIR/raw"
  T=$(mktemp -d "/tmp/$1.XXXXXX")
  chmod 755 "$T"
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
cpu_us_per_request() {  # cpu_us_per_request <ticks before> <ticks after> <requests>
  awk -v a="$1" -v b="$2" -v n="$3" -v hz="$CLK_TCK" 'BEGIN{printf "%.2f", (n>0 ? (b-a)*1e6/hz/n : 0)}'
}

start_server() {  # start_server <name> <cmd...>: own session, pinned to SERVER_CPU; its pid in LAST_PID
  local name=$1; shift
  if (( PIN )); then setsid taskset -c "$SERVER_CPU" "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null &
  else setsid "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null & fi
  LAST_PID=$!
  PIDS+=("$LAST_PID")
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

temp_paths() { echo "client_body_temp_path $1/body; proxy_temp_path $1/proxy; fastcgi_temp_path $1/fcgi; uwsgi_temp_path $1/uwsgi; scgi_temp_path $1/scgi;"; }

start_origin() {  # plain nginx on ORIGIN_PORT, worker_processes 1, HTTP/1.1: /small (100 bytes), /64k; ORIGIN_PID
  local small
  mkdir -p "$T/origin/www"
  small="hello$(printf 'x%.0s' $(seq 1 94))"
  head -c 65536 /dev/zero | tr '\0' 'x' > "$T/origin/www/64k"
  cat > "$T/origin/nginx.conf" <<EOF
worker_processes 1; pid $T/origin/nginx.pid; error_log $T/origin/error.log warn;
events { worker_connections 16384; }
http {
  access_log off; tcp_nodelay on; keepalive_timeout 75s; keepalive_requests 1000000;
  $(temp_paths "$T/origin")
  server { listen $HOST:$ORIGIN_PORT backlog=4096; root $T/origin/www;
           location = /small { default_type text/plain; return 200 "$small\n"; }
           location = /64k { default_type application/octet-stream; } }
}
EOF
  start_server origin nginx -p "$T/origin/" -e "$T/origin/error.log" -c "$T/origin/nginx.conf" -g 'daemon off;'
  ORIGIN_PID=$LAST_PID
}

start_nginx_proxy() {  # start_nginx_proxy "<listen directives>": nginx (TLS 1.3, the bench certificate) to the origin;
  # NGINX_UPSTREAM_KEEPALIVE idle origin connections kept (default 64, as in ../shared/bench)
  mkdir -p "$T/nginx"
  cat > "$T/nginx/nginx.conf" <<EOF
worker_processes 1; pid $T/nginx/nginx.pid; error_log $T/nginx/error.log warn;
events { worker_connections 16384; }
http {
  access_log off; keepalive_timeout 75s; keepalive_requests 1000000;
  $(temp_paths "$T/nginx")
  upstream origin { server $HOST:$ORIGIN_PORT; keepalive ${NGINX_UPSTREAM_KEEPALIVE:-64}; keepalive_requests 1000000; }
  server {
    $1
    ssl_certificate $T/cert.pem; ssl_certificate_key $T/key.pem;
    ssl_protocols TLSv1.3; ssl_session_tickets on;
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
EOF
  start_server nginx nginx -p "$T/nginx/" -e "$T/nginx/error.log" -c "$T/nginx/nginx.conf" -g 'daemon off;'
}

run_client() {  # run_client <target> <out> <cpu> <command...>: the load client, output to <out>, pinned to <cpu>;
                # the CPU ticks of the target's and the origin's process trees before and after: P0 P1, O0 O1
  local target=$1 out=$2 cpu=$3
  shift 3
  P0=$(tree_ticks "${SPID[$target]}"); O0=$(tree_ticks "$ORIGIN_PID")
  if (( PIN )); then taskset -c "$cpu" "$@" > "$out" 2>&1 &
  else "$@" > "$out" 2>&1 & fi
  CLIENT_PID=$!
  wait "$CLIENT_PID" || log "$1 exited non-zero: $out"
  CLIENT_PID=
  P1=$(tree_ticks "${SPID[$target]}"); O1=$(tree_ticks "$ORIGIN_PID")
}

run_rounds() {  # run_rounds <run function>: a warm-up per scenario and target, then RUNS rounds, the order rotated
  local s t r i
  log "warm-up (${WARMUP}s per target and scenario)"
  for s in $SCENARIOS; do for t in "${TARGETS[@]}"; do "$1" 0 "$s" "$t" "$WARMUP"; done; done
  for r in $(seq 1 "$RUNS"); do
    for s in $SCENARIOS; do
      for i in 0 1; do "$1" "$r" "$s" "${TARGETS[$(( (i + r) % 2 ))]}" "$DURATION" record; done
    done
  done
}

host_meta() {  # the first lines of meta.txt: date, host and CPUs
  echo "date: $(date -Is)"
  echo "host: $(uname -srm); cpus: $(nproc) x $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
}

col() { awk -F'\t' -v s="$1" -v t="$2" -v c="$3" 'NR>1 && $2==s && $3==t {print $c}' "$TSV"; }
median() { sort -g | awk '{a[NR]=$1} END{ if (NR==0) print "NA"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", (b>0 ? a/b : 0)}'; }
