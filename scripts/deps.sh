#!/usr/bin/env bash
# Installs, with apt-get, only the Debian packages streamml needs that are missing.
# Idempotent and fast (one dpkg query) when everything is already installed.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache git
  librdkafka-dev libtorch-dev libsimdjson-dev libavro-dev libcli11-dev
  libgloo-dev libspdlog-dev libfmt-dev libcpp-httplib-dev libgtest-dev libgmock-dev libbenchmark-dev
  kcat python3 python3-confluent-kafka python3-torch
  # The Python module (python/, docs/python.md): pybind11, headers, pip
  # install . into a venv, pytest, NumPy.
  pybind11-dev python3-dev python3-pip python3-setuptools python3-wheel python3-venv python3-pytest python3-numpy
  # Debian's LibTorch calls the system BLAS for every Linear layer; without this
  # it is the reference BLAS, 26x slower on serve's MLP (BENCHMARKS.md, issue 14).
  # The threaded build, not libopenblas0-serial: the serial one is not safe when
  # two threads call it at once (~1% of concurrent sgemm calls come back wrong;
  # tests/unit/model/concurrent_predict_test.cc). streamml sets it to one thread
  # per call (src/model/blas_threads.cc). Its alternatives priority (100) is
  # above the serial build's, so it is the libblas.so.3 in use once installed.
  libopenblas0-pthread
  # jemalloc serves malloc() in the streamml CLI (CMakeLists.txt, STREAMML_JEMALLOC).
  libjemalloc-dev
  clang libclang-rt-14-dev
  # The browser test of the demo's race page (tests/interop/demo_web.py): headless chromium.
  chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
