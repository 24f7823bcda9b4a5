// `sluice` started as a program (npx, npm start, the Docker image's symlink): its second
// line has sh start node on it with the main thread's V8 flags. Runs the built CLI
// (collector/dist, which the test command builds first).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const COLLECTOR = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(COLLECTOR, 'bin', 'sluice.js');

test('sluice run as a program gets its node flags, through a symlink too, in one process', (t) => {
  assert.ok(
    existsSync(join(COLLECTOR, 'dist', 'cli', 'main.js')),
    'collector/dist is missing: run `npm run build` first',
  );
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bin-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // Loaded by node before the CLI: reports how node was started, and which process it is.
  const probe = join(dir, 'probe.cjs');
  writeFileSync(
    probe,
    'process.stderr.write(JSON.stringify({ execArgv: process.execArgv, pid: process.pid, ppid: process.ppid }) + "\\n");\n',
  );
  const link = join(dir, 'sluice');
  symlinkSync(BIN, link); // as npm's .bin/ and the Dockerfile link it
  const version = (
    JSON.parse(readFileSync(join(COLLECTOR, 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
  for (const program of [BIN, link]) {
    const res = spawnSync(program, ['--version'], {
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: `--require ${probe}` },
    });
    assert.equal(res.status, 0, `${program}: ${res.stderr}`);
    assert.equal(res.stdout.trim(), version);
    const seen = JSON.parse(res.stderr.trim().split('\n')[0] ?? '{}') as {
      execArgv: string[];
      pid: number;
      ppid: number;
    };
    assert.ok(seen.execArgv.includes('--max-semi-space-size=4'), JSON.stringify(seen.execArgv));
    // exec: node replaced the shell, so the process that answered is the one spawned.
    assert.equal(seen.pid, res.pid);
    assert.equal(seen.ppid, process.pid);
  }
});
