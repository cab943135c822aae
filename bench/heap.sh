#!/usr/bin/env bash
# heap.sh - Relay's Java heap counted object by object (loopback only): the bytes a proxied request
# allocates, by class, and the live heap an idle keep-alive client connection keeps, by class.
#
# Exact where the profilers sample: both figures come from the JDK's class histograms (jcmd), which
# count every object of the heap.
#   allocation   after a warm-up (WARMUP s of wrk -c$CONNS on PATH_, so the JIT has compiled the
#                request path and its escape analysis has removed what it can: Netty's io_uring
#                operations, IoUringIoOps, about four per request, were still made after 20 s and
#                gone after a minute), a full collection
#                empties the young generation, wrk runs BURST s, and a histogram of all objects,
#                unreachable ones included, is taken before anything is collected again:
#                (objects after - objects before) / requests. A young collection during the burst
#                would hide objects: the run checks the collector's count and says so (lower BURST).
#                Every thread's objects count (the access log's writer too), as they should.
#                int[] is left out of the total and shown apart: to walk the heap the JVM fills the
#                unused end of every thread's allocation buffer with an int[] (about 1 MB a histogram
#                with the event loop's buffer), which would swamp the per-request figure.
#   idle         bench/idle-clients.py opens N connections, one GET /small each, and holds them idle;
#                a histogram of live objects (it collects first) with them and before them:
#                (after - before) / N. The kernel's socket buffers are not on the heap.
# Each jar runs as users run it (java -jar proxy-server.jar -c FILE, no JVM flags, the shipped
# reference.conf), pinned to SERVER_CPU with the nginx origin; RELAY_ALT_JAR (an earlier build) runs
# second, the same way, for a before/after in one run.
#
# Usage: mvn -q -B package -DskipTests && bench/heap.sh          (or bench/run.sh heap)
# Settings (env): PATH_=/small CONNS=50 WARMUP=60 BURST=1 N=5000 TOP=25 WRK_CPU=0 SERVER_CPU=1
#   ORIGIN_PORT=28340 RELAY_PORT=28343 RELAY_JAR=proxy-server/target/proxy-server.jar RELAY_ALT_JAR=''
#   RELAY_CONF_EXTRA='' (HOCON lines inside proxy { }) RESULTS_DIR=<dir> (default $TMPDIR or /tmp,
#   heap-results/<timestamp>)
set -Eeuo pipefail
: "${PATH_:=/small}" "${CONNS:=50}" "${WARMUP:=60}" "${BURST:=1}" "${N:=5000}" "${TOP:=25}"
: "${WRK_CPU:=0}" "${SERVER_CPU:=1}" "${ORIGIN_PORT:=28340}" "${RELAY_PORT:=28343}" "${RELAY_CONF_EXTRA:=}"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/side-by-side.sh
. "$ROOT/bench/side-by-side.sh"
bench_init heap
require_tools "wrk nginx curl python3 util-linux iproute2" wrk nginx curl python3 java jcmd taskset setsid ss
require_free_ports "$ORIGIN_PORT" "$RELAY_PORT"
ulimit -n "$(ulimit -Hn)"
(( N + 100 < $(ulimit -n) )) || die "N=$N is above the open-files limit $(ulimit -n)"

JARS=("relay=$RELAY_JAR")
[[ -n "${RELAY_ALT_JAR:-}" ]] && JARS+=("relay-alt=$RELAY_ALT_JAR")
{
  host_meta
  echo "versions: $(nginx -v 2>&1 | sed 's/.*: //'); wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'); $(java -version 2>&1 | head -1)"
  echo "allocation: wrk -t1 -c$CONNS on $PATH_, ${WARMUP}s warm-up then a ${BURST}s burst after a full collection; idle: N=$N connections"
  for j in "${JARS[@]}"; do echo "${j%%=*}: java -jar ${j#*=} -c relay.conf"; done
} > "$RESULTS_DIR/meta.txt"
cat "$RESULTS_DIR/meta.txt" >&2

: > "$RESULTS_DIR/raw/counts.txt"
start_origin
wait_http "http://$HOST:$ORIGIN_PORT/small" 30 "$ORIGIN_PID"
write_relay_conf relay "$RELAY_PORT" "" "$RELAY_CONF_EXTRA"

histogram() {  # histogram <pid> <out> [-all]: "class<TAB>instances<TAB>bytes" per class
  jcmd "$1" GC.class_histogram ${3:-} | awk 'NF >= 4 && $1 ~ /^[0-9]+:$/ {print $4 "\t" $2 "\t" $3}' > "$2"
}
young_collections() {  # the young collector's invocation count (HotSpot's performance counters)
  jcmd "$1" PerfCounter.print | awk -F= '/^sun\.gc\.collector\.0\.invocations=/ {print $2}'
}

measure() {  # measure <name> <jar>: both figures for one jar, in its own process
  local name=$1 jar=$2 pid requests y0 y1
  start_server "$name" java -jar "$jar" -c "$T/relay.conf"
  pid=$LAST_PID
  wait_http "http://$HOST:$RELAY_PORT$PATH_" 60 "$pid"
  log "$name: warm-up, ${WARMUP}s of wrk -c$CONNS on $PATH_"
  taskset -c "$WRK_CPU" wrk -t1 -c"$CONNS" -d"${WARMUP}s" "http://$HOST:$RELAY_PORT$PATH_" > "$RESULTS_DIR/raw/$name-warmup.txt"
  jcmd "$pid" GC.run > /dev/null
  histogram "$pid" "$RESULTS_DIR/raw/$name-alloc-before.tsv" -all
  y0=$(young_collections "$pid")
  taskset -c "$WRK_CPU" wrk -t1 -c"$CONNS" -d"${BURST}s" "http://$HOST:$RELAY_PORT$PATH_" > "$RESULTS_DIR/raw/$name-burst.txt"
  histogram "$pid" "$RESULTS_DIR/raw/$name-alloc-after.tsv" -all
  y1=$(young_collections "$pid")
  requests=$(awk '/requests in/ {print $1}' "$RESULTS_DIR/raw/$name-burst.txt")
  [[ "$y0" == "$y1" ]] || log "$name: $((y1 - y0)) young collection(s) ran during the burst: the allocation figures count too little (lower BURST or CONNS)"
  echo "$name alloc $requests $((y1 - y0))" >> "$RESULTS_DIR/raw/counts.txt"

  # Idle: the connections of the warm-up and the burst are closed; the live heap settles first.
  sleep 1
  histogram "$pid" "$RESULTS_DIR/raw/$name-idle-before.tsv"
  open_idle_clients "$RELAY_PORT" "$N" "$WRK_CPU" "$name"
  sleep 2
  histogram "$pid" "$RESULTS_DIR/raw/$name-idle-after.tsv"
  close_idle_clients
  echo "$name idle $N 0" >> "$RESULTS_DIR/raw/counts.txt"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  log "$name: $requests requests in the burst; $N idle connections"
}

for j in "${JARS[@]}"; do measure "${j%%=*}" "${j#*=}"; done

python3 - "$RESULTS_DIR" "$TOP" "$PATH_" <<'PY' | tee "$RESULTS_DIR/summary.md"
import sys
results, top, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def load(f):
    d = {}
    for line in open(f):
        name, count, size = line.rstrip("\n").split("\t")
        d[name] = (int(count), int(size))
    return d
counts = [l.split() for l in open(f"{results}/raw/counts.txt")]
for kind, title, unit in (("alloc", f"Allocation per proxied {path} request", "request"),
                          ("idle", "Live heap per idle keep-alive client connection", "connection")):
    runs = [(name, int(n), int(gcs)) for name, k, n, gcs in counts if k == kind]
    tables = {}
    for name, n, gcs in runs:
        a, b = load(f"{results}/raw/{name}-{kind}-before.tsv"), load(f"{results}/raw/{name}-{kind}-after.tsv")
        rows = {}
        for cls, (count, size) in b.items():
            c0, s0 = a.get(cls, (0, 0))
            if size > s0:
                rows[cls] = ((size - s0) / n, (count - c0) / n)
        fillers = rows.pop("[I", (0.0, 0.0)) if kind == "alloc" else None
        tables[name] = (n, gcs, rows, fillers)
    names = [name for name, _, _ in runs]
    print(f"### {title} (bytes, from class histograms)\n")
    print("| | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    print(f"| **total per {unit}** | " + " | ".join(f"**{sum(v[0] for v in tables[n][2].values()):,.0f}**" for n in names) + " |")
    print(f"| {unit}s counted | " + " | ".join(f"{tables[n][0]:,}" for n in names) + " |")
    if kind == "alloc":
        print("| young collections in the burst (should be 0) | " + " | ".join(str(tables[n][1]) for n in names) + " |")
        print("| `[I`, not in the total: mostly the JVM's fillers of unused allocation buffers | "
              + " | ".join(f"{tables[n][3][0]:,.1f} ({tables[n][3][1]:.2f})" for n in names) + " |")
    order = sorted(set().union(*(t[2].keys() for t in tables.values())),
                   key=lambda c: -max(tables[n][2].get(c, (0, 0))[0] for n in names))
    for cls in order[:top]:
        cells = []
        for n in names:
            size, count = tables[n][2].get(cls, (0.0, 0.0))
            cells.append(f"{size:,.1f} ({count:.2f})")
        print(f"| `{cls}` | " + " | ".join(cells) + " |")
    print(f"\nBytes per {unit} and (objects per {unit}) by class, the top {top}; the total is over every class.\n")
PY
log "results: $RESULTS_DIR (summary.md, meta.txt, raw/)"
