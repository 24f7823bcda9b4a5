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

test('collect refuses a bad listener or config before starting, naming the problem', () => {
  const port = sluice('collect', '--listen', '70000');
  assert.equal(port.code, 2);
  assert.match(port.err, /listen\.0\.port: .*65535.*\(got 70000\)/);
  const form = sluice('collect', '--listen', 'localhost');
  assert.equal(form.code, 2);
  assert.match(form.err, /--listen: "localhost" is not PORT or ADDRESS:PORT/);
  const missing = sluice('collect', '--config', '/nonexistent/sluice.yaml');
  assert.equal(missing.code, 2);
  assert.match(missing.err, /cannot read config file \/nonexistent\/sluice\.yaml/);
});

test('query --explain prints the compiled query; a filter error exits 2 with a caret', () => {
  const ok = sluice('query', '--explain', 'src net 10.0.0.0/8 and dst port 443');
  assert.equal(ok.code, 0, ok.err);
  const q = JSON.parse(ok.out) as { query: unknown };
  const text = JSON.stringify(q.query);
  assert.match(text, /"source\.ip":"10\.0\.0\.0\/8"/);
  assert.match(text, /"destination\.port":443/);
  const bad = sluice('query', '--explain', 'src port > abc');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /column 12: expected number but found "abc"/);
  // The caret sits under column 12 of the echoed filter.
  const lines = bad.err.split('\n');
  const echo = lines.findIndex((l) => l.includes('src port > abc'));
  assert.equal((lines[echo + 1] ?? '').indexOf('^') - (lines[echo] ?? '').indexOf('src'), 11);
});
