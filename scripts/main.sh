#!/usr/bin/env bash
# The main job: sets up what is missing, then runs `rl4d optimize` on scenes/default.json.
# Extra arguments go to `rl4d optimize` (e.g. --out out/my-run --steps 200).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec node bin/rl4d.js optimize scenes/default.json --out out/default "$@"
