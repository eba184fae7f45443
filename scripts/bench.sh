#!/usr/bin/env bash
# The one benchmark command: builds every benchmark in bench/ (Release, in
# build-release/), runs each one BENCH_RUNS times (default 5; a bench whose
# source says `// bench-runs: N` runs N times), and rewrites the measured
# tables of BENCHMARKS.md (machine, date, this command, medians) through
# bench/report.py.
#
# Convention for bench/<layer>_<name>_bench.cc: either a Google Benchmark
# binary (run with --benchmark_format=json) or a plain main() that prints
# `RESULT <name> key=value ...` lines; both are picked up automatically.
#
# Usage: scripts/bench.sh [REGEX]   (only the benchmarks whose name matches;
#                                    the others keep their last results)
# Environment: BENCH_RUNS (5), STREAMML_BENCH_BUILD_DIR (build-release),
#              STREAMML_JOBS (2).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "${root}"
filter="${1:-.}"
runs_default="${BENCH_RUNS:-5}"
build="${STREAMML_BENCH_BUILD_DIR:-build-release}"
results="$(mkdir -p "${build}" && cd "${build}" && pwd)/bench-results"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"

benches=()
for src in bench/*_bench.cc; do
  name="$(basename "${src}" .cc)"
  if [[ "${name}" =~ ${filter} ]]; then benches+=("${name}"); fi
done
if [ ${#benches[@]} -eq 0 ]; then
  echo "bench.sh: no benchmark matches '${filter}'" >&2
  exit 2
fi

cmake -S . -B "${build}" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DSTREAMML_BUILD_TESTS=OFF -DSTREAMML_BUILD_BENCH=ON >/dev/null
cmake --build "${build}" -j "${STREAMML_JOBS:-2}" --target "${benches[@]}"

mkdir -p "${results}"
status=0
for name in "${benches[@]}"; do
  rm -f "${results}/${name}".*
  src="bench/${name}.cc"
  runs="$(sed -n 's|^// bench-runs: *\([0-9][0-9]*\).*|\1|p' "${src}" | head -n 1)"
  runs="${runs:-${runs_default}}"
  for ((i = 1; i <= runs; ++i)); do
    echo "== ${name} run ${i}/${runs}"
    log="${results}/${name}.${i}.log"
    if grep -q 'benchmark/benchmark.h' "${src}"; then
      out=("--benchmark_format=console" "--benchmark_out=${results}/${name}.${i}.json" "--benchmark_out_format=json")
      if ! (cd "${build}" && "./bench/${name}" "${out[@]}") >"${log}" 2>&1; then
        echo "!! ${name} failed (see ${log})"; touch "${results}/${name}.failed"; status=1; break
      fi
    else
      if ! (cd "${build}" && "./bench/${name}") >"${results}/${name}.${i}.txt" 2>"${log}"; then
        echo "!! ${name} failed (see ${log})"; touch "${results}/${name}.failed"; status=1; break
      fi
      grep '^RESULT' "${results}/${name}.${i}.txt" || true
    fi
  done
done

command="scripts/bench.sh${1:+ '$1'}"
[ "${runs_default}" != 5 ] && command="BENCH_RUNS=${runs_default} ${command}"
/usr/bin/python3 bench/report.py "${results}" BENCHMARKS.md --command "${command}"
exit "${status}"
