#!/usr/bin/env bash
# The README's first command (`npm start`): installs the npm dependencies when they are
# missing or stale, builds, and runs `sluice collect` with its defaults. Extra
# arguments go to `sluice collect` (npm start -- --help).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build
# Run as a program, so that the node flags on its first line apply.
exec collector/bin/sluice.js collect "$@"
