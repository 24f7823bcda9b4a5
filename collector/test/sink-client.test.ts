// The Elasticsearch client from configuration: basic auth and API keys reach the wire
// (seen at a proxy in front of the real node), TLS trusts the configured CA, and the
// description for logs never contains a secret.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import { elasticsearchForTests, needServer, selfSignedCertificate } from '@sluice/testkit';
import { BulkIndexer } from '../src/sink/elasticsearch/bulk.js';
import {
  createElasticsearchClient,
  type ElasticsearchConfig,
  redactedDescription,
} from '../src/sink/elasticsearch/client.js';
import { runSuffix } from '../src/sink/elasticsearch/fixtures.test-helpers.js';
import { startEsProxy } from '../src/sink/elasticsearch/proxy.test-helpers.js';

const PASSWORD = 'pw-Sup3r-s3cret';
const API_KEY = Buffer.from('key-id:key-s3cret-value').toString('base64');
const INDEX = `sluice-client-test-${runSuffix()}`;

test('redactedDescription: nodes, auth kind, TLS, timeout; never a secret', () => {
  const configs: [ElasticsearchConfig, RegExp][] = [
    [{}, /^Elasticsearch http:\/\/localhost:9200 \(auth: none; timeout 30000 ms\)$/],
    [{ url: 'https://es:9200', username: 'elastic', password: PASSWORD }, /basic as elastic/],
    [
      { urls: ['https://a:9200', 'https://b:9200'], apiKey: API_KEY },
      /a:9200, https:\/\/b:9200.*API key/,
    ],
    [{ url: 'https://es:9200', apiKey: { id: 'key-id', api_key: 'key-s3cret-value' } }, /API key/],
    [{ url: `https://elastic:${PASSWORD}@es:9200/?token=${PASSWORD}` }, /credentials in URL/],
    [
      { url: 'https://es:9200', tls: { caFile: '/etc/ca.pem', rejectUnauthorized: false } },
      /TLS certificates NOT verified, CA \/etc\/ca\.pem/,
    ],
  ];
  for (const [config, expected] of configs) {
    const text = redactedDescription(config);
    assert.match(text, expected);
    for (const secret of [PASSWORD, API_KEY, 'key-s3cret-value', encodeURIComponent(PASSWORD)]) {
      assert.ok(!text.includes(secret), `${text} leaks a secret`);
    }
  }
});

test('client config: contradictions and unreadable files are named', () => {
  assert.throws(
    () => createElasticsearchClient({ username: 'u', password: 'p', apiKey: API_KEY }),
    /either an API key or a username/,
  );
  assert.throws(() => createElasticsearchClient({ username: 'u' }), /needs a password/);
  assert.throws(
    () => createElasticsearchClient({ tls: { caFile: '/nonexistent/ca.pem' } }),
    /cannot read the CA file \/nonexistent\/ca\.pem/,
  );
});

test('client: basic auth and API key headers reach the server on bulk requests', async (t) => {
  const es = await needServer(t, elasticsearchForTests);
  if (!es) return;
  const proxy = await startEsProxy(es.url);
  const direct = new Client({ node: es.url });
  const dir = mkdtempSync(join(tmpdir(), 'sluice-sink-client-'));
  t.after(async () => {
    await direct.indices.delete({ index: INDEX }, { ignore: [404] });
    await direct.close();
    await proxy.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const cases: [ElasticsearchConfig, string][] = [
    [
      { url: proxy.url, username: 'elastic', password: PASSWORD },
      `Basic ${Buffer.from(`elastic:${PASSWORD}`).toString('base64')}`,
    ],
    [{ url: proxy.url, apiKey: API_KEY }, `ApiKey ${API_KEY}`],
    [
      { url: proxy.url, apiKey: { id: 'key-id', api_key: 'key-s3cret-value' } },
      `ApiKey ${API_KEY}`,
    ],
  ];
  let n = 0;
  for (const [config, header] of cases) {
    const client = createElasticsearchClient({ ...config, requestTimeoutMs: 10_000 });
    const indexer = new BulkIndexer({
      client,
      dataStream: INDEX,
      deadLetter: { path: join(dir, 'dlq.ndjson') },
    });
    indexer.add({ id: `auth-${n}`, source: JSON.stringify({ n }), position: BigInt(n) });
    await indexer.close({ timeoutMs: 30_000 });
    await client.close();
    assert.equal(indexer.stats().indexed, 1);
    const bulk = proxy.requests.filter((r) => r.bulkN > 0).at(-1);
    assert.equal(bulk?.headers.authorization, header);
    n += 1;
  }
});

test('client: TLS with the configured CA; an unknown CA is refused', async (t) => {
  const es = await needServer(t, elasticsearchForTests);
  if (!es) return;
  const tls = await needServer(t, async () => selfSignedCertificate());
  if (!tls) return;
  const cert = tls.certFile;
  const proxy = await startEsProxy(es.url, { tls: { key: tls.key, cert: tls.cert } });
  t.after(() => proxy.close());

  const trusted = createElasticsearchClient({ url: proxy.url, tls: { caFile: cert } });
  const health = await trusted.cluster.health();
  assert.ok(['green', 'yellow'].includes(String(health.status).toLowerCase()));
  await trusted.close();

  const untrusted = createElasticsearchClient({ url: proxy.url, requestTimeoutMs: 10_000 });
  await assert.rejects(untrusted.cluster.health({}, { maxRetries: 0 }), /certificate/i);
  await untrusted.close();

  const unverified = createElasticsearchClient({
    url: proxy.url,
    tls: { rejectUnauthorized: false },
  });
  assert.ok((await unverified.cluster.health()).cluster_name);
  await unverified.close();
});
