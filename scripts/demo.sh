#!/usr/bin/env bash
# The README's main command: installs what is missing, builds the CLI, and runs
# the horse-race demo on an embedded Kafka cluster. Arguments go to
# `streamml demo` (for example --seed 7).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
STREAMML_TARGETS=streamml_cli bash scripts/build.sh
exec "${STREAMML_BUILD_DIR:-build}/bin/streamml" demo "$@"
