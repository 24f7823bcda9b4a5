// The query API's guard and limits: bearer tokens (none, wrong, right) while the probes
// stay open, tokens never logged; requests over a limit refused with the reason before
// anything runs; a search that outlives the deadline reported as a timeout.
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import { elasticsearchForTests, needServer } from '@sluice/testkit';
import Fastify from 'fastify';
import { createLogger } from '../src/api/logging.js';
import { buildApi } from '../src/api/server.js';
import { queryApiPlugin, queryApiRequiresAuth } from '../src/query/api/plugin.js';
import { BASE_MS, HOUR_MS, testCompileFilter } from '../src/query/api/testing.test-helpers.js';
import { runSuffix } from '../src/sink/elasticsearch/fixtures.test-helpers.js';
import { installIndexTemplate } from '../src/sink/elasticsearch/template.js';

const RUN = runSuffix();
const TOKEN = 'sluice-test-token-0123456789';
const VALUES = { kind: 'values', field: 'observer.ip', from: BASE_MS, to: BASE_MS + HOUR_MS };

test('bearer tokens: none or wrong → 401, right → 200; probes and docs open; tokens never logged', async (t) => {
  const es = await needServer(t, elasticsearchForTests);
  if (!es) return;
  const client = new Client({ node: es.url });
  const dataStream = `logs-netflow.sluiceqauth${RUN}-default`;
  await installIndexTemplate(client, { dataStream });
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  // The collector's own server, with the plugin registered as the lead will.
  const app = buildApi({ logger: createLogger({ level: 'debug', destination: sink }) });
  const opts = {
    client,
    dataStream,
    compileFilter: testCompileFilter,
    tokens: ['other-token', TOKEN],
  };
  await app.register(queryApiPlugin, opts);
  t.after(async () => {
    await app.close();
    await client.indices
      .deleteIndexTemplate({ name: `logs-netflow.sluiceqauth${RUN}` })
      .catch(() => {});
    await client.close();
  });
  assert.equal(queryApiRequiresAuth(opts), true);
  assert.equal(queryApiRequiresAuth({ tokens: [] }), false);
  assert.equal(queryApiRequiresAuth({}), false);

  const post = (authorization?: string) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/query',
      payload: VALUES,
      headers: authorization !== undefined ? { authorization } : {},
    });
  const none = await post();
  assert.equal(none.statusCode, 401);
  assert.equal(none.headers['www-authenticate'], 'Bearer realm="sluice"');
  assert.deepEqual(none.json(), { error: 'bearer token required' });
  for (const wrong of [
    `Bearer ${TOKEN}x`,
    `Bearer ${TOKEN.slice(0, -1)}`,
    `Basic ${TOKEN}`,
    'Bearer ',
  ]) {
    const res = await post(wrong);
    assert.equal(res.statusCode, 401, wrong);
  }
  const fields = await app.inject({ method: 'GET', url: '/api/v1/fields' });
  assert.equal(fields.statusCode, 401);

  const right = await post(`Bearer ${TOKEN}`);
  assert.equal(right.statusCode, 200, right.body);
  assert.ok(Array.isArray(right.json().frames));
  const second = await post('Bearer other-token');
  assert.equal(second.statusCode, 200);
  // Nothing indexed yet (a fresh collector): records answer an empty page, not an error.
  const records = await app.inject({
    method: 'POST',
    url: '/api/v1/query',
    payload: { ...VALUES, kind: 'records', field: undefined },
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  assert.equal(records.statusCode, 200, records.body);
  assert.equal(records.json().frames[0].fields[0].values.length, 0);

  assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  const docs = await app.inject({ method: 'GET', url: '/docs/json' });
  assert.equal(docs.statusCode, 200);
  const spec = docs.json() as {
    openapi: string;
    paths: Record<string, unknown>;
    components: { securitySchemes?: unknown };
  };
  assert.match(spec.openapi, /^3\./);
  assert.ok(spec.paths['/api/v1/query'] && spec.paths['/api/v1/fields']);
  assert.deepEqual(spec.components.securitySchemes, { bearer: { type: 'http', scheme: 'bearer' } });

  const log = lines.join('');
  assert.ok(!log.includes(TOKEN) && !log.includes('other-token'), 'no token in the log');
});

test('no tokens: open, and the plugin says to bind loopback only', async (t) => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const app = buildApi({ logger: createLogger({ level: 'info', destination: sink }) });
  const client = new Client({ node: 'http://127.0.0.1:9' });
  await app.register(queryApiPlugin, { client, dataStream: 'x', compileFilter: testCompileFilter });
  t.after(() => app.close());
  await app.ready();
  assert.match(lines.join(''), /no bearer tokens configured.*loopback only/);
  // Reaches the handler (no 401): the range check answers before Elasticsearch is asked.
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/query',
    payload: { ...VALUES, to: BASE_MS + 40 * 24 * HOUR_MS },
  });
  assert.equal(res.statusCode, 422);
});

test('limits: range, buckets, page size refused with the reason; a slow search times out', async (t) => {
  // An "Elasticsearch" that accepts connections and never answers, and one that is not
  // asked at all: every refusal below happens before a search is sent.
  const held: Socket[] = [];
  const silent = createServer((s) => held.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const addr = silent.address();
  const port = addr !== null && typeof addr === 'object' ? addr.port : 0;
  const client = new Client({ node: `http://127.0.0.1:${port}` });
  const app = Fastify();
  await app.register(queryApiPlugin, {
    client,
    dataStream: 'logs-netflow.sluice-default',
    compileFilter: testCompileFilter,
    limits: { timeoutMs: 300 },
  });
  t.after(async () => {
    await app.close();
    await client.close();
    for (const s of held) s.destroy();
    silent.close();
  });
  const q = async (payload: object) => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/query', payload });
    return { status: res.statusCode, body: res.json() as { error: string; limit?: string } };
  };
  const from = BASE_MS;
  const long = await q({ ...VALUES, from, to: from + 32 * 24 * HOUR_MS });
  assert.equal(long.status, 422);
  assert.match(long.body.error, /time range of 32d is longer than the limit of 31d/);
  assert.equal(long.body.limit, 'maxRangeMs');

  const buckets = await q({
    kind: 'timeseries',
    metric: 'bytes',
    from,
    to: from + HOUR_MS,
    interval: '1s',
    groupBy: ['observer.ip'],
  });
  assert.equal(buckets.status, 422);
  assert.match(
    buckets.body.error,
    /11 series × 3600 points = 39600 buckets is more than the limit of 10000/,
  );
  assert.equal(buckets.body.limit, 'maxBuckets');
  const tuples = await q({
    kind: 'timeseries',
    metric: 'flows',
    from,
    to: from + 24 * HOUR_MS,
    maxDataPoints: 5000,
    groupBy: ['source.ip', 'destination.ip'],
    top: 20,
  });
  assert.equal(tuples.status, 422, 'checked before the tuples are ranked');

  const page = await q({ kind: 'records', from, to: from + HOUR_MS, size: 10_001 });
  assert.equal(page.status, 422);
  assert.match(page.body.error, /page size 10001 is more than the limit of 10000 records/);
  assert.equal(page.body.limit, 'maxRecords');

  const top = await q({
    kind: 'topn',
    metric: 'bytes',
    fields: ['source.ip'],
    top: 20_000,
    from,
    to: from + HOUR_MS,
  });
  assert.equal(top.status, 400, 'schema bound');

  const t0 = Date.now();
  const slow = await q({
    kind: 'topn',
    metric: 'bytes',
    fields: ['source.ip'],
    from,
    to: from + HOUR_MS,
  });
  assert.equal(slow.status, 504);
  assert.match(slow.body.error, /query timed out after 300 ms/);
  assert.equal(slow.body.limit, 'timeoutMs');
  assert.ok(Date.now() - t0 < 5000);
});
