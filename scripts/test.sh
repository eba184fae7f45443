#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs the
# whole suite (unit, integration, interop). Integration and interop tests use
# an embedded Kafka cluster, or the broker in STREAMML_TEST_BOOTSTRAP=host:port.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
cd "${STREAMML_BUILD_DIR:-build}"
ctest -L 'unit|integration|interop' -j "${STREAMML_TEST_JOBS:-2}" --output-on-failure --timeout 600
