// `sluice query` and `sluice top` against the real Elasticsearch: records with known
// values indexed through Sluice's template, the CLI run as a child process (as `npx
// sluice` would), through a collector's query API (--api) and directly (--elasticsearch),
// and every printed number checked against values this test computes from its records.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@elastic/elasticsearch';
import { elasticsearchForTests, needServer } from '@sluice/testkit';
import { createLogger } from '../src/api/logging.js';
import { startApi } from '../src/api/server.js';
import { formatBits, formatBytes, formatCount } from '../src/cli/query/format.js';
import { toDocument } from '../src/flow/document.js';
import type { FlowRecord } from '../src/flow/record.js';
import {
  BASE_MS,
  HOUR_MS,
  type KnownRecord,
  knownRecords,
} from '../src/query/api/testing.test-helpers.js';
import type { Frame } from '../src/query/es/types.js';
import { compileFilter } from '../src/query/filter/index.js';
import { runSuffix } from '../src/sink/elasticsearch/fixtures.test-helpers.js';
import { installIndexTemplate } from '../src/sink/elasticsearch/template.js';

const RUN = runSuffix();
const TOKEN = 'cli-query-test-token-5f3a9';
const QUERY = fileURLToPath(new URL('../src/cli/commands/query.ts', import.meta.url));
const TOP = fileURLToPath(new URL('../src/cli/commands/top.ts', import.meta.url));

/** The known records moved so the hour ends 5 minutes ago (`sluice top` looks back from now). */
const START_MS = Math.floor((Date.now() - 65 * 60_000) / 60_000) * 60_000;
const SHIFT = START_MS - BASE_MS;
const FROM = new Date(START_MS).toISOString();
const TO = new Date(START_MS + HOUR_MS).toISOString();

function shifted(k: KnownRecord): KnownRecord {
  const r = k.record;
  const move = (ms: number | undefined) => (ms === undefined ? undefined : ms + SHIFT);
  const record: FlowRecord = {
    ...r,
    receivedMs: r.receivedMs + SHIFT,
    exporter: { ...r.exporter, exportTimeMs: move(r.exporter.exportTimeMs) },
    ...(r.startMs !== undefined ? { startMs: r.startMs + SHIFT } : {}),
    ...(r.endMs !== undefined ? { endMs: r.endMs + SHIFT } : {}),
  };
  return { ...k, record, timestampMs: k.timestampMs + SHIFT };
}

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/**
 * The CLI in a child process: a small commander program with the two commands (the lead
 * registers them in main.ts). Asynchronous, so the API served by this process can answer.
 */
function sluice(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const script = [
    "import { Command, CommanderError } from 'commander';",
    `import { queryCommand } from ${JSON.stringify(QUERY)};`,
    `import { topCommand } from ${JSON.stringify(TOP)};`,
    "const program = new Command('sluice').exitOverride();",
    'program.addCommand(queryCommand()).addCommand(topCommand());',
    'for (const c of program.commands) c.exitOverride();',
    'try { await program.parseAsync(process.argv.slice(1), { from: "user" }); }',
    'catch (e) { if (e instanceof CommanderError) process.exitCode = e.exitCode; else throw e; }',
  ].join('\n');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script, '--', ...args],
    { env: { ...process.env, SLUICE_API_TOKEN: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

async function ok(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const r = await sluice(args, env);
  assert.equal(r.code, 0, `sluice ${args.join(' ')}: ${r.err}`);
  return r.out;
}

/** Sums of `value` per key, largest first. */
function ranking(
  rows: readonly KnownRecord[],
  key: (r: KnownRecord) => string | undefined,
  value: (r: KnownRecord) => number,
): { key: string; value: number }[] {
  const sums = new Map<string, number>();
  for (const r of rows) {
    const k = key(r);
    if (k !== undefined) sums.set(k, (sums.get(k) ?? 0) + value(r));
  }
  return [...sums.entries()]
    .map(([k, v]) => ({ key: k, value: v }))
    .sort((a, b) => b.value - a.value || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** CSV without quoted cells (none here) as rows of cells, header first. */
function csv(text: string): string[][] {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => l.split(','));
}

/** Same values in order; keys equal as sets within runs of equal values. */
function assertRanking(
  got: { key: string; value: number }[],
  want: { key: string; value: number }[],
): void {
  assert.deepEqual(
    got.map((g) => g.value),
    want.map((w) => w.value),
  );
  const byValue = (rows: { key: string; value: number }[]) => {
    const m = new Map<number, string[]>();
    for (const r of rows) m.set(r.value, [...(m.get(r.value) ?? []), r.key].sort());
    return m;
  };
  const last = want.at(-1)?.value;
  // The cut may fall inside a tie: the last run's keys are any of the tied ones.
  const cut = (m: Map<number, string[]>) => {
    m.delete(last ?? Number.NaN);
    return m;
  };
  assert.deepEqual(cut(byValue(got)), cut(byValue(want)));
}

test('sluice query and top over real Elasticsearch, through the API and directly', async (t) => {
  const es = await needServer(t, elasticsearchForTests);
  if (!es) return;
  const client = new Client({ node: es.url });
  const dataStream = `logs-netflow.sluicecliq${RUN}-default`;
  t.after(async () => {
    await client.indices.deleteDataStream({ name: dataStream }).catch(() => {});
    await client.indices
      .deleteIndexTemplate({ name: `logs-netflow.sluicecliq${RUN}` })
      .catch(() => {});
    await client.close();
  });
  await installIndexTemplate(client, { dataStream });
  const known = knownRecords().map(shifted);
  const operations = known.flatMap((k) => [{ create: {} }, toDocument(k.record)]);
  const bulk = await client.bulk({ index: dataStream, operations, refresh: true });
  assert.equal(bulk.errors, false, JSON.stringify(bulk.items.find((i) => i.create?.error)));
  const flows = known.filter((k) => k.isFlow);

  const api = await startApi({
    logger: createLogger({ level: 'silent' }),
    host: '127.0.0.1',
    port: 0,
    query: { client, dataStream, compileFilter, tokens: [TOKEN] },
  });
  t.after(() => api.close());
  const viaApi = ['--api', api.url, '--token', TOKEN];
  const direct = ['--elasticsearch', es.url, '--data-stream', dataStream];
  const range = ['--from', FROM, '--to', TO];

  await t.test('--top by bytes: the ranking, totals and shares (csv), both paths', async () => {
    const want = ranking(
      flows,
      (f) => f.srcIp,
      (f) => f.scaledBytes,
    );
    const total = want.reduce((s, x) => s + x.value, 0);
    for (const source of [viaApi, direct]) {
      const rows = csv(
        await ok([
          'query',
          '--top',
          'source.ip',
          '--limit',
          '7',
          '--format',
          'csv',
          ...range,
          ...source,
        ]),
      );
      assert.deepEqual(rows[0], ['source.ip', 'bytes', 'share']);
      const body = rows.slice(1);
      assert.equal(body.length, 7);
      assertRanking(
        body.map((r) => ({ key: r[0] ?? '', value: Number(r[1]) })),
        want.slice(0, 7),
      );
      for (const r of body) {
        assert.ok(Math.abs(Number(r[2]) - Number(r[1]) / total) < 1e-12, `share of ${r[0]}`);
      }
    }
  });

  await t.test('a filter narrows the ranking: proto tcp, exporters by packets (raw)', async () => {
    const tcp = flows.filter((f) => f.transport === 'tcp');
    const want = ranking(
      tcp,
      (f) => f.exporter,
      (f) => f.packets,
    );
    const args = ['query', 'proto tcp', '--top', 'observer.ip', '--by', 'packets', '--raw'];
    const rows = csv(await ok([...args, '--format', 'csv', ...range, ...viaApi]));
    assert.deepEqual(
      rows.slice(1).map((r) => ({ key: r[0] ?? '', value: Number(r[1]) })),
      want,
    );
  });

  await t.test('the table: human units, rate over the range, thousands separators', async () => {
    const want = ranking(
      flows,
      (f) => f.exporter,
      (f) => f.scaledBytes,
    );
    const out = await ok(['query', '--top', 'observer.ip', ...range, ...viaApi]);
    const lines = out.split('\n');
    assert.match(
      lines[0] ?? '',
      /^top 10 observer\.ip by bytes, .* UTC \[http:\/\/127\.0\.0\.1:\d+\]$/,
    );
    assert.match(lines[1] ?? '', /^\s*#\s+observer\.ip\s+bytes\s+rate\s+share$/);
    const first = want[0];
    assert.ok(first);
    const row = lines[2] ?? '';
    assert.ok(row.includes(first.key), row);
    assert.ok(row.includes(formatBytes(first.value)), `${row} has ${formatBytes(first.value)}`);
    const bits = formatBits((first.value * 8) / 3600);
    assert.ok(row.includes(bits), `${row} has ${bits}`);
    const total = want.reduce((s, x) => s + x.value, 0);
    assert.match(out, new RegExp(`total ${formatBytes(total).replace('.', '\\.')} \\(`));

    const packets = ranking(
      flows,
      (f) => f.exporter,
      (f) => f.scaledPackets,
    );
    const p = await ok(['query', '--top', 'observer.ip', '--by', 'packets', ...range, ...direct]);
    const top = packets[0];
    assert.ok(top && top.value >= 1000, 'a count large enough for a separator');
    assert.ok(p.includes(formatCount(top.value)), `${p} has ${formatCount(top.value)}`);
    assert.match(formatCount(top.value), /^\d{1,3}(,\d{3})+$/);
  });

  await t.test('records: the latest N, newest first; a filter; relative --from', async () => {
    const latest = [...known].sort((a, b) => b.timestampMs - a.timestampMs).slice(0, 5);
    const rows = csv(await ok(['query', '--records', '5', '--format', 'csv', ...range, ...viaApi]));
    assert.deepEqual(rows[0]?.slice(0, 3), ['@timestamp', 'observer.ip', 'source.ip']);
    assert.deepEqual(
      rows.slice(1).map((r) => Date.parse(r[0] ?? '')),
      latest.map((k) => k.timestampMs),
    );
    assert.deepEqual(
      rows.slice(1).map((r) => r[1]),
      latest.map((k) => k.exporter),
    );

    const udp = flows.filter((f) => f.transport === 'udp');
    const table = await ok(['query', 'proto udp', ...range, ...direct]);
    const body = table.split('\n').filter((l) => /^\s*\d{4}-\d{2}-\d{2} /.test(l));
    assert.equal(body.length, 20, 'the default: 20 records');
    for (const l of body) assert.match(l, / udp /);
    assert.match(table, new RegExp(`^20 of ${formatCount(udp.length)} matching documents$`, 'm'));

    // Everything was indexed within the last 66 minutes.
    const recent = await ok(['query', '--from', '2h', ...viaApi]);
    assert.match(
      recent,
      new RegExp(`^20 of ${formatCount(known.length)} matching documents$`, 'm'),
    );
  });

  await t.test('json: both paths print the same frames for every kind', async () => {
    const kinds = [
      ['--top', 'destination.port', '--by', 'flows'],
      ['--top', 'source.ip,observer.ip', '--limit', '5'],
      ['--records', '7'],
      ['--interval', '5m', '--rate'],
      ['--interval', '10m', '--top', 'observer.ip', '--limit', '2', '--by', 'packets'],
    ];
    for (const kind of kinds) {
      const a = JSON.parse(await ok(['query', ...kind, '--format', 'json', ...range, ...viaApi]));
      const b = JSON.parse(await ok(['query', ...kind, '--format', 'json', ...range, ...direct]));
      assert.deepEqual(a, b, kind.join(' '));
      assert.ok((a as { frames: Frame[] }).frames.length > 0);
    }
    const flowsByPort = ranking(
      flows,
      (f) => (f.dstPort === undefined ? undefined : String(f.dstPort)),
      () => 1,
    );
    const { frames } = JSON.parse(
      await ok([
        'query',
        '--top',
        'destination.port',
        '--by',
        'flows',
        '--format',
        'json',
        ...range,
        ...direct,
      ]),
    ) as { frames: Frame[] };
    const f = frames[0];
    assert.deepEqual(
      f?.fields.find((x) => x.name === 'flows')?.values,
      flowsByPort.slice(0, 10).map((x) => x.value),
    );
  });

  await t.test('sluice top --once: the window up to now, and one table per refresh', async () => {
    const want = ranking(
      flows,
      (f) => f.srcIp,
      (f) => f.scaledBytes,
    );
    const once = await ok(['top', '--once', '--window', '2h', '--limit', '3', ...viaApi]);
    assert.match(once, /^sluice top: source\.ip by bytes, last 2h to .* UTC/);
    assert.ok(!once.includes('\x1b['), 'no escape codes when not a terminal');
    const rows = once.split('\n').filter((l) => /^\s*\d+\s+10\./.test(l));
    assert.equal(rows.length, 3);
    for (const [i, row] of rows.entries()) {
      const w = want[i];
      assert.ok(w);
      assert.ok(row.includes(formatBytes(w.value)), `${row} has ${formatBytes(w.value)}`);
      assert.ok(row.includes(formatBits((w.value * 8) / 7200)), row);
    }
    const twice = await ok([
      'top',
      '--count',
      '2',
      '--interval',
      '1s',
      '--window',
      '2h',
      '--field',
      'observer.ip',
      '--by',
      'flows',
      ...direct,
    ]);
    assert.equal(twice.match(/^sluice top: observer\.ip by flows/gm)?.length, 2);
    const byExporter = ranking(
      flows,
      (f) => f.exporter,
      () => 1,
    );
    const top = byExporter[0];
    assert.ok(top);
    assert.match(
      twice,
      new RegExp(`^\\s*1\\s+${top.key.replaceAll('.', '\\.')}\\s+${top.value}\\s`, 'm'),
    );
  });

  await t.test(
    'tokens: none or wrong → a clear error (exit 1); from the environment → ok',
    async () => {
      const none = await sluice(['query', '--top', 'source.ip', ...range, '--api', api.url]);
      assert.equal(none.code, 1);
      assert.match(
        none.err,
        /refused the request: bearer token required \(give the collector's token with --token or SLUICE_API_TOKEN\)/,
      );
      const wrong = await sluice(['top', '--once', '--api', api.url, '--token', `${TOKEN}x`]);
      assert.equal(wrong.code, 1);
      assert.match(
        wrong.err,
        /^sluice top: query API at http:\/\/127\.0\.0\.1:\d+ refused the request: invalid bearer token/,
      );
      assert.ok(!wrong.err.includes(TOKEN), 'the token is never printed');
      await ok(['query', '--records', '1', ...range, '--api', api.url], {
        SLUICE_API_TOKEN: TOKEN,
      });
    },
  );

  await t.test(
    'errors: a filter error exits 2 with a caret; bad options 2; no server 1',
    async () => {
      for (const cmd of [
        ['query', 'src port > abc', ...viaApi],
        ['top', '--once', 'src port > abc', ...direct],
      ]) {
        const bad = await sluice(cmd);
        assert.equal(bad.code, 2, bad.err);
        assert.match(bad.err, /column 12: expected number but found "abc"/);
        const lines = bad.err.split('\n');
        const echo = lines.findIndex((l) => l.includes('src port > abc'));
        assert.equal((lines[echo + 1] ?? '').indexOf('^') - (lines[echo] ?? '').indexOf('src'), 11);
        assert.equal(bad.out, '');
      }
      const by = await sluice(['query', '--top', 'source.ip', '--by', 'bits', ...viaApi]);
      assert.equal(by.code, 2);
      assert.match(by.err, /--by: expected one of bytes, packets, flows \(got "bits"\)/);
      const when = await sluice(['query', '--from', 'yesterday', ...viaApi]);
      assert.equal(when.code, 2);
      assert.match(when.err, /--from: expected now, a duration ago/);
      const down = await sluice(['query', '--api', 'http://127.0.0.1:1', '--token', TOKEN]);
      assert.equal(down.code, 1);
      assert.match(down.err, /cannot reach the query API at http:\/\/127\.0\.0\.1:1/);
    },
  );
});
