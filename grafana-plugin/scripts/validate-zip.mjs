// Runs plugincheck2's offline analyzers on the plugin zip, one at a time, and fails on any
// diagnostic of severity error. Usage: node validate-zip.mjs PLUGINCHECK2 ZIP SOURCE_DIR
import { spawnSync } from 'node:child_process';

const [bin, zip, sourceDir] = process.argv.slice(2);
if (!bin || !zip || !sourceDir) {
  console.error('usage: validate-zip.mjs PLUGINCHECK2 ZIP SOURCE_DIR');
  process.exit(2);
}

// Analyzers that read only the archive. Left out, because they need the network or tools
// that are not here: metadataschema/metadatavalid/screenshots (download the plugin.json
// schema: checked by check-plugin-json.mjs instead), brokenlinks, safelinks' link fetches,
// published, version, signature, grafanadependency's catalog look-up, circulardependencies,
// legacyplatform, legacybuilder, osvscanner, virusscan, coderules, gosec, sdkusage,
// reactcompat (npx @grafana/react-detect), provenance, codediff, plugindocs, llmreview.
const ARCHIVE_ANALYZERS = [
  'archive',
  'archivename',
  'backendbinary',
  'backenddebug',
  'binarypermissions',
  'changelog',
  'discoverability',
  'includesnested',
  'jargon',
  'license',
  'logos',
  'manifest',
  'metadata',
  'metadatapaths',
  'modulejs',
  'nestedmetadata',
  'org',
  'pluginname',
  'readme',
  'restrictivedep',
  'sponsorshiplink',
  'templatereadme',
  'trackingscripts',
  'typesuffix',
  'unsafesvg',
];
// Analyzers that compare the zip with its source code (this folder); buildtools checks that
// the build uses Grafana's standard tooling (.config/webpack/webpack.config.ts in the
// create-plugin layout, a Magefile.go with the plugin SDK's build package).
const SOURCE_ANALYZERS = ['buildtools', 'gomanifest', 'jssourcemap', 'packagejson'];

const seen = new Set();
let errors = 0;
function run(analyzer, withSource) {
  const args = ['-jsonOutput', '-analyzer', analyzer];
  if (withSource) args.push('-sourceCodeUri', `file://${sourceDir}`);
  args.push(zip);
  const res = spawnSync(bin, args, { encoding: 'utf8', timeout: 120_000 });
  let report;
  try {
    report = JSON.parse(res.stdout);
  } catch {
    console.error(`${analyzer}: no JSON from plugincheck2 (exit ${res.status}): ${res.stderr}`);
    errors++;
    return;
  }
  for (const [name, diags] of Object.entries(report['plugin-validator'] ?? {})) {
    for (const d of diags) {
      const key = `${name}|${d.Severity}|${d.Title}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const fails = d.Severity === 'error';
      if (fails) errors++;
      const tag = fails ? 'ERROR' : d.Severity;
      console.log(
        `${tag.padEnd(17)} ${name}: ${d.Title}${d.Detail ? `\n${' '.repeat(18)}${d.Detail}` : ''}`,
      );
    }
  }
}

for (const a of ARCHIVE_ANALYZERS) run(a, false);
for (const a of SOURCE_ANALYZERS) run(a, true);
console.log(
  `plugincheck2: ${ARCHIVE_ANALYZERS.length + SOURCE_ANALYZERS.length} analyzers, ${errors} error(s)`,
);
process.exit(errors > 0 ? 1 : 0);
