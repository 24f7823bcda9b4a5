// Runs every TypeScript test in the repository with node's built-in test runner.
//
// One real Elasticsearch node is started here for the whole suite (it takes ~20 s to
// boot) and handed to the test files through SLUICE_TEST_ES_URL; set that variable
// yourself to use an existing cluster instead. Under CI=true a node that cannot start
// fails the run; elsewhere the tests that need it skip, naming what to install.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { inCI, ServerUnavailableError, startElasticsearch } from '@sluice/testkit';

const ROOT = join(import.meta.dirname, '..');
const TEST_ROOTS = ['collector/src', 'collector/test', 'test/smoke', 'test/integration'];

function findTests(dir: string, out: string[]): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) findTests(path, out);
    else if (entry.name.endsWith('.test.ts')) out.push(path);
  }
}

async function main(): Promise<number> {
  // Files named on the command line narrow the run (e.g. while working on one decoder).
  const requested = process.argv.slice(2);
  const files: string[] = [];
  if (requested.length > 0) files.push(...requested.map((f) => join(process.cwd(), f)));
  else for (const root of TEST_ROOTS) findTests(join(ROOT, root), files);
  files.sort();
  if (files.length === 0) {
    console.error('no test files found');
    return 1;
  }

  const env: NodeJS.ProcessEnv = { ...process.env };
  let stopEs: (() => Promise<void>) | undefined;
  if (!env.SLUICE_TEST_ES_URL) {
    const t0 = Date.now();
    try {
      const es = await startElasticsearch();
      stopEs = es.stop;
      env.SLUICE_TEST_ES_URL = es.url;
      console.log(
        `Elasticsearch ${es.version} ready at ${es.url} in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      );
    } catch (err) {
      if (err instanceof ServerUnavailableError && !inCI()) {
        console.warn(`Elasticsearch unavailable, its tests will skip: ${err.message}`);
        env.SLUICE_TEST_ES_UNAVAILABLE = err.message;
      } else {
        console.error(String(err instanceof Error ? err.message : err));
        return 1;
      }
    }
  } else {
    console.log(`Using the Elasticsearch at SLUICE_TEST_ES_URL`);
  }

  console.log(`Running ${files.length} test files`);
  const code = await new Promise<number>((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--test',
        '--test-reporter=spec',
        ...files.map((f) => relative(process.cwd(), f)),
      ],
      { stdio: 'inherit', env },
    );
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
  await stopEs?.();
  return code;
}

process.exitCode = await main();
