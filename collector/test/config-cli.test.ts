// `sluice config check FILE` and the SLUICE_* environment overrides of `sluice collect`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { merge } from '../src/cli/commands/collect.js';
import { applyEnvOverrides, ENV_VARIABLES } from '../src/config/env.js';
import { ConfigError, resolveConfig } from '../src/config/load.js';

const CONFIG_TS = fileURLToPath(new URL('../src/cli/commands/config.ts', import.meta.url));

/** Runs a `sluice` program holding only the config command, in a child process. */
function sluice(args: string[], env: NodeJS.ProcessEnv = {}) {
  const script =
    `import { Command } from 'commander';` +
    `import { configCommand } from ${JSON.stringify(CONFIG_TS)};` +
    `const p = new Command('sluice').exitOverride();` +
    `p.addCommand(configCommand());` +
    `for (const c of p.commands) { c.exitOverride(); for (const s of c.commands) s.exitOverride(); }` +
    `try { await p.parseAsync(process.argv.slice(1), { from: 'user' }); }` +
    `catch (e) { process.exitCode = typeof e.exitCode === 'number' ? e.exitCode : 1; }`;
  const res = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script, '--', ...args],
    {
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, ...env },
    },
  );
  return { code: res.status, out: res.stdout, err: res.stderr };
}

function tempFile(t: { after: (fn: () => void) => void }, name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

test('config check prints the resolved configuration with secrets redacted', (t) => {
  const file = tempFile(
    t,
    'sluice.yaml',
    [
      'listen: [{ port: 9995, address: 127.0.0.1 }]',
      'journal: { max_bytes: 1GB }',
      'elasticsearch:',
      '  url: https://elastic:s3cret-in-url@es.example:9200',
      '  username: elastic',
      '  password: hunter2-password',
      '  api_key: c2VjcmV0LWFwaS1rZXk=',
      '  bulk_interval: 2s',
      'http: { tokens: [token-aaaaaaaaaaaaaaaa, token-bbbbbbbbbbbbbbbb] }',
      'metrics: { otlp_headers: { authorization: Bearer otlp-secret } }',
      'sampling: { overrides: { 192.0.2.1: 512 } }',
    ].join('\n'),
  );
  const res = sluice(['config', 'check', file]);
  assert.equal(res.code, 0, res.err);
  for (const secret of [
    's3cret-in-url',
    'hunter2-password',
    'c2VjcmV0LWFwaS1rZXk=',
    'token-aaaa',
    'otlp-secret',
  ]) {
    assert.ok(!res.out.includes(secret), `${secret} is not printed`);
  }
  const doc = parseYaml(res.out) as {
    listen: { port: number; address: string }[];
    journal: { max_bytes: number; hard_max_bytes: number };
    elasticsearch: Record<string, unknown>;
    http: { tokens: string[]; port: number };
    metrics: { otlp_headers: Record<string, string> };
    sampling: { overrides: Record<string, number> };
  };
  assert.deepEqual(doc.listen, [{ port: 9995, address: '127.0.0.1' }]);
  assert.equal(doc.journal.max_bytes, 1e9);
  assert.equal(doc.journal.hard_max_bytes, 4e9, 'defaults are filled in');
  assert.equal(doc.elasticsearch.url, 'https://elastic:***@es.example:9200/');
  assert.equal(doc.elasticsearch.username, 'elastic');
  assert.equal(doc.elasticsearch.password, '***');
  assert.equal(doc.elasticsearch.api_key, '***');
  assert.equal(doc.elasticsearch.bulk_interval_ms, 2000);
  assert.deepEqual(doc.http.tokens, ['***', '***']);
  assert.equal(doc.http.port, 9850);
  assert.deepEqual(doc.metrics.otlp_headers, { authorization: '***' });
  assert.deepEqual(doc.sampling.overrides, { '192.0.2.1': 512 });
});

test('config check refuses a bad file with the key and the problem, exit 2', (t) => {
  const bad = tempFile(t, 'bad.yaml', 'elasticsearch:\n  bulk_max_docs: lots\n');
  const res = sluice(['config', 'check', bad]);
  assert.equal(res.code, 2);
  assert.match(res.err, /elasticsearch\.bulk_max_docs: Expected integer \(got "lots"\)/);
  const unit = tempFile(t, 'unit.yaml', 'journal: { max_age: forever }\n');
  const u = sluice(['config', 'check', unit]);
  assert.equal(u.code, 2);
  assert.match(u.err, /journal\.max_age: "forever" is not a duration/);
  const missing = sluice(['config', 'check', '/nonexistent/sluice.yaml']);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /cannot read config file \/nonexistent\/sluice\.yaml/);
  // With --env, the SLUICE_* variables apply and an error names the variable.
  const ok = tempFile(t, 'ok.yaml', 'log_level: info\n');
  const env = sluice(['config', 'check', '--env', ok], { SLUICE_WORKERS: 'many' });
  assert.equal(env.code, 2);
  assert.match(env.err, /workers: .*\(from environment variable SLUICE_WORKERS\)/);
});

test('environment overrides: file < environment < flags, errors name the variable', () => {
  assert.ok(ENV_VARIABLES.some((v) => v.name === 'SLUICE_ELASTICSEARCH_API_KEY'));
  const file = {
    data_dir: '/from/file',
    log_level: 'warn' as const,
    elasticsearch: { url: 'http://file:9200', username: 'elastic' },
  };
  const env = {
    SLUICE_ELASTICSEARCH_URL: 'http://env:9200',
    SLUICE_ELASTICSEARCH_PASSWORD: 'pw',
    SLUICE_ELASTICSEARCH_API_KEY: 'key',
    SLUICE_ELASTICSEARCH_BULK_MAX_DOCS: '100',
    SLUICE_ELASTICSEARCH_BULK_CONCURRENCY: '6',
    SLUICE_ELASTICSEARCH_TLS_VERIFY: 'false',
    SLUICE_DATA_DIR: '/from/env',
    SLUICE_HTTP_LISTEN: '127.0.0.1:9999',
    SLUICE_HTTP_TOKENS: 'aaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbb',
    SLUICE_LOG_LEVEL: 'debug',
    SLUICE_WORKERS: '3',
    SLUICE_LISTEN: '9995,[::1]:9996',
    SLUICE_JOURNAL_FSYNC: 'always',
    SLUICE_SAMPLING_OVERRIDES: '192.0.2.1=512',
    SLUICE_API_TOKEN: 'not a config key: ignored',
    SLUICE_RECEIVE_BUFFER_BYTES: '',
  };
  const c = resolveConfig(merge(file, {}, env).config);
  assert.equal(c.elasticsearch.url, 'http://env:9200');
  assert.equal(c.elasticsearch.username, 'elastic', 'what the environment leaves stays');
  assert.equal(c.elasticsearch.password, 'pw');
  assert.equal(c.elasticsearch.apiKey, 'key');
  assert.equal(c.elasticsearch.bulkMaxDocs, 100);
  assert.equal(c.elasticsearch.bulkConcurrency, 6);
  assert.equal(c.elasticsearch.tlsVerify, false);
  assert.equal(c.dataDir, '/from/env');
  assert.deepEqual([c.http.host, c.http.port], ['127.0.0.1', 9999]);
  assert.deepEqual(c.http.tokens, ['aaaaaaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbbbbbb']);
  assert.equal(c.logLevel, 'debug');
  assert.equal(c.workers, 3);
  assert.deepEqual(c.listen, [
    { port: 9995, address: '::' },
    { port: 9996, address: '::1' },
  ]);
  assert.equal(c.journal.fsync, 'always');
  assert.equal(c.sampling.overrides.get('192.0.2.1'), 512);
  assert.equal(c.receiveBufferBytes, 32 * 1024 * 1024, 'an empty variable is ignored');
  // Flags win over both.
  const f = resolveConfig(
    merge(file, { elasticsearch: 'http://flag:9200', dataDir: '/from/flag', workers: '2' }, env)
      .config,
  );
  assert.equal(f.elasticsearch.url, 'http://flag:9200');
  assert.equal(f.dataDir, '/from/flag');
  assert.equal(f.workers, 2);
  // Without variables the file stands.
  const plain = resolveConfig(merge(file, {}, {}).config);
  assert.equal(plain.dataDir, '/from/file');
  assert.equal(applyEnvOverrides(file, {}).sources.size, 0);

  // A bad value is refused before anything starts, naming the key and the variable.
  assert.throws(
    () => merge({}, {}, { SLUICE_ELASTICSEARCH_BULK_MAX_DOCS: 'lots' }),
    (err: unknown) =>
      err instanceof ConfigError &&
      /elasticsearch\.bulk_max_docs: Expected integer \(got "lots"\) \(from environment variable SLUICE_ELASTICSEARCH_BULK_MAX_DOCS\)/.test(
        err.message,
      ),
  );
  assert.throws(
    () => merge({}, {}, { SLUICE_HTTP_TOKENS: 'short' }),
    /http\.tokens\.0: .*\(from environment variable SLUICE_HTTP_TOKENS\)/,
  );
  // The flag overrides a bad variable: no error.
  assert.equal(merge({}, { workers: '2' }, { SLUICE_WORKERS: 'many' }).config.workers, 2);
});

test('collect names the variable when the environment is wrong (exit 2)', () => {
  const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
  const script = `import { main } from ${JSON.stringify(MAIN)}; process.exitCode = await main(["node", "sluice", ...process.argv.slice(1)]);`;
  const res = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script, '--', 'collect'],
    {
      encoding: 'utf8',
      env: { ...process.env, SLUICE_JOURNAL_FSYNC: 'sometimes' },
    },
  );
  assert.equal(res.status, 2, res.stderr);
  assert.match(
    res.stderr,
    /journal\.fsync: "sometimes" is not a duration.*\(from environment variable SLUICE_JOURNAL_FSYNC\)/,
  );
});
