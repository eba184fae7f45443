#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs the
# whole suite (unit, integration, interop). Integration and interop tests use
# an embedded Kafka cluster, or the broker in STREAMML_TEST_BOOTSTRAP=host:port.
#
# Then the install test (scripts/install_test.sh): installs build/ into a
# temporary prefix and builds and runs tests/install/, a project that does
# find_package(streamml); one test; STREAMML_CI_INSTALL=0 skips it.
#
# In CI (CI=true, which CI systems set) or with STREAMML_SANITIZERS=1, three
# more stages run (STREAMML_SANITIZERS=0 turns them off in CI too; each can
# also be turned off alone):
#  - the unit and integration suites again under ASan+UBSan
#    (scripts/sanitize.sh asan, build-asan/): STREAMML_ASAN_TARGETS picks the
#    test binaries (a regex, default '.': every unit and integration suite,
#    LibTorch-linked ones included); STREAMML_CI_ASAN=0 skips the stage;
#  - the LibTorch-free suites under TSan (scripts/sanitize.sh tsan,
#    build-tsan/: prefetch, consumer groups, output sequence,
#    producer/consumer, the serving loop); STREAMML_CI_TSAN=0 skips it;
#  - a fuzz smoke pass of every libFuzzer target (scripts/fuzz.sh, clang,
#    build-fuzz/), STREAMML_CI_FUZZ_SECONDS per target (15; 0 skips it).
# Tests run 4 at a time (STREAMML_TEST_JOBS): most integration tests wait on
# group joins and timeouts, so 4 jobs on 2 cores take 0.62 of the time of 2.
# For the same reason the sanitizer and fuzz builds start as soon as the main
# build is done, at the lowest CPU priority (nice 19), and compile while the
# stages before theirs run tests: they take the CPU those tests leave idle
# and yield it whenever a test wants it. Each stage waits for its own build.
# Measured times on 2 cores: "CI time" in BENCHMARKS.md.
#
# The last line printed is "N passed, N failed" over all stages (ctest tests,
# plus one for the install test and one per fuzz target); the exit status is
# 1 when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
logs="$(mktemp -d)"
prebuild_pid=""
cleanup() {
  # The background builds are their own process group (setsid).
  if [ -n "${prebuild_pid}" ]; then kill -- "-${prebuild_pid}" 2>/dev/null || true; fi
  rm -rf "${logs}"
}
trap cleanup EXIT
passed=0
failed=0

# Adds the counts of ctest's summary line ("N% tests passed, F tests failed
# out of T") in $1; a stage that printed none (it did not build) is 1 failure.
count_ctest() {
  local line
  line="$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$1" | tail -n 1)"
  if [ -z "${line}" ]; then
    echo "test.sh: $2 did not run its tests (build failure?)"
    failed=$((failed + 1))
    return
  fi
  local f t
  f="$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"${line}")"
  t="$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"${line}")"
  passed=$((passed + t - f))
  failed=$((failed + f))
  echo "test.sh: $2: $((t - f)) passed, ${f} failed"
}

export STREAMML_TEST_JOBS="${STREAMML_TEST_JOBS:-4}"
sanitizers="${STREAMML_SANITIZERS:-}"
if [ -z "${sanitizers}" ]; then
  sanitizers=0
  if [ "${CI:-}" = true ]; then sanitizers=1; fi
fi

stage_start() { echo "== test.sh: $1 ($(date -u +%H:%M:%S))"; }

asan_on=0
tsan_on=0
fuzz_seconds="${STREAMML_CI_FUZZ_SECONDS:-15}"
if [ "${sanitizers}" != 0 ]; then
  if [ "${STREAMML_CI_ASAN:-1}" != 0 ]; then asan_on=1; fi
  if [ "${STREAMML_CI_TSAN:-1}" != 0 ]; then tsan_on=1; fi
else
  fuzz_seconds=0
fi
# Every unit and integration suite by default. Narrower when time is short,
# e.g. the unit suites and the LibTorch-free integration suites:
# STREAMML_ASAN_TARGETS='^unit_|^integration_(kafka|data|serve_core)$'.
export STREAMML_ASAN_TARGETS="${STREAMML_ASAN_TARGETS:-.}"

# The enabled sanitizer and fuzz builds, one after the other; each leaves its
# log in $logs/NAME-build.log and "EXIT_STATUS HH:MM:SS" in NAME-build.rc.
prebuild() {
  if [ "${asan_on}" = 1 ]; then
    STREAMML_SANITIZE_BUILD_ONLY=1 bash scripts/sanitize.sh asan >"${logs}/asan-build.log" 2>&1
    echo "$? $(date -u +%H:%M:%S)" >"${logs}/asan-build.rc"
  fi
  if [ "${tsan_on}" = 1 ]; then
    STREAMML_SANITIZE_BUILD_ONLY=1 bash scripts/sanitize.sh tsan >"${logs}/tsan-build.log" 2>&1
    echo "$? $(date -u +%H:%M:%S)" >"${logs}/tsan-build.rc"
  fi
  if [ "${fuzz_seconds}" != 0 ]; then
    bash scripts/fuzz.sh 0 >"${logs}/fuzz-build.log" 2>&1
    echo "$? $(date -u +%H:%M:%S)" >"${logs}/fuzz-build.rc"
  fi
}
start_prebuild() {
  if [ "${asan_on}${tsan_on}" = 00 ] && [ "${fuzz_seconds}" = 0 ]; then return; fi
  export logs asan_on tsan_on fuzz_seconds
  setsid nice -n 19 bash -c "$(declare -f prebuild); prebuild" &
  prebuild_pid=$!
}
# Waits for the background build NAME, prints its log; fails when it failed.
await_build() {
  while [ ! -e "${logs}/$1-build.rc" ]; do sleep 2; done
  cat "${logs}/$1-build.log"
  local rc at
  read -r rc at <"${logs}/$1-build.rc"
  echo "test.sh: the $1 build ended at ${at} (exit status ${rc})"
  [ "${rc}" = 0 ]
}

stage_start "build"
built=0
if bash scripts/deps.sh && bash scripts/build.sh; then
  built=1
  start_prebuild
  stage_start "unit, integration, interop"
  (cd "${STREAMML_BUILD_DIR:-build}" &&
    ctest -L 'unit|integration|interop' -j "${STREAMML_TEST_JOBS}" --output-on-failure --timeout 600) \
    2>&1 | tee "${logs}/main.log"
  count_ctest "${logs}/main.log" "main suite"
else
  echo "test.sh: the build failed"
  failed=$((failed + 1))
  start_prebuild
fi

if [ "${STREAMML_CI_INSTALL:-1}" != 0 ] && [ "${built}" = 1 ]; then
  stage_start "install test"
  if bash scripts/install_test.sh; then
    passed=$((passed + 1))
    echo "test.sh: install test: 1 passed, 0 failed"
  else
    failed=$((failed + 1))
    echo "test.sh: install test: 0 passed, 1 failed"
  fi
fi

if [ "${asan_on}" = 1 ]; then
  stage_start "ASan+UBSan: ${STREAMML_ASAN_TARGETS}"
  # The build is done (or fails) in the background; sanitize.sh then finds
  # nothing to rebuild and runs the tests.
  { await_build asan && bash scripts/sanitize.sh asan; } 2>&1 | tee "${logs}/asan.log"
  count_ctest "${logs}/asan.log" "ASan+UBSan suite"
fi

if [ "${tsan_on}" = 1 ]; then
  stage_start "TSan: LibTorch-free suites"
  { await_build tsan && bash scripts/sanitize.sh tsan; } 2>&1 | tee "${logs}/tsan.log"
  count_ctest "${logs}/tsan.log" "TSan suite"
fi

if [ "${fuzz_seconds}" != 0 ]; then
  stage_start "fuzz smoke, ${fuzz_seconds}s per target"
  { await_build fuzz && STREAMML_FUZZ_SEED="${STREAMML_FUZZ_SEED:-1}" bash scripts/fuzz.sh "${fuzz_seconds}"; } 2>&1 |
    tee "${logs}/fuzz.log"
  status=${PIPESTATUS[0]}
  ran="$(grep -c '^== .*_fuzz: ' "${logs}/fuzz.log" || true)"
  bad="$(grep -c '^!! .*_fuzz failed' "${logs}/fuzz.log" || true)"
  if [ "${ran}" -eq 0 ] && [ "${status}" -ne 0 ]; then bad=1; fi
  passed=$((passed + ran - bad))
  failed=$((failed + bad))
  echo "test.sh: fuzz smoke: $((ran - bad)) passed, ${bad} failed"
fi

stage_start "done"
echo "${passed} passed, ${failed} failed"
[ "${failed}" -eq 0 ]
