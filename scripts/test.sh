#!/usr/bin/env bash
# The whole test suite from a fresh clone: this is the README's test command (`npm test`)
# and what CI runs. It installs what it needs (Debian packages, npm packages, the
# Elasticsearch test node), builds, type-checks, lints, and runs every test against
# real servers. Each phase's duration is printed at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
# Go from the machine image (the Grafana plugin backend); not always on PATH.
export PATH="$PATH:/usr/local/go/bin"

declare -a PHASES=()
failed=0

# run_phase NAME required|check CMD...: a required phase stops the run when it fails
# (nothing after it can work); a check phase is recorded and the run goes on, so the
# tests still run and print their summary.
run_phase() {
  local name=$1 kind=$2
  shift 2
  echo
  echo "==> $name"
  local t0=$SECONDS
  "$@"
  local rc=$?
  local took=$((SECONDS - t0))
  if [ $rc -eq 0 ]; then
    PHASES+=("$(printf '%-22s %5ss  ok' "$name" "$took")")
  elif [ $rc -eq 75 ]; then
    # EX_TEMPFAIL: the phase's tool could not be obtained from the registries (named in
    # its output). Shown in the summary, not hidden, and not counted as a test failure.
    PHASES+=("$(printf '%-22s %5ss  UNAVAILABLE (see its output)' "$name" "$took")")
  else
    PHASES+=("$(printf '%-22s %5ss  FAILED (exit %s)' "$name" "$took" "$rc")")
    failed=1
    if [ "$kind" = required ]; then
      summary
      exit $rc
    fi
  fi
}

summary() {
  echo
  echo "==> phases"
  printf '%s\n' "${PHASES[@]}"
}

run_phase "system packages" required bash scripts/setup-system.sh
run_phase "npm ci" required npm ci --no-audit --no-fund
run_phase "build" required npm run --silent build
run_phase "typecheck" check npx tsc -p tsconfig.json
run_phase "lint and format" check npx biome ci --colors=off .
run_phase "elasticsearch fetch" required node --import tsx test/fetch-servers.ts
run_phase "go test (grafana plugin)" check make -C grafana-plugin test
run_phase "grafana frontend tests" check npm test -w grafana-plugin
run_phase "plugin validator" check bash scripts/plugin-validator.sh
run_phase "tests" check node --import tsx test/run-tests.ts

summary
exit $failed
