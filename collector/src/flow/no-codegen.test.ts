import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// The generated readers, lifters and writers all fall back to plain loops when code
// generation from strings is disallowed (a hardened deployment runs node with
// --disallow-code-generation-from-strings). This runs the document and decoding tests
// in such a process, so the fallbacks are held to the same reference text.

const FILES = [
  'document-compiled.test.ts',
  'document-decoded.test.ts',
  'document-equivalence.test.ts',
  'netflow-times.test.ts',
  'netflow-fixed.test.ts',
  'netflow-sets.test.ts',
];

function withoutTestContext(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

test('documents and records are the same with code generation disallowed', () => {
  const files = FILES.map((f) => fileURLToPath(new URL(f, import.meta.url)));
  const probe = spawnSync(process.execPath, [
    '--disallow-code-generation-from-strings',
    '-e',
    'try { new Function(""); process.exit(1) } catch { process.exit(0) }',
  ]);
  assert.equal(probe.status, 0, 'the flag disallows code generation');
  const run = spawnSync(
    process.execPath,
    ['--disallow-code-generation-from-strings', '--import', 'tsx', '--test', ...files],
    // Without NODE_TEST_CONTEXT the child runs its files itself instead of reporting
    // to this runner (which node:test would refuse as a recursive run).
    { encoding: 'utf8', timeout: 300_000, env: withoutTestContext() },
  );
  const out = `${run.stdout}\n${run.stderr}`;
  assert.equal(run.status, 0, out.slice(-4000));
  assert.match(out, /# fail 0/);
  assert.doesNotMatch(out, /# pass 0\b/);
});
