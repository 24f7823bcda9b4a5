// The CLI's units, times and output formats, without any server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { queryRequest, recordFields } from '../src/cli/commands/query.js';
import {
  formatBits,
  formatBytes,
  formatCount,
  formatPercent,
  frameCsv,
  framesJson,
  topnTable,
} from '../src/cli/query/format.js';
import { parseRange, parseWhen, UsageError } from '../src/cli/query/time.js';
import type { Frame } from '../src/query/es/types.js';

test('human units: bytes (decimal prefixes), bits/s, thousands separators, percent', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(999), '999 B');
  assert.equal(formatBytes(1500), '1.50 KB');
  assert.equal(formatBytes(12_345_678), '12.3 MB');
  assert.equal(formatBytes(987_654_321_000), '988 GB');
  assert.equal(formatBytes(1_850_000_000_000), '1.85 TB');
  assert.equal(formatBits(800), '800 bit/s');
  assert.equal(formatBits(1_200), '1.20 Kbit/s');
  assert.equal(formatBits(4_480_000), '4.48 Mbit/s');
  assert.equal(formatBits(3_400_000_000), '3.40 Gbit/s');
  assert.equal(formatCount(0), '0');
  assert.equal(formatCount(999), '999');
  assert.equal(formatCount(1000), '1,000');
  assert.equal(formatCount(1_234_567), '1,234,567');
  assert.equal(formatCount(-12_345.67), '-12,345.7');
  assert.equal(formatPercent(0.1234), '12.3%');
});

test('times: now, durations ago, now-N, ISO 8601, epoch ms; errors name the option', () => {
  const now = Date.UTC(2024, 4, 1, 12, 0, 0);
  assert.equal(parseWhen('now', now, '--to'), now);
  assert.equal(parseWhen('1h', now, '--from'), now - 3_600_000);
  assert.equal(parseWhen('30m', now, '--from'), now - 1_800_000);
  assert.equal(parseWhen('7d', now, '--from'), now - 7 * 86_400_000);
  assert.equal(parseWhen('now-90s', now, '--from'), now - 90_000);
  assert.equal(parseWhen('2024-05-01T10:00:00Z', now, '--from'), Date.UTC(2024, 4, 1, 10));
  assert.equal(parseWhen('2024-05-01', now, '--from'), Date.UTC(2024, 4, 1));
  assert.equal(parseWhen('1714557600000', now, '--from'), 1714557600000);
  assert.throws(() => parseWhen('yesterday', now, '--from'), UsageError);
  assert.throws(() => parseWhen('1x', now, '--from'), /--from: expected now/);
  assert.deepEqual(parseRange('1h', 'now', now), { fromMs: now - 3_600_000, toMs: now });
  assert.throws(() => parseRange('now', '1h', now), /--to .* must be after --from/);
});

test('flags to requests: records by default, topn with --top, timeseries with --interval', () => {
  const range = { fromMs: 1000, toMs: 2000 };
  const base = { from: '1h', to: 'now', by: 'bytes', limit: '10', format: 'table' };
  assert.deepEqual(queryRequest('', base, range), {
    kind: 'records',
    from: 1000,
    to: 2000,
    fields: recordFields(false),
    sort: [{ field: '@timestamp', order: 'desc' }],
    size: 20,
  });
  assert.deepEqual(
    queryRequest(
      'proto tcp',
      { ...base, top: 'source.ip, destination.port', by: 'packets', raw: true },
      range,
    ),
    {
      kind: 'topn',
      metric: 'packets',
      fields: ['source.ip', 'destination.port'],
      top: 10,
      from: 1000,
      to: 2000,
      filter: 'proto tcp',
      raw: true,
    },
  );
  assert.deepEqual(
    queryRequest(
      '',
      { ...base, interval: '5m', rate: true, top: 'observer.ip', limit: '3' },
      range,
    ),
    {
      kind: 'timeseries',
      metric: 'bytes',
      from: 1000,
      to: 2000,
      interval: 300_000,
      rate: true,
      groupBy: ['observer.ip'],
      top: 3,
    },
  );
  assert.throws(
    () => queryRequest('', { ...base, records: '5', top: 'source.ip' }, range),
    UsageError,
  );
  assert.throws(
    () => queryRequest('', { ...base, records: '0' }, range),
    /--records: expected a whole number/,
  );
  assert.throws(() => queryRequest('', { ...base, by: 'bits' }, range), /--by: expected one of/);
});

const TOPN: Frame = {
  name: 'topn',
  meta: { total: 4_000_000 },
  fields: [
    { name: 'source.ip', type: 'string', values: ['10.0.0.1', '10.0.0.2'] },
    { name: 'bytes', type: 'number', unit: 'decbytes', values: [3_000_000, 900_000] },
    { name: 'share', type: 'number', unit: 'percentunit', values: [0.75, 0.225] },
  ],
};

test('topn table: rank, key, human bytes, bits/s over the range, share, total', () => {
  const text = topnTable(TOPN, 'bytes', 60_000);
  assert.equal(
    text,
    [
      '#  source.ip    bytes        rate  share',
      '1  10.0.0.1   3.00 MB  400 Kbit/s  75.0%',
      '2  10.0.0.2    900 KB  120 Kbit/s  22.5%',
      'total 4.00 MB (533 Kbit/s)',
      '',
    ].join('\n'),
  );
});

test('csv: a header, raw numbers, times in ISO 8601, quoting; json: the frames', () => {
  assert.equal(
    frameCsv(TOPN),
    'source.ip,bytes,share\n10.0.0.1,3000000,0.75\n10.0.0.2,900000,0.225\n',
  );
  const records: Frame = {
    fields: [
      { name: '@timestamp', type: 'time', values: [Date.UTC(2024, 4, 1, 10)] },
      { name: 'note', type: 'string', values: ['a, "b"'] },
      { name: 'source.port', type: 'number', values: [null] },
    ],
  };
  assert.equal(
    frameCsv(records),
    '@timestamp,note,source.port\n2024-05-01T10:00:00.000Z,"a, ""b""",\n',
  );
  assert.deepEqual(JSON.parse(framesJson([TOPN])), { frames: [TOPN] });
});
