import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildProgram } from './main.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

/** Runs the CLI in a child process (as `npx sluice` would) and captures its output. */
function sluice(...args: string[]) {
  const script = `import { main } from ${JSON.stringify(MAIN)}; process.exitCode = await main(["node", "sluice", ...process.argv.slice(1)]);`;
  const res = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script, '--', ...args],
    { encoding: 'utf8' },
  );
  return { code: res.status, out: res.stdout, err: res.stderr };
}

test('every command answers --help with its usage and exit 0', () => {
  const names = buildProgram().commands.map((c) => c.name());
  assert.ok(names.includes('collect'));
  for (const name of names) {
    const res = sluice(name, '--help');
    assert.equal(res.code, 0, `${name} --help: ${res.err}`);
    assert.match(res.out, new RegExp(`^Usage: sluice ${name}`, 'm'));
  }
  const top = sluice('--help');
  assert.equal(top.code, 0);
  assert.match(top.out, /Commands:\n\s+collect/);
});

test('collect does not pretend: it says it is not implemented and exits non-zero', () => {
  const res = sluice('collect', '--sflow-port', '16343');
  assert.equal(res.code, 1);
  assert.match(res.err, /not implemented yet/);
  assert.match(res.err, /sFlow on UDP 16343/, 'the plan reflects the options given');
});

test('collect rejects a port that is not a UDP port, naming the value', () => {
  const res = sluice('collect', '--netflow-port', '70000');
  assert.notEqual(res.code, 0);
  assert.match(res.err, /not a UDP port \(1-65535\): 70000/);
});
