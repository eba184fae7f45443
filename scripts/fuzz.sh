#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, Debian's clang, ASan+UBSan) in
# build-fuzz/ and runs each for SECONDS (default 30) on a working copy of its
# seed corpus (build-fuzz/corpus/<name>/, which keeps what earlier runs found).
# A crash, leak, UBSan report, timeout (-timeout, 25 s per input) or RSS over
# 2 GiB fails the target; its input is saved in build-fuzz/.
#
#   scripts/fuzz.sh              30 s per target (CI's smoke pass: 15 s, scripts/test.sh)
#   scripts/fuzz.sh 3600         a longer run: one hour per target
#   scripts/fuzz.sh 600 model_file_fuzz range_spec_fuzz   only these targets
#   scripts/fuzz.sh 0            build only
#
# Targets: csv/json/avro_decoder_fuzz, decoder_spec_fuzz (data layer),
# range_spec_fuzz and kafka_config_fuzz (kafka layer: the topic:partition:
# start:end grammar and -X key=value), model_spec_fuzz (mlp:64,32 and
# multiclass:K) and model_file_fuzz (the model-file reader, LibTorch-linked;
# its seeds are written by model_file_seed; fuzz/corpus/model_file/ keeps
# regression inputs only).
# Environment: STREAMML_JOBS (build jobs, 2); STREAMML_FUZZ_SEED (libFuzzer's
# -seed: CI's smoke pass uses a fixed one so that it is repeatable; unset,
# every run explores differently, as longer runs should).
set -euo pipefail
seconds="${1:-30}"
shift || true
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${root}/build-fuzz"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
targets=(csv_decoder_fuzz json_decoder_fuzz avro_decoder_fuzz decoder_spec_fuzz range_spec_fuzz
  kafka_config_fuzz model_spec_fuzz model_file_fuzz)
if [ "$#" -gt 0 ]; then targets=("$@"); fi

# -O1 with line tables only, as in scripts/sanitize.sh: symbolized reports
# with file:line at about half the compile time of -O2 -g.
cmake -S "${root}" -B "${build}" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG" \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG" \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DSTREAMML_BUILD_FUZZ=ON -DSTREAMML_BUILD_TESTS=OFF -DSTREAMML_BUILD_BENCH=OFF >/dev/null
extra=()
case " ${targets[*]} " in *" model_file_fuzz "*) extra=(model_file_seed) ;; esac
cmake --build "${build}" --target "${targets[@]}" "${extra[@]}" -j "${STREAMML_JOBS:-2}"
if [ "${seconds}" = 0 ]; then exit 0; fi

# LibTorch's intra-op threads only slow a fuzzer down.
export OMP_NUM_THREADS=1
# Leaks in third-party code (LibTorch's archive reader) are suppressed there.
export LSAN_OPTIONS="suppressions=${root}/scripts/sanitizers/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:${LSAN_OPTIONS}}"
status=0
for target in "${targets[@]}"; do
  name="${target%_fuzz}"
  work="${build}/corpus/${name}"
  mkdir -p "${work}"
  if [ -d "${root}/fuzz/corpus/${name}" ]; then
    cp -n "${root}/fuzz/corpus/${name}/"* "${work}/" 2>/dev/null || true
  fi
  if [ "${target}" = model_file_fuzz ]; then
    "${build}/fuzz/model_file_seed" "${work}"
  fi
  # Model files are zip archives of a few KiB; the other inputs are lines.
  max_len=4096
  if [ "${target}" = model_file_fuzz ]; then max_len=65536; fi
  echo "== ${target}: ${seconds}s"
  if ! (cd "${build}" && "${build}/fuzz/${target}" -max_total_time="${seconds}" -max_len="${max_len}" \
        -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 ${STREAMML_FUZZ_SEED:+-seed="${STREAMML_FUZZ_SEED}"} \
        "${work}" 2>&1 | tail -n 40); then
    echo "!! ${target} failed (crash input saved in ${build})"
    status=1
  fi
done
exit "${status}"
