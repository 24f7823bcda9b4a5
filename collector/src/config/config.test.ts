import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AllowList } from './cidr.js';
import { ConfigError, readConfigFile, resolveConfig } from './load.js';
import { parseBytes, parseDuration } from './units.js';

function file(text: string): string {
  const p = join(mkdtempSync(join(tmpdir(), 'sluice-cfg-')), 'sluice.yaml');
  writeFileSync(p, text);
  return p;
}

test('config: a valid YAML file resolves with units and defaults', () => {
  const c = resolveConfig(
    readConfigFile(
      file(`
listen:
  - port: 9995
    address: 127.0.0.1
allow: [10.0.0.0/8, "2001:db8::/32"]
journal:
  segment_bytes: 16MiB
  fsync: always
  max_age: 2d
elasticsearch:
  url: https://es.example:9200
  api_key: c2VjcmV0
sampling:
  default_rate: 100
  overrides: { 192.0.2.1: 1000 }
http:
  listen: "[::1]:9900"
query:
  max_tuples: 5000
  timeout: 10s
`),
    ),
  );
  assert.deepEqual(c.listen, [{ port: 9995, address: '127.0.0.1' }]);
  assert.equal(c.journal.segmentBytes, 16 * 1024 * 1024);
  assert.equal(c.journal.fsync, 'always');
  assert.equal(c.journal.maxAgeMs, 2 * 86_400_000);
  assert.equal(c.elasticsearch.apiKey, 'c2VjcmV0');
  assert.equal(c.elasticsearch.dataStream, 'logs-netflow.sluice-default');
  assert.equal(c.elasticsearch.bulkConcurrency, 4, 'four bulk requests in flight by default');
  assert.equal(c.sampling.overrides.get('192.0.2.1'), 1000);
  assert.deepEqual([c.http.host, c.http.port, c.http.tokens], ['::1', 9900, []]);
  assert.deepEqual(
    [c.query.maxTuples, c.query.timeoutMs, c.query.maxBuckets],
    [5000, 10_000, 10_000],
  );
});

test('config: every bad value names its key and the problem', () => {
  const problem = (text: string) => {
    try {
      resolveConfig(readConfigFile(file(text)));
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return err.message;
    }
    assert.fail('expected a ConfigError');
  };
  assert.match(problem('listen:\n  - port: 70000\n'), /listen\.0\.port: .*(65535|less)/);
  assert.match(
    problem('elasticsearch:\n  bulk_max_docs: lots\n'),
    /elasticsearch\.bulk_max_docs: Expected/,
  );
  assert.match(
    problem('elasticsearch:\n  bulk_concurrency: 0\n'),
    /elasticsearch\.bulk_concurrency: .*(1|greater)/,
  );
  assert.match(problem('elastisearch:\n  url: x\n'), /elastisearch|additional/i);
  assert.match(
    problem('journal:\n  segment_bytes: 12 parsecs\n'),
    /journal\.segment_bytes: "12 parsecs" is not a size/,
  );
  assert.match(
    problem('journal:\n  max_age: soon\n'),
    /journal\.max_age: "soon" is not a duration/,
  );
  assert.match(
    problem('allow: [10.0.0.0/33]\n'),
    /config key allow: not a network: 10\.0\.0\.0\/33/,
  );
  assert.match(
    problem('http:\n  listen: localhost\n'),
    /http\.listen: "localhost" is not host:port/,
  );
  assert.match(problem('listen: [\n'), /not valid YAML/);
  assert.throws(
    () => readConfigFile('/nonexistent/sluice.yaml'),
    /cannot read config file \/nonexistent\/sluice\.yaml/,
  );
});

test('units and allow-list', () => {
  assert.equal(parseBytes('64MiB'), 64 * 1024 * 1024);
  assert.equal(parseBytes('10GB'), 10e9);
  assert.equal(parseBytes('512k'), 512_000);
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration(250), 250);
  const a = new AllowList(['10.0.0.0/8', '2001:db8::/32', '192.0.2.7']);
  assert.ok(a.allows('10.1.2.3'));
  assert.ok(a.allows('::ffff:10.1.2.3'), 'IPv4-mapped from a dual-stack socket');
  assert.ok(a.allows('2001:db8:ffff::1'));
  assert.ok(a.allows('192.0.2.7'));
  assert.ok(!a.allows('192.0.2.8'));
  assert.ok(!a.allows('11.0.0.1'));
  assert.ok(new AllowList([]).allows('203.0.113.1'), 'an empty list allows all');
});
