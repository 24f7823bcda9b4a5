#!/usr/bin/env bash
# Builds the plugin into dist/ and packages it as Grafana expects:
#   dist/                 module.js (+ map), plugin.json, img/, README.md, CHANGELOG.md,
#                         LICENSE, gpx_sluice_flows_datasource_linux_amd64 (static),
#                         go_plugin_build_manifest
#   sluice-flows-datasource-<version>.zip   with one top-level sluice-flows-datasource/ folder
# The frontend is type-checked first; a type error fails the build.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

id=$(node -p "require('./src/plugin.json').id")
version=$(node -p "require('./package.json').version")

rm -rf dist
npx tsc -p tsconfig.json
npx webpack --config .config/webpack/webpack.config.cjs --env production
make all
cp README.md CHANGELOG.md LICENSE dist/
# The Go build manifest Grafana's SDK build writes (sha256:path of every Go source), which
# the validator checks against the source code.
find pkg -name '*.go' -print0 | sort -z | xargs -0 sha256sum | awk '{print $1 ":" $2}' > dist/go_plugin_build_manifest

# Grafana's packaging: the zip holds a folder named for the plugin id.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -R dist "$stage/$id"
zip_name="$id-$version.zip"
rm -f "$zip_name"
node scripts/zip.mjs "$zip_name" "$stage/$id"
echo "built dist/ and $zip_name"
