#!/usr/bin/env bash
# Runs the shared load harness (../shared/bench/proxy-bench.sh, outside this repository) with our
# proxy plugged in as the candidate, next to nginx and HAProxy in the same run.
#
#   bench/run.sh                    # proxy-bench.sh: /small and /64k, 3 rounds
#   SCRIPT=conn-reuse.sh bench/run.sh
#   JVM_FLAGS='-XX:+UseSerialGC' bench/run.sh
#
# Needs: wrk nginx haproxy curl (apt-get install -y wrk nginx haproxy curl util-linux iproute2),
# and the jar: mvn -q -B package -DskipTests.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
harness=${HARNESS_DIR:-$root/../shared/bench}
script=${SCRIPT:-proxy-bench.sh}
jar=${RELAY_JAR:-$root/proxy-server/target/proxy-server.jar}
[ -f "$jar" ] || { echo "missing $jar: run 'mvn -q -B package -DskipTests' first" >&2; exit 1; }
[ -x "$harness/$script" ] || [ -f "$harness/$script" ] || { echo "missing harness $harness/$script" >&2; exit 1; }

: "${JVM_FLAGS:=-Xms256m -Xmx256m -XX:+UseParallelGC -XX:+AlwaysPreTouch -XX:TieredStopAtLevel=4}"
conf_dir=$(mktemp -d)
trap 'rm -rf "$conf_dir"' EXIT

# The harness exports PROXY_PORT and ORIGIN to the candidate command; the config is written by the
# command itself so that it sees the values of the run.
export RELAY_JAR=$jar RELAY_CONF_DIR=$conf_dir RELAY_JVM_FLAGS=$JVM_FLAGS
export PROXY_NAME=${PROXY_NAME:-relay}
export PROXY_CMD='cat > "$RELAY_CONF_DIR/bench.conf" <<CONF
proxy {
  listeners = [ { address = "127.0.0.1:${PROXY_PORT}" } ]
  upstreams { origin { backends = [ "${ORIGIN}" ] } }
  routes = [ { upstream = origin } ]
  server { access-log = false, upgrade-socket = none }  # no upgrade socket: runs beside other relays
}
CONF
exec java $RELAY_JVM_FLAGS -jar "$RELAY_JAR" -c "$RELAY_CONF_DIR/bench.conf"'
exec bash "$harness/$script" "$@"
