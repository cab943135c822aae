#!/usr/bin/env bash
# soak.sh - Relay under an hour of mixed, hostile traffic: does anything grow that should stay flat?
#
# Relay as users run it (java -jar proxy-server.jar -c FILE, the shipped reference.conf) plus one
# JVM flag, -Dio.netty.leakDetection.level=paranoid, so that every network buffer is tracked and a
# buffer never released is reported ("LEAK:" in the output). Two nginx backends (the bench origin;
# the second one is stopped and restarted every ORIGIN_FLAP seconds) behind one upstream group, round
# robin, and an admin listener. For DURATION seconds, all at once, loopback only:
#   keep-alive load   wrk -c$CONNS on /small and /64k (two wrk processes, one core between them)
#   slow clients      slowhttptest in turn: slowloris (-H), slow body (-B), slow read (-X), SLOW_CONNS
#                     connections each, SLOW_PHASE seconds a phase
#   aborted requests  curl downloads of /64k cut off after ABORT_AFTER s at 8 KiB/s, and uploads of
#                     64 KiB cut off mid-body, ABORTERS loops
#   origin faults     /drop (nginx closes the connection without an answer: 502), /slow64k (the origin
#                     sends at 32 KiB/s), the second backend stopped and restarted every ORIGIN_FLAP s
#   reloads           every RELOAD_INTERVAL s a reload by POST /reload, every fourth by SIGHUP,
#                     alternating two configurations (weights 1/1 and 3/1)
# Every SAMPLE seconds: RSS, open file descriptors and threads of the proxy (from /proc), the buffer
# memory its allocator reserved, its client and upstream connections (from /metrics) and its Java heap
# (jcmd GC.heap_info): samples.tsv. At the
# end: the figures of the first and the last quarter after WARMUP, the growth between them, the leak
# reports, the clients' totals: summary.txt; and a plot (bench/soak-plot.py, needs python3-matplotlib)
# when PLOT=<png path> is set.
# Exit status 0 when flat: the memory outside the Java heap (RSS less the heap's resident pages), the
# live heap (the objects a class histogram counts, jcmd GC.class_histogram every LIVE_EVERY samples: a
# full collection, then only what survived it), threads, buffer memory and the descriptors other than
# client sockets each grew at most FLAT_PERCENT from the first to the last quarter (threads: or by at
# most 8; the live heap: or by at most 8 MiB; those descriptors, upstream sockets among them: or by at
# most 64, a pool breathes) and no leak was reported; 1 otherwise. RSS and the heap's committed and resident
# size (the JVM grows the heap toward its maximum when collections are frequent, as they are with
# paranoid leak tracking, and its pages become resident as they are first used), all descriptors
# and client connections are shown, not judged.
#
# Usage: mvn -q -B package -DskipTests && bench/soak.sh            (one hour)
#        DURATION=300 SAMPLE=5 bench/soak.sh                        (a five-minute check)
# Settings (env): DURATION=3600 SAMPLE=10 LIVE_EVERY=30 WARMUP=60 CONNS=16 SLOW_CONNS=200 SLOW_PHASE=120
#   ABORTERS=2 ABORT_AFTER=1 ORIGIN_FLAP=60 RELOAD_INTERVAL=30 FLAT_PERCENT=10 PLOT=
#   ORIGIN_PORT=28410 ORIGIN2_PORT=28411 RELAY_PORT=28412 ADMIN_PORT=28413 WRK_CPU=0 SERVER_CPU=1
#   RELAY_JAR=proxy-server/target/proxy-server.jar RESULTS_DIR=<dir> (default $TMPDIR or /tmp,
#   soak-results/<timestamp>)
set -Eeuo pipefail

: "${DURATION:=3600}" "${SAMPLE:=10}" "${WARMUP:=60}" "${CONNS:=16}" "${SLOW_CONNS:=200}" "${SLOW_PHASE:=120}"
: "${ABORTERS:=2}" "${ABORT_AFTER:=1}" "${ORIGIN_FLAP:=60}" "${RELOAD_INTERVAL:=30}" "${FLAT_PERCENT:=10}"
: "${LIVE_EVERY:=30}" "${ORIGIN_PORT:=28410}" "${ORIGIN2_PORT:=28411}" "${RELAY_PORT:=28412}" "${ADMIN_PORT:=28413}"
: "${WRK_CPU:=0}" "${SERVER_CPU:=1}" "${PLOT:=}"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/side-by-side.sh
. "$ROOT/bench/side-by-side.sh"
bench_init soak
require_tools "wrk nginx curl slowhttptest util-linux iproute2" wrk nginx curl slowhttptest java taskset setsid ss
require_free_ports "$ORIGIN_PORT" "$ORIGIN2_PORT" "$RELAY_PORT" "$ADMIN_PORT"
# Not a speed measurement: the proxy and the origins run wherever the scheduler puts them, only the
# keep-alive load is held to one core so that the attacks and the proxy always get CPU.
PIN=0

# ---------- the origins: the bench origin plus the fault locations ----------
start_soak_origin() {  # start_soak_origin <name> <port>: the bench origin, with /drop and /slow64k added
  local name=$1 port=$2
  start_origin "$name" "$port"
  local conf=$T/$name/nginx.conf
  # /drop: nginx's 444 closes the connection without a byte; /slow64k: the 64 KiB file at 32 KiB/s.
  sed -i "s|location = /64k {|location = /drop { return 444; }\n           location = /slow64k { alias $T/$name/www/64k; limit_rate 32k; }\n           location = /64k {|" "$conf"
  kill -TERM "$LAST_PID"; wait "$LAST_PID" 2>/dev/null || true
  start_server "$name" nginx -p "$T/$name/" -e "$T/$name/error.log" -c "$conf" -g 'daemon off;'
  wait_http "http://$HOST:$port/small" 10 "$LAST_PID"
}
start_soak_origin origin "$ORIGIN_PORT"; ORIGIN_PID=$LAST_PID
start_soak_origin origin2 "$ORIGIN2_PORT"; ORIGIN2_PID=$LAST_PID

# ---------- Relay ----------
# The access log goes to a file that reloads rotate, as logrotate would (the reload reopens it):
# each reload's rotated file is summed into the client-visible failures and then removed.
ADMIN="admin.address = \"$HOST:$ADMIN_PORT\"
  server.access-log-path = \"$T/access.log\""
EVEN="\"$HOST:$ORIGIN_PORT\", \"$HOST:$ORIGIN2_PORT\""
UNEVEN="{ address = \"$HOST:$ORIGIN_PORT\", weight = 3 }, \"$HOST:$ORIGIN2_PORT\""
RELAY_BACKENDS=$EVEN write_relay_conf relay "$RELAY_PORT" "" "$ADMIN"
# SIGHUP with its default disposition: a soak started under nohup would hand the proxy an ignored
# SIGHUP (a process cannot undo an ignore it inherited), and every fourth reload would do nothing.
start_server relay env --default-signal=HUP java -Dio.netty.leakDetection.level=paranoid -jar "$RELAY_JAR" \
  -c "$T/relay.conf"
RELAY_PID=$LAST_PID
wait_http "http://$HOST:$RELAY_PORT/small" 120 "$RELAY_PID"
! grep -q 'SIGHUP is ignored' "$T/relay.out" || die "the proxy ignores SIGHUP (inherited): the SIGHUP reloads would not happen"
log "relay pid $RELAY_PID: $(grep -o 'transport [a-z_]*, [0-9]* worker thread(s)' "$T/relay.out" | head -1)"

# ---------- the traffic: background loops, each ending by itself at END ----------
END=$((SECONDS + DURATION))
running() { (( SECONDS < END )); }

load() {  # load <path>: wrk on one core for the whole run
  taskset -c "$WRK_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" --timeout 10s --latency "http://$HOST:$RELAY_PORT$1" \
    > "$RESULTS_DIR/raw/wrk$(tr / - <<<"$1").txt" 2>&1
}
slow_clients() {  # the three slowhttptest attacks in turn until the end
  local phase=0 mode
  local -a modes=(-H -B -X)
  while running; do
    mode=${modes[$((phase % 3))]}
    local extra=()
    [[ "$mode" == -X ]] && extra=(-u "http://$HOST:$RELAY_PORT/64k" -k 4 -w 16 -y 32 -n 5 -z 16)
    [[ "$mode" != -X ]] && extra=(-u "http://$HOST:$RELAY_PORT/small" -i 10)
    timeout $((SLOW_PHASE + 30)) slowhttptest "$mode" -c "$SLOW_CONNS" -r 100 -l "$SLOW_PHASE" -p 5 \
      "${extra[@]}" >> "$RESULTS_DIR/raw/slowhttptest.txt" 2>&1 || true
    phase=$((phase + 1))
  done
}
aborters() {  # downloads and uploads cut off midway
  head -c 65536 /dev/urandom > "$T/upload.bin"
  local n=0
  while running; do
    curl -s -o /dev/null --limit-rate 8k --max-time "$ABORT_AFTER" "http://$HOST:$RELAY_PORT/64k" || true
    curl -s -o /dev/null --limit-rate 16k --max-time "$ABORT_AFTER" -T "$T/upload.bin" "http://$HOST:$RELAY_PORT/small" || true
    curl -s -o /dev/null --max-time 5 "http://$HOST:$RELAY_PORT/drop" || true
    curl -s -o /dev/null --max-time 1 "http://$HOST:$RELAY_PORT/slow64k" || true
    n=$((n + 4))
  done
  echo "$n" > "$RESULTS_DIR/raw/aborter-$BASHPID.count"
}
origin_flaps() {  # the second backend down for a few seconds every ORIGIN_FLAP s
  local flaps=0
  while running; do
    sleep "$ORIGIN_FLAP"; running || break
    kill -TERM "$ORIGIN2_PID" 2>/dev/null || true; wait "$ORIGIN2_PID" 2>/dev/null || true
    sleep 5
    start_server origin2 nginx -p "$T/origin2/" -e "$T/origin2/error.log" -c "$T/origin2/nginx.conf" -g 'daemon off;'
    ORIGIN2_PID=$LAST_PID
    echo "$ORIGIN2_PID" > "$T/origin2.pid"   # this subshell's restarts are not in the main shell's PIDS
    flaps=$((flaps + 1))
  done
  echo "$flaps" > "$RESULTS_DIR/raw/flaps.count"
}
count_statuses() {  # count_statuses <access log>: "<path> <status>" counts appended to statuses.txt, file removed
  [[ -f "$1" ]] || return 0
  awk '{split($7, p, "?"); print p[1], $9}' "$1" >> "$RESULTS_DIR/raw/statuses.txt"
  # The whole line of every failure on a load path (peer, attempts, reuse and error type in it), to
  # tell what caused it: the error log is rate-limited, the access log is not.
  awk '{split($7, p, "?")} (p[1] == "/small" || p[1] == "/64k") && $9 >= 500' "$1" >> "$RESULTS_DIR/raw/failures.log"
  rm -f "$1"
}
reloads() {  # alternating configurations, by POST /reload and every fourth by SIGHUP
  local n=0 backends
  while running; do
    sleep "$RELOAD_INTERVAL"; running || break
    if (( n % 2 )); then backends=$EVEN; else backends=$UNEVEN; fi
    RELAY_BACKENDS=$backends write_relay_conf relay "$RELAY_PORT" "" "$ADMIN"
    mv "$T/access.log" "$T/access.log.1" 2>/dev/null || true
    if (( n % 4 == 3 )); then kill -HUP "$RELAY_PID"
    else curl -s -o /dev/null -X POST "http://$HOST:$ADMIN_PORT/reload" || true; fi
    sleep 1   # lines already claimed before the reopen land in the rotated file
    count_statuses "$T/access.log.1"
    n=$((n + 1))
  done
  count_statuses "$T/access.log"
  echo "$n" > "$RESULTS_DIR/raw/reloads.count"
}

metric() {  # metric <scrape file> <series>: its value, or NA
  awk -v s="$2" '$1 == s {print $2; f=1} END {if (!f) print "NA"}' "$1"
}
sampler() {  # samples.tsv every SAMPLE s
  local t0=$SECONDS scrape=$T/scrape.txt samples=0
  printf 'seconds\trss_kib\tfds\tthreads\tbuffer_direct_bytes\tbuffer_heap_bytes\tclient_connections\tupstream_idle\tupstream_active\theap_committed_kib\theap_used_kib\theap_resident_kib\theap_live_kib\n' \
    > "$RESULTS_DIR/samples.tsv"
  while running; do
    curl -s --max-time 5 "http://$HOST:$ADMIN_PORT/metrics" > "$scrape" || : > "$scrape"
    # The Java heap as the JVM sees it (jcmd, from the JDK): committed, and used at this instant.
    # Every LIVE_EVERY-th sample the live heap: a class histogram collects first and then counts only
    # what survived, at one safepoint. (GC.run then GC.heap_info is not that: between the two commands
    # the proxy under load allocates tens of megabytes, and "used" counts them.) The heap used in the
    # other samples is a sawtooth.
    live=NA
    if (( LIVE_EVERY > 0 && samples % LIVE_EVERY == LIVE_EVERY - 1 )); then
      live=$(jcmd "$RELAY_PID" GC.class_histogram 2>/dev/null | awk '/^Total/ {printf "%d", $3 / 1024}')
    fi
    samples=$((samples + 1))
    info=$(jcmd "$RELAY_PID" GC.heap_info 2>/dev/null) || info=
    heap=$(grep -m1 ' total ' <<<"$info" | sed -E 's/.* total ([0-9]+)K, used ([0-9]+)K.*/\1\t\2/')
    [[ "$heap" == *$'\t'* ]] || heap=$'NA\tNA'
    # How much of the heap's mapping is resident: RSS less this is the memory outside the Java heap.
    # The heap is one reserved range, [start, end) in GC.heap_info, that the kernel shows as several
    # mappings once the collector has committed and uncommitted parts of it: their Rss is summed.
    range=$(grep -o -m1 '\[0x[0-9a-f]*, 0x[0-9a-f]*)' <<<"$info" | tr -d '[),' | sed 's/0x//g')
    resident=$( [[ -n "$range" ]] && awk -v range="$range" '
      function pad(h) { while (length(h) < 16) h = "0" h; return h }
      BEGIN { split(range, r, " "); lo = pad(r[1]); hi = pad(r[2]) }
      /^[0-9a-f]+-[0-9a-f]+ / { split($1, a, "-"); start = pad(a[1]); in_heap = start >= lo && start < hi; next }
      in_heap && /^Rss:/ { sum += $2 }
      END { if (lo != "") print sum + 0 }' "/proc/$RELAY_PID/smaps" 2>/dev/null)
    printf '%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' $((SECONDS - t0)) \
      "$(awk '/^VmRSS:/{print $2}' "/proc/$RELAY_PID/status")" \
      "$(find "/proc/$RELAY_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)" \
      "$(awk '/^Threads:/{print $2}' "/proc/$RELAY_PID/status")" \
      "$(metric "$scrape" 'relay_buffer_memory_bytes{kind="direct"}')" \
      "$(metric "$scrape" 'relay_buffer_memory_bytes{kind="heap"}')" \
      "$(metric "$scrape" relay_downstream_connections)" \
      "$(metric "$scrape" 'relay_upstream_connections{state="idle"}')" \
      "$(metric "$scrape" 'relay_upstream_connections{state="active"}')" "$heap" "${resident:-NA}" "${live:-NA}" >> "$RESULTS_DIR/samples.tsv"
    sleep "$SAMPLE"
  done
}

log "soak for ${DURATION}s, samples every ${SAMPLE}s into $RESULTS_DIR"
BG=()
stop_loops() {  # on any exit, before the common cleanup: the loops, what they run, a restarted backend
  local rc=$? pid
  set +e
  for pid in "${BG[@]}"; do pkill -TERM -P "$pid" 2>/dev/null; kill -TERM "$pid" 2>/dev/null; done
  [[ -f "$T/origin2.pid" ]] && kill -TERM "$(cat "$T/origin2.pid")" 2>/dev/null
  (exit "$rc"); cleanup
}
trap stop_loops EXIT
load /small & BG+=($!)
load /64k & BG+=($!)
slow_clients & BG+=($!)
for _ in $(seq 1 "$ABORTERS"); do aborters & BG+=($!); done
origin_flaps & BG+=($!)
reloads & BG+=($!)
sampler & BG+=($!)
for pid in "${BG[@]}"; do wait "$pid" || true; done
[[ -f "$T/origin2.pid" ]] && PIDS+=("$(cat "$T/origin2.pid")")
kill -0 "$RELAY_PID" 2>/dev/null || die "relay exited during the soak: $T/relay.err"

# ---------- the summary ----------
leaks=$(cat "$T/relay.out" "$T/relay.err" | grep -c 'LEAK:' || true)
cp "$T/relay.err" "$RESULTS_DIR/raw/relay.err"
grep -v '^[0-9.]* - ' "$T/relay.out" | tail -2000 > "$RESULTS_DIR/raw/relay-log-tail.txt" || true
verdict=0
python3 - "$RESULTS_DIR/samples.tsv" "$WARMUP" "$FLAT_PERCENT" "$leaks" > "$RESULTS_DIR/summary.txt" <<'EOF' || verdict=$?
import csv, statistics, sys
path, warmup, flat, leaks = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
rows = [r for r in csv.DictReader(open(path), delimiter='\t') if float(r['seconds']) >= warmup]
def values(col):
    return [float(r[col]) for r in rows if r.get(col, 'NA') not in ('', 'NA')]
ok = leaks == 0 and len(rows) >= 4
print(f"samples after the {warmup:.0f} s warm-up: {len(rows)}; leak reports: {leaks}")
print(f"{'series':22s} {'first quarter':>15s} {'last quarter':>15s} {'growth':>8s} {'max':>15s}")
def derived(name, a, b):   # a column a - b, NA where either is missing
    for r in rows:
        r[name] = 'NA' if r.get(a, 'NA') in ('', 'NA') or r.get(b, 'NA') in ('', 'NA') else \
            str(float(r[a]) - float(r[b]))
# Descriptors other than client sockets must come back (clients come and go); the memory outside the
# Java heap (RSS less the heap's resident pages: code, metaspace, threads, direct buffers, native
# leaks) must stay flat. The heap's own pages are the JVM's sizing choice, bounded by its maximum, and
# become resident as the collector first uses them: shown, not judged.
derived('fds_less_clients', 'fds', 'client_connections')
derived('rss_less_heap_kib', 'rss_kib', 'heap_resident_kib')
# (series, slack, statistic): the live heap is counted after a full collection every LIVE_EVERY
# samples; what is alive depends on what the attacks of the moment hold (200 slow connections' state),
# so it may move by up to 8 MiB between quarters (a leak of one byte per request would be over 20 MiB
# in an hour); the heap used in between is a sawtooth (its minimum per quarter is shown, not judged:
# an old generation fills between concurrent cycles).
for col, slack, stat in (('rss_kib', None, 'median'), ('heap_committed_kib', None, 'median'),
                         ('heap_resident_kib', None, 'median'),
                         ('rss_less_heap_kib', 0, 'median'), ('heap_live_kib', 8192, 'median'),
                         ('heap_used_kib', None, 'min'),
                         ('fds', None, 'median'), ('fds_less_clients', 64, 'median'), ('threads', 8, 'median'),
                         ('buffer_direct_bytes', 0, 'median'), ('buffer_heap_bytes', 0, 'median'),
                         ('client_connections', None, 'median'), ('upstream_idle', None, 'median'),
                         ('upstream_active', None, 'median')):
    v = values(col)
    if len(v) < 4:
        # A short run has too few live-heap points; no figure at all for another series is a failure.
        sparse = col == 'heap_live_kib' and len(v) > 0
        print(f"{col:22s} ({len(v)} samples: {'too few, not judged' if sparse else 'no data'})")
        ok = ok and (slack is None or sparse)
        continue
    quarter = max(1, len(v) // 4)   # per series: the live heap is sampled less often than the rest
    summary = min if stat == 'min' else statistics.median
    first, last = summary(v[:quarter]), summary(v[-quarter:])
    growth = (last - first) / first * 100 if first else 0.0
    flat_enough = slack is None or last <= first * (1 + flat / 100) or last - first <= slack
    ok = ok and flat_enough
    print(f"{col:22s} {first:15.0f} {last:15.0f} {growth:7.1f}% {max(v):15.0f}{'' if flat_enough else '  NOT FLAT'}")
print("verdict:", "flat, no leak" if ok else "NOT flat or leaked")
sys.exit(0 if ok else 1)
EOF
{
  echo "wrk /small: $(parse_wrk "$RESULTS_DIR/raw/wrk-small.txt")  (rps p50_ms p99_ms requests errors)"
  echo "wrk /64k:   $(parse_wrk "$RESULTS_DIR/raw/wrk-64k.txt")"
  echo "aborted or faulty requests: $(cat "$RESULTS_DIR"/raw/aborter-*.count 2>/dev/null | sumv)"
  echo "slowhttptest phases: $(grep -c 'test type:' "$RESULTS_DIR/raw/slowhttptest.txt" || echo 0)"
  echo "origin flaps: $(cat "$RESULTS_DIR/raw/flaps.count" 2>/dev/null || echo 0); reloads: $(cat "$RESULTS_DIR/raw/reloads.count" 2>/dev/null || echo 0)"
  echo "responses by path and status (access log; 0 = the client left before an answer, as wrk does with"
  echo "the requests it has in flight when its run ends), the wrk paths:"
  sort "$RESULTS_DIR/raw/statuses.txt" 2>/dev/null | uniq -c | sort -k2,2 -k3,3 | awk '$2=="/small" || $2=="/64k" {printf "  %-8s %s %d\n", $2, $3, $1}'
  echo "failures on the load paths by peer, attempts and error (raw/failures.log):"
  awk '{for (i = 10; i <= NF; i++) if ($i ~ /^(peer|attempts|reused|error)=/) k = k " " $i; print k; k = ""}' \
    "$RESULTS_DIR/raw/failures.log" 2>/dev/null | sort | uniq -c | sort -rn | head -20
  echo "relay error-log lines: $(grep -c ' ERROR ' "$T/relay.out" || true), WARN: $(grep -c ' WARN ' "$T/relay.out" || true)"
} >> "$RESULTS_DIR/summary.txt"
cat "$RESULTS_DIR/summary.txt"
if [[ -n "$PLOT" ]]; then
  # The distribution's python has python3-matplotlib; a python3 earlier on the PATH may not.
  python=python3
  python3 -c 'import matplotlib' 2>/dev/null || python=/usr/bin/python3
  "$python" "$ROOT/bench/soak-plot.py" "$RESULTS_DIR/samples.tsv" "$PLOT" || log "no plot (python3-matplotlib missing?)"
fi
exit "$verdict"
