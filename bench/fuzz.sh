#!/usr/bin/env bash
# fuzz.sh - coverage-guided fuzzing of the parsers and the config loader with Jazzer (libFuzzer).
#
# Each target is one @FuzzTest method. In the normal test run (`mvn verify`, JAZZER_FUZZ unset) it
# only replays its inputs directory (src/test/resources/<package>/<Class>Inputs/<method>/); here it
# runs with JAZZER_FUZZ=1 for DURATION seconds, one target after another, under nice (the machine
# may be shared). A finding stops that target: Jazzer writes the input that failed into the inputs
# directory (crash-<sha1>), where the normal test run replays it from then on; fix the parser, add a
# focused test, and commit the input. The corpus libFuzzer grows is kept in <module>/.cifuzz-corpus/
# (git-ignored), so a later run continues from it.
#
# Usage: bench/fuzz.sh [target|all] [duration-seconds]       (default: all 300)
#   targets: request response proxy-protocol dns dns-encoded config
# Settings (env): SEED=<n> libFuzzer's random seed (default: a new one, printed); MAVEN_ARGS extra.
#
# Jazzer 0.24.0 reads the run's length only from @FuzzTest(maxDuration); its JUnit integration passes
# the configuration parameters jazzer.internal.arg.N to libFuzzer after its own flags, and libFuzzer
# takes the last value of a flag, so -max_total_time given that way is the one that counts.
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${1:-all}
DURATION=${2:-300}
: "${SEED:=$(( (RANDOM << 15) | RANDOM ))}" "${MAVEN_ARGS:=}"

declare -A MODULE=(
  [request]=proxy-transport-netty [response]=proxy-transport-netty [proxy-protocol]=proxy-transport-netty
  [dns]=proxy-lb [dns-encoded]=proxy-lb [config]=proxy-server)
declare -A TEST=(
  [request]='dev.relay.transport.internal.Http1RequestDecoderFuzzTest#requestDecoding'
  [response]='dev.relay.transport.internal.Http1ResponseDecoderFuzzTest#responseDecoding'
  [proxy-protocol]='dev.relay.transport.internal.ProxyProtocolFuzzTest#proxyProtocolHeaders'
  [dns]='dev.relay.lb.internal.DnsMessageFuzzTest#anyBytesParseOrAreRefusedAsAProtocolError'
  [dns-encoded]='dev.relay.lb.internal.DnsMessageFuzzTest#encodedResponsesDecodeToTheirRecords'
  [config]='dev.relay.server.internal.config.ConfigLoaderFuzzTest#configText')
ORDER=(request response proxy-protocol dns dns-encoded config)

if [[ $TARGET == all ]]; then
  targets=("${ORDER[@]}")
elif [[ -n ${MODULE[$TARGET]:-} ]]; then
  targets=("$TARGET")
else
  echo "unknown target: $TARGET (expected: all ${ORDER[*]})" >&2
  exit 2
fi
[[ $DURATION =~ ^[1-9][0-9]*$ ]] || { echo "duration: $DURATION (expected: seconds, > 0)" >&2; exit 2; }

inputs_dir() { # the inputs directory of a Class#method, under its module
  local class=${2%%#*} method=${2##*#}
  echo "$ROOT/$1/src/test/resources/$(dirname "${class//.//}")/$(basename "${class//.//}")Inputs/$method"
}

cd "$ROOT"
LOG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/relay-fuzz.XXXXXX")
declare -a summary=()
status=0
for t in "${targets[@]}"; do
  module=${MODULE[$t]} test=${TEST[$t]} dir=$(inputs_dir "${MODULE[$t]}" "${TEST[$t]}")
  mkdir -p "$dir"
  before=$(ls "$dir" | sort)
  log="$LOG_DIR/$t.log"
  echo "== $t: $test for ${DURATION}s (seed $SEED), log $log"
  set +e
  # shellcheck disable=SC2086
  # Only the default surefire execution: -Dtest would make a module's other executions (TLS on the
  # JDK provider ...) fuzz the same target again. Leak detection at SIMPLE (one buffer in 128, over
  # many thousands of inputs) instead of the suite's PARANOID, whose stack trace per buffer access
  # would slow fuzzing a hundredfold; the fuzz tests check the input buffers' counts exactly anyway.
  # Coverage instrumentation only for the code under test. No regex-injection detector: a route's
  # path-regex is the operator's, compiled on purpose (as in the pom's surefire configuration).
  # JUnit's timeouts off: a @Timeout would end the whole fuzzing run; Jazzer has already made it
  # libFuzzer's limit per input (-timeout), which is what finds a hang.
  JAZZER_FUZZ=1 nice -n 10 mvn -o -q -B -pl "$module" -am $MAVEN_ARGS \
      -Dsurefire.failIfNoSpecifiedTests=false -Dtest="$test" \
      -Dtest.argLine="-Dio.netty.leakDetection.level=simple -Xmx1g" \
      -Drelay.test.watchdog.seconds=$((DURATION + 300)) \
      -Djazzer.instrumentation_includes='dev.relay.**:io.netty.handler.codec.haproxy.**:com.typesafe.config.**' \
      -Djazzer.custom_hook_includes='dev.relay.**' \
      -Djazzer.disabled_hooks=com.code_intelligence.jazzer.sanitizers.RegexInjection \
      -Djunit.jupiter.execution.timeout.mode=disabled \
      -Djazzer.internal.arg.0=fake_argv0 -Djazzer.internal.arg.1=-max_total_time="$DURATION" \
      -Djazzer.internal.arg.2=-seed="$SEED" test-compile surefire:test@default-test >"$log" 2>&1
  rc=$?
  set -e
  found=$(comm -13 <(echo "$before") <(ls "$dir" | sort) | grep -v '^$' || true)
  runs=$(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1 || true)
  if [[ $rc -eq 0 && -z $found ]]; then
    summary+=("$t: no finding (${runs:-see log})")
  else
    status=1
    summary+=("$t: FINDING (mvn exit $rc) ${runs}")
    grep -E '== Java Exception|FuzzTestFindingException|Caused by|^\s+at dev\.relay' "$log" | head -20 || true
    for f in $found; do
      summary+=("    new regression input: ${dir#"$ROOT"/}/$f")
    done
  fi
done
echo
echo "== fuzz summary (seed $SEED, ${DURATION}s per target; logs in $LOG_DIR)"
printf '%s\n' "${summary[@]}"
exit $status
