#!/usr/bin/env bash
# Builds the plugin into dist/ and packages it as Grafana expects:
#   dist/                 module.js (+ map), plugin.json, img/, README.md, CHANGELOG.md,
#                         LICENSE, gpx_sluice_flows_datasource_linux_amd64 (static),
#                         go_plugin_build_manifest
#   sluice-flows-datasource-<version>.zip   with one top-level sluice-flows-datasource/ folder
# The frontend (and its webpack config) is type-checked first; a type error fails the build.
# Grafana's standard tooling does the rest: webpack with the create-plugin-layout config in
# .config/webpack/webpack.config.ts, and mage with the plugin SDK's build targets (Magefile.go,
# run by `make all`), which also writes the Go build manifest the validator checks.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

id=$(node -p "require('./src/plugin.json').id")
version=$(node -p "require('./package.json').version")

rm -rf dist
npx tsc -p tsconfig.json
# webpack-cli needs a TypeScript loader for a .ts config: tsx, registered for this process.
NODE_OPTIONS="--import=tsx ${NODE_OPTIONS:-}" npx webpack --config .config/webpack/webpack.config.ts --env production
make all
cp README.md CHANGELOG.md LICENSE dist/

# Grafana's packaging: the zip holds a folder named for the plugin id.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -R dist "$stage/$id"
zip_name="$id-$version.zip"
rm -f "$zip_name"
node scripts/zip.mjs "$zip_name" "$stage/$id"
echo "built dist/ and $zip_name"
