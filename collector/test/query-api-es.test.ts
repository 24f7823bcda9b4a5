// The query API against the real Elasticsearch: Sluice's index template on a fresh data
// stream, flow documents made by toDocument from records with known values, and every
// query kind's numbers checked against totals this test computes from its own records.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import { elasticsearchForTests, needServer } from '@sluice/testkit';
import Fastify, { type FastifyInstance } from 'fastify';
import { toDocument } from '../src/flow/document.js';
import { queryApiPlugin } from '../src/query/api/plugin.js';
import {
  BASE_MS,
  EXPORTERS,
  HOUR_MS,
  type KnownRecord,
  knownRecords,
  testCompileFilter,
} from '../src/query/api/testing.test-helpers.js';
import type { Frame, FrameField } from '../src/query/es/types.js';
import { runSuffix } from '../src/sink/elasticsearch/fixtures.test-helpers.js';
import { installIndexTemplate } from '../src/sink/elasticsearch/template.js';

const RUN = runSuffix();
const FROM = new Date(BASE_MS).toISOString();
const TO = BASE_MS + HOUR_MS;

interface Answer {
  status: number;
  body: { frames: Frame[]; error?: string; column?: number; expected?: unknown };
}

async function query(app: FastifyInstance, payload: object): Promise<Answer> {
  const res = await app.inject({ method: 'POST', url: '/api/v1/query', payload });
  return { status: res.statusCode, body: res.json() };
}

async function frames(app: FastifyInstance, payload: object): Promise<Frame[]> {
  const r = await query(app, payload);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.frames;
}

function col(frame: Frame | undefined, name: string): FrameField {
  const f = frame?.fields.find((x) => x.name === name);
  assert.ok(f, `column ${name} in ${frame?.fields.map((x) => x.name).join(', ')}`);
  return f;
}

/** Sums of `value` per key, ordered by value desc (ties compared as sets below). */
function ranking<K>(
  rows: KnownRecord[],
  key: (r: KnownRecord) => K | undefined,
  value: (r: KnownRecord) => number,
) {
  const sums = new Map<string, { key: K; value: number }>();
  for (const r of rows) {
    const k = key(r);
    if (k === undefined) continue;
    const id = JSON.stringify(k);
    const e = sums.get(id) ?? { key: k, value: 0 };
    e.value += value(r);
    sums.set(id, e);
  }
  return [...sums.values()].sort((a, b) => b.value - a.value);
}

/** Same values in order; keys equal as sets within runs of equal values. */
function assertRanking(
  got: { key: unknown; value: number }[],
  want: { key: unknown; value: number }[],
): void {
  assert.deepEqual(
    got.map((g) => g.value),
    want.map((w) => w.value),
  );
  const groups = (rows: { key: unknown; value: number }[]) => {
    const m = new Map<number, string[]>();
    for (const r of rows) m.set(r.value, [...(m.get(r.value) ?? []), JSON.stringify(r.key)].sort());
    return m;
  };
  assert.deepEqual(groups(got), groups(want));
}

function close(a: number, b: number, what: string): void {
  assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} != ${b}`);
}

test('query API over real Elasticsearch: each kind against independently computed values', async (t) => {
  const es = await needServer(t, elasticsearchForTests);
  if (!es) return;
  const client = new Client({ node: es.url });
  const dataStream = `logs-netflow.sluiceqapi${RUN}-default`;
  t.after(async () => {
    await client.indices
      .deleteIndexTemplate({ name: `logs-netflow.sluiceqapi${RUN}` })
      .catch(() => {});
    await client.close();
  });
  await installIndexTemplate(client, { dataStream });
  const known = knownRecords();
  const operations = known.flatMap((k) => [{ create: {} }, toDocument(k.record)]);
  const bulk = await client.bulk({ index: dataStream, operations, refresh: true });
  assert.equal(bulk.errors, false, JSON.stringify(bulk.items.find((i) => i.create?.error)));
  const flows = known.filter((k) => k.isFlow);

  const app = Fastify();
  await app.register(queryApiPlugin, { client, dataStream, compileFilter: testCompileFilter });
  t.after(() => app.close());

  await t.test('timeseries: scaled bytes per 5 minutes', async () => {
    const [frame] = await frames(app, {
      kind: 'timeseries',
      metric: 'bytes',
      from: FROM,
      to: TO,
      interval: '5m',
    });
    assert.equal(frame?.meta?.intervalMs, 300_000);
    const times = col(frame, 'time');
    assert.equal(times.type, 'time');
    assert.deepEqual(
      times.values,
      Array.from({ length: 12 }, (_, k) => BASE_MS + k * 300_000),
    );
    const bytes = col(frame, 'bytes');
    assert.equal(bytes.unit, 'decbytes');
    const want = Array.from({ length: 12 }, () => 0);
    for (const f of flows) {
      const k = Math.floor((f.timestampMs - BASE_MS) / 300_000);
      want[k] = (want[k] ?? 0) + f.scaledBytes;
    }
    assert.deepEqual(bytes.values, want);
    // Sampling really was applied: the scaled total is not the raw one.
    const raw = flows.reduce((s, f) => s + f.bytes, 0);
    assert.notEqual(
      want.reduce((a, b) => a + b, 0),
      raw,
    );
  });

  await t.test('timeseries: raw packets as a rate, auto interval, flow counts', async () => {
    const [frame] = await frames(app, {
      kind: 'timeseries',
      metric: 'packets',
      raw: true,
      rate: true,
      from: BASE_MS,
      to: TO,
      interval: 600_000,
    });
    const want = Array.from({ length: 6 }, () => 0);
    for (const f of flows) {
      const k = Math.floor((f.timestampMs - BASE_MS) / 600_000);
      want[k] = (want[k] ?? 0) + f.packets;
    }
    const got = col(frame, 'packets');
    assert.equal(got.unit, 'pps');
    want.forEach((w, k) => {
      close(got.values[k] as number, w / 600, `bucket ${k}`);
    });

    // maxDataPoints 30 over an hour: 120 s buckets (a round width), 30 of them.
    const [auto] = await frames(app, {
      kind: 'timeseries',
      metric: 'flows',
      from: FROM,
      to: new Date(TO).toISOString(),
      maxDataPoints: 30,
    });
    assert.equal(auto?.meta?.intervalMs, 120_000);
    const counts = Array.from({ length: 30 }, () => 0);
    for (const f of flows) {
      const k = Math.floor((f.timestampMs - BASE_MS) / 120_000);
      counts[k] = (counts[k] ?? 0) + 1;
    }
    assert.deepEqual(col(auto, 'flows').values, counts);
    // Options records are documents but not flows.
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      360,
    );
  });

  await t.test('timeseries: grouped by exporter, top 2 series plus other, filtered', async () => {
    const tcp = flows.filter((f) => f.transport === 'tcp');
    const top = ranking(
      tcp,
      (f) => f.exporter,
      (f) => f.scaledBytes,
    );
    assert.ok((top[1]?.value ?? 0) > (top[2]?.value ?? 0), 'no tie at the cut');
    const [frame] = await frames(app, {
      kind: 'timeseries',
      metric: 'bytes',
      from: FROM,
      to: TO,
      interval: '15m',
      groupBy: ['observer.ip'],
      top: 2,
      filter: 'network.transport:tcp',
    });
    const series = frame?.fields.filter((f) => f.type === 'number') ?? [];
    assert.deepEqual(
      series.map((s) => s.labels?.['observer.ip']),
      [top[0]?.key, top[1]?.key, '(other)'],
    );
    const bucket = (f: KnownRecord) => Math.floor((f.timestampMs - BASE_MS) / 900_000);
    for (const [i, s] of series.entries()) {
      const want = [0, 0, 0, 0];
      for (const f of tcp) {
        const isTop = f.exporter === top[0]?.key || f.exporter === top[1]?.key;
        if (i < 2 ? f.exporter === top[i]?.key : !isTop)
          want[bucket(f)] = (want[bucket(f)] ?? 0) + f.scaledBytes;
      }
      assert.deepEqual(s.values, want, `series ${i}`);
    }
  });

  await t.test('timeseries: grouped by a tuple (composite ranking, then filters)', async () => {
    const key = (f: KnownRecord) =>
      f.dstPort === undefined ? undefined : `${f.transport}/${f.dstPort}`;
    const top = ranking(flows, key, (f) => f.bytes);
    assert.ok((top[2]?.value ?? 0) > (top[3]?.value ?? 0), 'no tie at the cut');
    const [frame] = await frames(app, {
      kind: 'timeseries',
      metric: 'bytes',
      raw: true,
      from: FROM,
      to: TO,
      interval: '1h',
      groupBy: ['network.transport', 'destination.port'],
      top: 3,
    });
    const series = frame?.fields.filter((f) => f.type === 'number') ?? [];
    assert.deepEqual(
      series
        .slice(0, 3)
        .map((s) => `${s.labels?.['network.transport']}/${s.labels?.['destination.port']}`),
      top.slice(0, 3).map((x) => x.key),
    );
    assert.deepEqual(
      series.slice(0, 3).map((s) => s.values[0]),
      top.slice(0, 3).map((x) => x.value),
    );
    // Everything else, ICMP (no port) included, is in `other`.
    const all = flows.reduce((s, f) => s + f.bytes, 0);
    const shown = top.slice(0, 3).reduce((s, x) => s + x.value, 0);
    assert.deepEqual(series[3]?.labels, {
      'network.transport': '(other)',
      'destination.port': '(other)',
    });
    assert.equal(series[3]?.values[0], all - shown);
  });

  await t.test('topn: exporters by bytes with shares; tuples by packets; flows', async () => {
    const want = ranking(
      flows,
      (f) => f.exporter,
      (f) => f.scaledBytes,
    );
    const total = want.reduce((s, x) => s + x.value, 0);
    const [frame] = await frames(app, {
      kind: 'topn',
      metric: 'bytes',
      fields: ['observer.ip'],
      top: 3,
      from: FROM,
      to: TO,
    });
    assert.equal(frame?.meta?.total, total);
    const keys = col(frame, 'observer.ip').values;
    const values = col(frame, 'bytes').values as number[];
    assertRanking(
      keys.map((k, i) => ({ key: k, value: values[i] ?? 0 })),
      want.slice(0, 3),
    );
    const share = col(frame, 'share');
    assert.equal(share.unit, 'percentunit');
    values.forEach((v, i) => {
      close(share.values[i] as number, v / total, 'share');
    });

    const pairs = ranking(
      flows,
      (f) => (f.srcIp === undefined ? undefined : [f.srcIp, f.exporter]),
      (f) => f.packets,
    );
    const [tuple] = await frames(app, {
      kind: 'topn',
      metric: 'packets',
      raw: true,
      fields: ['source.ip', 'observer.ip'],
      top: 8,
      from: FROM,
      to: TO,
    });
    const src = col(tuple, 'source.ip').values;
    const obs = col(tuple, 'observer.ip').values;
    const pk = col(tuple, 'packets').values as number[];
    // The cut at 8 may fall inside a tie: compare the values, and keys outside the last run.
    assert.deepEqual(
      pk,
      pairs.slice(0, 8).map((p) => p.value),
    );
    const last = pk.at(-1);
    const keysOf = (rows: { key: unknown; value: number }[]) =>
      rows
        .filter((r) => r.value !== last)
        .map((r) => JSON.stringify(r.key))
        .sort();
    assert.deepEqual(
      keysOf(src.map((s, i) => ({ key: [s, obs[i]], value: pk[i] ?? 0 }))),
      keysOf(pairs.slice(0, 8)),
    );

    const ports = ranking(
      flows,
      (f) => f.dstPort,
      () => 1,
    );
    const [byFlows] = await frames(app, {
      kind: 'topn',
      metric: 'flows',
      rate: true,
      fields: ['destination.port'],
      top: 10,
      from: FROM,
      to: TO,
    });
    const portCol = col(byFlows, 'destination.port');
    assert.equal(portCol.type, 'number');
    assertRanking(
      portCol.values.map((k, i) => ({
        key: k,
        value: Math.round(((col(byFlows, 'flows').values[i] as number) * HOUR_MS) / 1000),
      })),
      ports,
    );
    assert.equal(byFlows?.meta?.total, flows.length / 3600);
  });

  await t.test('records: search_after paging returns every document exactly once', async () => {
    for (const [filter, size, want] of [
      ['', 50, known],
      ['network.transport:udp', 7, known.filter((k) => k.transport === 'udp')],
    ] as const) {
      const seen: number[] = [];
      const stamps: number[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const [frame] = await frames(app, {
          kind: 'records',
          from: FROM,
          to: TO,
          filter,
          size,
          fields: ['@timestamp', 'netflow.exporter.sequence', 'source.ip', 'network.bytes'],
          sort: [{ field: '@timestamp', order: 'asc' }],
          ...(cursor !== undefined ? { cursor } : {}),
        });
        if (pages === 0) assert.equal(frame?.meta?.total, want.length);
        seen.push(...(col(frame, 'netflow.exporter.sequence').values as number[]));
        stamps.push(...(col(frame, '@timestamp').values as number[]));
        assert.equal(col(frame, '@timestamp').type, 'time');
        cursor = frame?.meta?.nextCursor;
        pages++;
        assert.ok(pages <= want.length / size + 2, 'paging ends');
      } while (cursor !== undefined);
      assert.equal(seen.length, want.length, `${filter}: no document twice or missing`);
      assert.deepEqual(
        [...seen].sort((a, b) => a - b),
        want.map((k) => k.seq).sort((a, b) => a - b),
      );
      assert.deepEqual(
        stamps,
        [...stamps].sort((a, b) => a - b),
        'sorted by time',
      );
    }
    // A row carries the chosen fields from _source.
    const [one] = await frames(app, {
      kind: 'records',
      from: FROM,
      to: TO,
      filter: 'netflow.exporter.sequence:7',
      fields: ['source.ip', 'network.bytes', 'sluice.scaled.bytes'],
    });
    const k7 = known[7];
    assert.deepEqual(col(one, 'source.ip').values, [k7?.srcIp]);
    assert.deepEqual(col(one, 'network.bytes').values, [k7?.bytes]);
    assert.deepEqual(col(one, 'sluice.scaled.bytes').values, [k7?.scaledBytes]);
  });

  await t.test('values: distinct values, with a prefix on keyword and on ip fields', async () => {
    const [exp] = await frames(app, { kind: 'values', field: 'observer.ip', from: FROM, to: TO });
    assert.deepEqual([...col(exp, 'observer.ip').values].sort(), [...EXPORTERS].sort());
    const counts = new Map(
      ranking(
        known,
        (k) => k.exporter,
        () => 1,
      ).map((r) => [r.key, r.value]),
    );
    const ips = col(exp, 'observer.ip').values;
    col(exp, 'count').values.forEach((c, i) => {
      assert.equal(c, counts.get(String(ips[i])));
    });

    const [tr] = await frames(app, {
      kind: 'values',
      field: 'network.transport',
      prefix: 'u',
      from: FROM,
      to: TO,
    });
    assert.deepEqual(col(tr, 'network.transport').values, ['udp']);
    const [pre] = await frames(app, {
      kind: 'values',
      field: 'observer.ip',
      prefix: '192.0.2.',
      from: FROM,
      to: TO,
    });
    assert.deepEqual([...col(pre, 'observer.ip').values].sort(), ['192.0.2.1', '192.0.2.2']);
    const [ports] = await frames(app, {
      kind: 'values',
      field: 'destination.port',
      from: FROM,
      to: TO,
      size: 3,
    });
    assert.equal(col(ports, 'destination.port').type, 'number');
    assert.equal(col(ports, 'destination.port').values.length, 3);
  });

  await t.test('fields: types from field caps', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/fields' });
    assert.equal(res.statusCode, 200);
    const { fields } = res.json() as {
      fields: { name: string; type: string; aggregatable: boolean }[];
    };
    const type = (n: string) => fields.find((f) => f.name === n)?.type;
    assert.equal(type('source.ip'), 'ip');
    assert.equal(type('sluice.scaled.bytes'), 'long');
    assert.equal(type('network.transport'), 'keyword');
    assert.equal(type('@timestamp'), 'date');
    assert.ok(!fields.some((f) => f.name.startsWith('_')));
  });

  await t.test(
    'bad input: filter error with the column, bad kind, bad field, bad time',
    async () => {
      const bad = await query(app, {
        kind: 'topn',
        metric: 'bytes',
        fields: ['observer.ip'],
        from: FROM,
        to: TO,
        filter: 'network.transport:tcp !!',
      });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error ?? '', /^filter: /);
      assert.equal(bad.body.column, 23);
      assert.deepEqual(bad.body.expected, ['field:value']);

      const kind = await query(app, { kind: 'nope', from: FROM, to: TO });
      assert.equal(kind.status, 400);
      assert.match(kind.body.error ?? '', /kind: expected one of timeseries, topn/);
      const metric = await query(app, { kind: 'timeseries', metric: 'octets', from: FROM, to: TO });
      assert.equal(metric.status, 400);
      assert.match(metric.body.error ?? '', /^metric: /);
      const time = await query(app, {
        kind: 'values',
        field: 'source.ip',
        from: 'yesterday',
        to: TO,
      });
      assert.equal(time.status, 400);
      assert.match(time.body.error ?? '', /from: not a time/);
      const backwards = await query(app, {
        kind: 'values',
        field: 'source.ip',
        from: TO,
        to: FROM,
      });
      assert.equal(backwards.status, 400);
      const cursor = await query(app, { kind: 'records', from: FROM, to: TO, cursor: 'garbage' });
      assert.equal(cursor.status, 400);
      assert.match(cursor.body.error ?? '', /cursor/);
    },
  );
});
