// Flow totals summed in a worker (FlowTotalsBuilder) and added on the main thread
// (FlowMetrics.addTable) must give exactly the series the plain rule gives, one record at
// a time (FlowMetrics.record): the same tuples, the same totals, the same overflow.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import fc from 'fast-check';
import type { FlowRecord } from '../flow/record.js';
import {
  FlowTotalsBuilder,
  type FlowTotalsTable,
  FlowTupleMap,
  MAX_TUPLE_IDS,
  NO_TUPLE,
  TOTALS,
  TOTALS_COLUMNS,
  TupleIndex,
} from './flow-tuples.js';
import { FlowMetrics, flowViews } from './flows.js';

class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** A FlowMetrics and a way to read every series it reports, as sorted text. */
function metricsUnderTest(limit: number): { flows: FlowMetrics; series(): Promise<string[]> } {
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader], views: flowViews(limit) });
  const flows = new FlowMetrics(provider.getMeter('test'), limit);
  return {
    flows,
    async series() {
      const { resourceMetrics } = await reader.collect();
      const out: string[] = [];
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) {
          for (const p of metric.dataPoints) {
            const attrs = Object.entries(p.attributes).sort(([a], [b]) => a.localeCompare(b));
            out.push(`${metric.descriptor.name} ${JSON.stringify(attrs)} ${String(p.value)}`);
          }
        }
      }
      return out.sort();
    },
  };
}

function flow(
  exporter: string,
  inIf: number,
  dstPort: number,
  bytes: number,
  extra: Partial<FlowRecord> = {},
): FlowRecord {
  return {
    kind: 'flow',
    exporter: {
      address: exporter,
      port: 2055,
      protocol: 'netflow',
      version: 10,
      domain: 0,
      sequence: 0,
      uptimeMs: undefined,
      exportTimeMs: undefined,
    },
    inInterface: inIf,
    outInterface: 2,
    protocol: 6,
    ipVersion: 4,
    srcPort: 40_000,
    dstPort,
    bytes,
    packets: 3,
    direction: 'ingress',
    ...extra,
  } as FlowRecord;
}

/** Records with `tuples` distinct tuples, each seen several times in varied order. */
function recordsOver(tuples: number, exporters: string[]): FlowRecord[] {
  const out: FlowRecord[] = [];
  for (let round = 0; round < 3; round++) {
    for (let t = 0; t < tuples; t++) {
      const exporter = exporters[t % exporters.length] as string;
      const extra: Partial<FlowRecord> = round === 2 ? { samplingRate: 10 } : {};
      out.push(flow(exporter, 1 + (t % 7), 20 + Math.floor(t / 7), 100 + t + round, extra));
    }
  }
  return out;
}

/** Feeds records through builders (records of one exporter to one builder, as workers) in batches. */
function viaTables(
  records: FlowRecord[],
  builders: FlowTotalsBuilder[],
  batch: number,
): FlowTotalsTable[] {
  const tables: FlowTotalsTable[] = [];
  for (let i = 0; i < records.length; i += batch) {
    for (const r of records.slice(i, i + batch)) {
      const n = Number(r.exporter.address.split('.').at(-1)) % builders.length;
      (builders[n] as FlowTotalsBuilder).add(r);
    }
    for (const b of builders) tables.push(b.build());
  }
  return tables;
}

test('tables from lasting tuple numbers give the series of the plain rule, overflow included', async () => {
  // Which tuples get a series of their own depends on the order they arrive in, so the
  // overflow case has one builder (its tables keep the records' order); without
  // overflow, two builders split the exporters as two decode workers do.
  for (const [limit, workers] of [
    [10, 1],
    [2000, 2],
  ] as const) {
    const records = recordsOver(60, ['192.0.2.1', '192.0.2.2', '192.0.2.3']);
    const plain = metricsUnderTest(limit);
    for (const r of records) plain.flows.record(r);
    const summed = metricsUnderTest(limit);
    const builders = Array.from({ length: workers }, () => new FlowTotalsBuilder());
    const tables = viaTables(records, builders, 25);
    for (const t of tables) summed.flows.addTable(t);
    const want = await plain.series();
    assert.ok(want.length > 0);
    assert.deepEqual(await summed.series(), want, `limit ${limit}`);
    if (limit === 10) assert.ok(want.some((s) => s.includes('otel.metric.overflow')));
  }
});

test('a tuple keeps its number across batches; a batch holds only its own totals', () => {
  const b = new FlowTotalsBuilder();
  b.add(flow('192.0.2.1', 1, 22, 100));
  b.add(flow('192.0.2.1', 2, 22, 50));
  const first = b.build();
  b.add(flow('192.0.2.1', 2, 22, 7));
  b.add(flow('192.0.2.1', 1, 22, 5));
  const second = b.build();
  const rows = (t: FlowTotalsTable) => {
    const out = new Map<number, { inIf: number; bytes: number; records: number }>();
    for (let at = 0; at < t.rows.length; at += TOTALS_COLUMNS) {
      out.set(t.rows[at + TOTALS.tuple] as number, {
        inIf: t.rows[at + TOTALS.inIf] as number,
        bytes: t.rows[at + TOTALS.bytes] as number,
        records: t.rows[at + TOTALS.records] as number,
      });
    }
    return out;
  };
  const a = rows(first);
  const c = rows(second);
  assert.equal(a.size, 2);
  assert.deepEqual([...a.keys()].sort(), [...c.keys()].sort());
  for (const [tuple, row] of a) {
    const later = c.get(tuple);
    assert.equal(later?.inIf, row.inIf, 'same number, same tuple');
  }
  assert.deepEqual(
    [...c.values()].sort((x, y) => x.inIf - y.inIf),
    [
      { inIf: 1, bytes: 5, records: 1 },
      { inIf: 2, bytes: 7, records: 1 },
    ],
  );
  assert.equal(second.space, first.space);
});

test('two builders number from zero alike and their tables stay apart', async () => {
  const one = new FlowTotalsBuilder();
  const two = new FlowTotalsBuilder();
  assert.notEqual(one.space, two.space);
  one.add(flow('192.0.2.1', 1, 22, 100));
  two.add(flow('192.0.2.2', 1, 22, 1_000));
  const t1 = one.build();
  const t2 = two.build();
  assert.equal(t1.rows[TOTALS.tuple], t2.rows[TOTALS.tuple], 'both start at the same number');
  const plain = metricsUnderTest(2000);
  plain.flows.record(flow('192.0.2.1', 1, 22, 100));
  plain.flows.record(flow('192.0.2.2', 1, 22, 1_000));
  const summed = metricsUnderTest(2000);
  summed.flows.addTable(t1);
  summed.flows.addTable(t2);
  assert.deepEqual(await summed.series(), await plain.series());
});

test('past the numbering bound rows carry their tuple in full and nothing is lost', async () => {
  const tuples = MAX_TUPLE_IDS + 50;
  const records: FlowRecord[] = [];
  for (let t = 0; t < tuples; t++) records.push(flow('192.0.2.9', t, 80, 10));
  // The last ones again, in a later batch: unnumbered tuples are found by value.
  for (let t = tuples - 100; t < tuples; t++) records.push(flow('192.0.2.9', t, 80, 1));
  const b = new FlowTotalsBuilder();
  const tables = viaTables(records, [b], tuples);
  let unnumbered = 0;
  for (const t of tables) {
    for (let at = 0; at < t.rows.length; at += TOTALS_COLUMNS) {
      if (t.rows[at + TOTALS.tuple] === NO_TUPLE) unnumbered++;
    }
  }
  assert.equal(unnumbered, 50 + 50, 'the 50 past the bound, in both batches that saw them');
  const limit = tuples + 10;
  const plain = metricsUnderTest(limit);
  for (const r of records) plain.flows.record(r);
  const summed = metricsUnderTest(limit);
  for (const t of tables) summed.flows.addTable(t);
  assert.deepEqual(await summed.series(), await plain.series());
});

test('the tuple map keeps every tuple apart, at the edges of the folded interface key too', () => {
  const interfaces = [
    -1,
    0,
    1,
    2,
    2 ** 14,
    2 ** 15 - 2,
    2 ** 15 - 1,
    2 ** 15,
    2 ** 20,
    2 ** 31,
    2 ** 32 - 1,
  ];
  const exporters = ['192.0.2.1', '192.0.2.2', '2001:db8::1'];
  const leaves = [0, 1, 2_000_000];
  const map = new FlowTupleMap<string>();
  const name = (e: string, i: number, o: number, l: number) => `${e}|${i}|${o}|${l}`;
  // Exporters interleaved, so the last-exporter shortcut is left and taken again.
  for (const i of interfaces) {
    for (const o of interfaces) {
      for (const l of leaves) {
        for (const e of exporters) map.set(e, i, o, l, name(e, i, o, l));
      }
    }
  }
  for (const e of exporters) {
    for (const i of interfaces) {
      for (const o of interfaces) {
        for (const l of leaves) assert.equal(map.get(e, i, o, l), name(e, i, o, l));
      }
    }
  }
  assert.equal(map.get('192.0.2.9', 1, 2, 0), undefined, 'unknown exporter');
  assert.equal(map.get('192.0.2.1', 3, 2, 0), undefined, 'unknown input interface');
  assert.equal(map.get('192.0.2.1', 2 ** 31, 5, 0), undefined, 'unknown wide pair');
  assert.equal(map.get('192.0.2.1', 1, 2, 7), undefined, 'unknown leaf');
});

test('TupleIndex numbers tuples as a map by their full value would, through growth and collisions', () => {
  // Tuples drawn from small ranges so that they repeat and share parts (one exporter's
  // pair and leaf with another exporter's, and so on); interfaces now and then past the
  // fold (2^15 - 1 and up, or not integers) and -1 (none sent); many exporters.
  const ifArb = fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: -1, max: 6 }) },
    { weight: 1, arbitrary: fc.constantFrom(32766, 32767, 2 ** 20, 1.5, -2) },
  );
  const tupleArb = fc.tuple(
    fc.integer({ min: 0, max: 30 }).map((n) => `192.0.2.${n}`),
    ifArb,
    ifArb,
    fc.oneof(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 3_000_000 })),
  );
  fc.assert(
    fc.property(fc.array(tupleArb, { minLength: 1, maxLength: 3000, size: 'max' }), (tuples) => {
      const index = new TupleIndex(4);
      const want = new Map<string, number>();
      for (const [e, a, b, leaf] of tuples) {
        const key = JSON.stringify([e, a, b, leaf]);
        const got = index.get(e, a, b, leaf);
        assert.equal(got, want.get(key), key);
        if (got === undefined) {
          index.set(e, a, b, leaf, want.size);
          want.set(key, want.size);
        }
      }
      for (const [key, id] of want) {
        const [e, a, b, leaf] = JSON.parse(key) as [string, number, number, number];
        assert.equal(index.get(e, a, b, leaf), id, key);
      }
    }),
    { numRuns: 60 },
  );
});

test('TupleIndex tells apart tuples that differ only in their exporter, even in one probe chain', () => {
  // A small table, so that the second exporter's lookups walk through the first's slots.
  for (let leaf = 0; leaf < 200; leaf++) {
    const index = new TupleIndex(4);
    index.set('192.0.2.2', 3, 4, 999, 0);
    index.set('192.0.2.1', 1, 2, leaf, 1);
    assert.equal(index.get('192.0.2.2', 1, 2, leaf), undefined, `leaf ${leaf}`);
    assert.equal(index.get('192.0.2.1', 1, 2, leaf), 1);
    assert.equal(index.get('192.0.2.1', 2, 1, leaf), undefined, `swapped interfaces, leaf ${leaf}`);
  }
});
