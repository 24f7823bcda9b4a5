#!/usr/bin/env bash
# Grafana's plugin validator on the built zip, offline:
#   1. plugincheck2's analyzers that need no network, one -analyzer at a time (the archive,
#      plugin.json, binaries, module.js, README/CHANGELOG/LICENSE, logos, SVGs...), and the
#      source-code ones against this folder (Go build manifest, source map, package.json);
#   2. dist's plugin.json against the validator's own plugin.json schema, which
#      plugincheck2 would download (the network is not reachable from CI).
# Exit 0: no error; 1: the validator found errors; 2: the validator could not be obtained.
# Needs `npm run build -w grafana-plugin` first.
#   PLUGINCHECK2=/path/to/plugincheck2  PLUGIN_SCHEMA=/path/to/plugin.schema.json  override.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
VALIDATOR_MODULE=github.com/grafana/plugin-validator
VALIDATOR_VERSION=v0.41.0

id=$(node -p "require('./src/plugin.json').id")
version=$(node -p "require('./package.json').version")
zip="$PWD/$id-$version.zip"
if [ ! -f "$zip" ]; then
  echo "validate: $zip is missing: run npm run build -w grafana-plugin first" >&2
  exit 2
fi

gopath=$(go env GOPATH 2>/dev/null || echo "$HOME/go")
bin=${PLUGINCHECK2:-$(command -v plugincheck2 || true)}
if [ -z "$bin" ] && [ -x "$gopath/bin/plugincheck2" ]; then bin="$gopath/bin/plugincheck2"; fi
if [ -z "$bin" ]; then
  echo "validate: installing plugincheck2 $VALIDATOR_VERSION"
  if go install "$VALIDATOR_MODULE/pkg/cmd/plugincheck2@$VALIDATOR_VERSION"; then
    bin="$gopath/bin/plugincheck2"
  else
    echo "validate: plugincheck2 is not installed and the Go module proxy did not serve it" >&2
    exit 2
  fi
fi

schema=${PLUGIN_SCHEMA:-}
if [ -z "$schema" ]; then
  dir=$(go mod download -json "$VALIDATOR_MODULE@$VALIDATOR_VERSION" 2>/dev/null |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).Dir??"")}catch{console.log("")}})' || true)
  if [ -n "$dir" ] && [ -f "$dir/config/plugin.schema.json" ]; then
    schema="$dir/config/plugin.schema.json"
  elif [ -f "$(dirname "$bin")/plugin.schema.json" ]; then
    schema="$(dirname "$bin")/plugin.schema.json"
  else
    echo "validate: no plugin.schema.json of $VALIDATOR_MODULE@$VALIDATOR_VERSION (set PLUGIN_SCHEMA)" >&2
    exit 2
  fi
fi

status=0
node scripts/validate-zip.mjs "$bin" "$zip" "$PWD" || status=$?
node scripts/check-plugin-json.mjs "$schema" dist/plugin.json || status=1
unzip -p "$zip" "$id/plugin.json" > "${TMPDIR:-/tmp}/$id-zip-plugin.json"
node scripts/check-plugin-json.mjs "$schema" "${TMPDIR:-/tmp}/$id-zip-plugin.json" || status=1
exit $status
