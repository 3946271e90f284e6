#!/usr/bin/env bash
# The README's test command: set up (packages + build), then run every test with ctest.
# Fails (non-zero) when any test fails. Extra arguments go to ctest (e.g. -R lm).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR=${W2V_BUILD_DIR:-build}
cd "$BUILD_DIR"
ctest --output-on-failure -j "${W2V_TEST_JOBS:-2}" "$@"
