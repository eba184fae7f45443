#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in build-fuzz/ and runs each for
# SECONDS (default 30) on a working copy of its seed corpus.
# Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
seconds="${1:-30}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${root}/build-fuzz"
targets=(csv_decoder_fuzz json_decoder_fuzz avro_decoder_fuzz decoder_spec_fuzz)

cmake -S "${root}" -B "${build}" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DSTREAMML_BUILD_FUZZ=ON -DSTREAMML_BUILD_TESTS=OFF -DSTREAMML_BUILD_BENCH=OFF >/dev/null
cmake --build "${build}" --target "${targets[@]}" -j2

status=0
for target in "${targets[@]}"; do
  name="${target%_fuzz}"
  work="${build}/corpus/${name}"
  mkdir -p "${work}"
  cp -n "${root}/fuzz/corpus/${name}/"* "${work}/" 2>/dev/null || true
  echo "== ${target}: ${seconds}s"
  if ! (cd "${build}" && "${build}/fuzz/${target}" -max_total_time="${seconds}" -max_len=4096 \
        -rss_limit_mb=2048 -print_final_stats=1 "${work}" 2>&1 | tail -n 12); then
    echo "!! ${target} failed (crash input saved in ${build})"
    status=1
  fi
done
exit "${status}"
