# Copyright streamml authors. Licensed under the Apache License 2.0.
#
# Shared by the interop scripts (sourced; not a test itself: CTest registers
# only *.sh and *.py). Starts `streamml broker` in the background, or uses
# STREAMML_TEST_BOOTSTRAP when set, and cleans up at exit.
set -euo pipefail

: "${STREAMML:?set STREAMML to the streamml binary}"
command -v kcat >/dev/null || { echo "FAIL: kcat is not installed" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/streamml-interop.XXXXXX")
BROKER_PID=""
B=""

cleanup() {
  if [[ -n "$BROKER_PID" ]]; then
    kill "$BROKER_PID" 2>/dev/null || true
    wait "$BROKER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# unique_topic NAME -> a topic name no other run uses.
unique_topic() { echo "interop-$1-$$-$RANDOM"; }

# start_broker TOPIC:PARTITIONS... -> sets B to the bootstrap servers.
# Embedded: `streamml broker --topic ...`. External (STREAMML_TEST_BOOTSTRAP):
# the topics are created with `streamml topics create` (Admin API).
start_broker() {
  if [[ -n "${STREAMML_TEST_BOOTSTRAP:-}" ]]; then
    B="$STREAMML_TEST_BOOTSTRAP"
    local spec
    for spec in "$@"; do
      "$STREAMML" topics create -b "$B" -p "${spec#*:}" "${spec%%:*}" >/dev/null ||
        fail "could not create topic ${spec%%:*} on $B"
    done
    return
  fi
  local args=() spec
  for spec in "$@"; do args+=(--topic "$spec"); done
  "$STREAMML" broker "${args[@]}" --bootstrap-file "$WORK/bootstrap" >"$WORK/broker.out" 2>"$WORK/broker.err" &
  BROKER_PID=$!
  local i
  for i in $(seq 1 600); do
    [[ -s "$WORK/bootstrap" ]] && break
    kill -0 "$BROKER_PID" 2>/dev/null || fail "streamml broker exited early: $(cat "$WORK/broker.err")"
    sleep 0.1
  done
  [[ -s "$WORK/bootstrap" ]] || fail "streamml broker did not write its bootstrap file within 60 s"
  B=$(head -n1 "$WORK/bootstrap")
}

# expect_same WHAT EXPECTED_FILE ACTUAL_FILE: compares sorted lines.
expect_same() {
  local what="$1" expected="$2" actual="$3"
  if ! diff <(sort "$expected") <(sort "$actual") >"$WORK/diff"; then
    echo "FAIL: $what: records differ (< expected, > actual):" >&2
    head -n 40 "$WORK/diff" >&2
    exit 1
  fi
}

# kcat against the embedded cluster: it answers a fetch only when
# fetch.wait.max.ms expires, so keep that short.
KCAT_CONSUMER_OPTS=(-X fetch.wait.max.ms=10)
