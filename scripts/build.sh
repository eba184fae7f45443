#!/usr/bin/env bash
# Configures and builds streamml in build/ (or $STREAMML_BUILD_DIR) with ccache.
# Extra arguments are passed to the CMake configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${STREAMML_BUILD_DIR:-build}"
JOBS="${STREAMML_JOBS:-$(nproc)}"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
if [ ! -f "$BUILD_DIR/build.ninja" ] || [ $# -gt 0 ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="${STREAMML_BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
fi
cmake --build "$BUILD_DIR" -j "$JOBS" ${STREAMML_TARGETS:+--target $STREAMML_TARGETS}
