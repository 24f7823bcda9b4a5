import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  needServer,
  ServerStartError,
  ServerUnavailableError,
  startProcess,
} from '@sluice/testkit';

const logDir = mkdtempSync(join(tmpdir(), 'sluice-harness-'));

test('a server that dies before it is ready fails with its log tail', async () => {
  await assert.rejects(
    startProcess({
      name: 'dying-server',
      command: 'sh',
      args: ['-c', 'echo "fatal: port already in use"; exit 3'],
      logFile: join(logDir, 'dying.log'),
      ready: async () => false,
      readyTimeoutMs: 10_000,
    }),
    (err: unknown) => {
      assert.ok(err instanceof ServerStartError);
      assert.match(err.message, /dying-server exited before it was ready/);
      assert.match(err.logTail, /fatal: port already in use/);
      return true;
    },
  );
});

test('a server that never becomes ready is killed after the timeout, with its log', async () => {
  await assert.rejects(
    startProcess({
      name: 'slow-server',
      command: 'sh',
      args: ['-c', 'echo "still warming up"; exec sleep 600'],
      logFile: join(logDir, 'slow.log'),
      ready: async () => false,
      readyTimeoutMs: 1_000,
      pollMs: 100,
    }),
    (err: unknown) => {
      assert.ok(err instanceof ServerStartError);
      assert.match(err.message, /slow-server was not ready after 1000 ms/);
      assert.match(err.logTail, /still warming up/);
      return true;
    },
  );
});

test('stop() ends the whole process group of a ready server', async () => {
  const proc = await startProcess({
    name: 'group',
    command: 'sh',
    // The shell and its background child share the group; both must go.
    args: ['-c', 'sleep 600 & echo started; wait'],
    logFile: join(logDir, 'group.log'),
    ready: async () => true,
    readyTimeoutMs: 5_000,
  });
  const alive = (pid: number): boolean => {
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  assert.ok(alive(proc.pid));
  await proc.stop();
  assert.equal(alive(proc.pid), false, 'no process of the group survives stop()');
});

test('a missing server skips outside CI and fails under CI=true', async (t) => {
  const saved = process.env.CI;
  t.after(() => {
    if (saved === undefined) delete process.env.CI;
    else process.env.CI = saved;
  });
  const missing = () => Promise.reject(new ServerUnavailableError('install the thing'));

  process.env.CI = 'true';
  await assert.rejects(
    needServer(t, missing),
    (err: unknown) =>
      err instanceof ServerUnavailableError && /install the thing/.test(err.message),
  );

  delete process.env.CI;
  let skipped = '';
  const fakeContext = { skip: (msg?: string) => (skipped = msg ?? '') } as unknown as typeof t;
  assert.equal(await needServer(fakeContext, missing), undefined);
  assert.equal(skipped, 'install the thing');
});
