#!/usr/bin/env bash
# Installs the already-built build/ (or $STREAMML_BUILD_DIR) into a temporary
# prefix, then configures, builds and runs tests/install/ against it: a
# project outside the tree that does find_package(streamml) and reads a
# Kafka range with KafkaDataset from an embedded cluster. Also checks that
# the installed CLI runs and that the horse-race example stays out of the
# install. Exit status 0 when all of it worked. Run by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${STREAMML_BUILD_DIR:-build}"
if [ ! -f "${BUILD_DIR}/build.ninja" ]; then
  echo "install_test.sh: ${BUILD_DIR} is not built (run scripts/build.sh first)" >&2
  exit 1
fi
start=${SECONDS}
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
prefix="${work}/prefix"

cmake --install "${BUILD_DIR}" --prefix "${prefix}" >"${work}/install.log" ||
  { cat "${work}/install.log"; exit 1; }
for f in include/streamml/data/kafka_dataset.h lib/libstreamml_data.a bin/streamml \
  lib/cmake/streamml/streammlConfig.cmake lib/cmake/streamml/streammlConfigVersion.cmake; do
  [ -e "${prefix}/${f}" ] || { echo "install_test.sh: ${f} was not installed" >&2; exit 1; }
done
if [ -e "${prefix}/include/horse_race" ] || [ -e "${prefix}/lib/libstreamml_horse_race.a" ]; then
  echo "install_test.sh: the horse-race example was installed" >&2
  exit 1
fi
"${prefix}/bin/streamml" version >/dev/null

launcher=()
if command -v ccache >/dev/null; then
  export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S tests/install -B "${work}/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="${prefix}" "${launcher[@]}" >"${work}/configure.log" ||
  { cat "${work}/configure.log"; exit 1; }
cmake --build "${work}/build" -j "${STREAMML_JOBS:-2}"
"${work}/build/read_range"
echo "install_test.sh: passed in $((SECONDS - start)) s"
