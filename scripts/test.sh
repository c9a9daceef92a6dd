#!/usr/bin/env bash
# The test command: sets up what is missing, then runs the whole vitest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --browser
exec npx vitest run "$@"
