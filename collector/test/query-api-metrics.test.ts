// The `metrics` kind against a real Prometheus scraping a tiny endpoint served here:
// a PromQL expression's value comes back in a frame, instant and over a range.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import { needServer, startPrometheus, waitFor } from '@sluice/testkit';
import Fastify from 'fastify';
import { queryApiPlugin } from '../src/query/api/plugin.js';
import { testCompileFilter } from '../src/query/api/testing.test-helpers.js';
import type { Frame } from '../src/query/es/types.js';

test('metrics: PromQL through the configured Prometheus, instant and range, errors', async (t) => {
  const exposition = [
    '# TYPE sluice_test_bytes_total counter',
    'sluice_test_bytes_total{exporter="192.0.2.1"} 4096',
    'sluice_test_bytes_total{exporter="192.0.2.2"} 1024',
    '',
  ].join('\n');
  const target = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(exposition);
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const addr = target.address();
  const port = addr !== null && typeof addr === 'object' ? addr.port : 0;
  const prom = await needServer(t, () =>
    startPrometheus({ targets: [{ job: 'qapi', target: `127.0.0.1:${port}` }] }),
  );
  t.after(() => new Promise<void>((r) => target.close(() => r())));
  t.after(() => prom?.stop());
  if (!prom) return;
  await waitFor(
    async () => ((await prom.query('sluice_test_bytes_total')).length === 2 ? true : undefined),
    { what: 'two scraped series', timeoutMs: 30_000 },
  );

  const client = new Client({ node: 'http://127.0.0.1:9' });
  const app = Fastify();
  await app.register(queryApiPlugin, {
    client,
    dataStream: 'unused',
    compileFilter: testCompileFilter,
    prometheusUrl: prom.url,
  });
  t.after(() => app.close());
  const query = async (payload: object) => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/query', payload });
    return { status: res.statusCode, body: res.json() as { frames: Frame[]; error?: string } };
  };

  const now = Date.now();
  const instant = await query({
    kind: 'metrics',
    expr: 'sum(sluice_test_bytes_total) * 2',
    instant: true,
    from: now - 60_000,
    to: now,
  });
  assert.equal(instant.status, 200, JSON.stringify(instant.body));
  const [frame] = instant.body.frames;
  assert.deepEqual(
    frame?.fields.map((f) => [f.name, f.type]),
    [
      ['time', 'time'],
      ['value', 'number'],
    ],
  );
  assert.deepEqual(frame?.fields[1]?.values, [(4096 + 1024) * 2]);
  assert.ok(Math.abs((frame?.fields[0]?.values[0] as number) - now) < 1000);

  const range = await query({
    kind: 'metrics',
    expr: 'sluice_test_bytes_total',
    from: now - 30_000,
    to: now,
    step: '1s',
  });
  assert.equal(range.status, 200, JSON.stringify(range.body));
  const byExporter = new Map(
    range.body.frames.map((f) => [f.fields[1]?.labels?.exporter, f.fields[1]?.values ?? []]),
  );
  assert.deepEqual([...byExporter.keys()].sort(), ['192.0.2.1', '192.0.2.2']);
  const a = byExporter.get('192.0.2.1') ?? [];
  assert.ok(a.length >= 1 && a.every((v) => v === 4096), JSON.stringify(a));
  assert.ok((byExporter.get('192.0.2.2') ?? []).every((v) => v === 1024));
  assert.equal(range.body.frames[0]?.meta?.intervalMs, 1000);
  const times = range.body.frames[0]?.fields[0]?.values as number[];
  assert.ok(times.every((x, i) => i === 0 || x - (times[i - 1] ?? 0) === 1000));

  const bad = await query({
    kind: 'metrics',
    expr: 'sum(',
    instant: true,
    from: now - 1000,
    to: now,
  });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error ?? '', /^metrics: Prometheus: .*parse error/);
  const many = await query({
    kind: 'metrics',
    expr: 'up',
    from: now - 24 * 3_600_000,
    to: now,
    step: '1s',
  });
  assert.equal(many.status, 422);
  assert.match(many.body.error ?? '', /points per series is more than the limit/);
});
