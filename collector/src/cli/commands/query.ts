import { Command } from 'commander';
import { formatDuration } from '../../query/es/time.js';
import type { Frame, Metric, QueryRequest } from '../../query/es/types.js';
import { compileFilter, formatFilterError } from '../../query/filter/index.js';
import { withoutCursors } from '../query/client.js';
import {
  formatCount,
  formatTime,
  frameCsv,
  framesJson,
  frameTable,
  OUTPUT_FORMATS,
  type OutputFormat,
  topnTable,
} from '../query/format.js';
import {
  addSourceOptions,
  openBackend,
  parseFields,
  parseMetric,
  parsePositive,
  reportError,
  type SourceFlags,
} from '../query/options.js';
import { type CliRange, parseDuration, parseRange, UsageError } from '../query/time.js';

interface QueryFlags extends SourceFlags {
  explain?: boolean;
  from: string;
  to: string;
  top?: string;
  by: string;
  limit: string;
  records?: string;
  fields?: string;
  interval?: string;
  rate?: boolean;
  raw?: boolean;
  format: string;
}

export const DEFAULT_RECORDS = 20;

/** The columns of `--records` unless --fields says otherwise (scaled or raw counts). */
export function recordFields(raw: boolean): string[] {
  const counts = raw
    ? ['network.bytes', 'network.packets']
    : ['sluice.scaled.bytes', 'sluice.scaled.packets'];
  return [
    '@timestamp',
    'observer.ip',
    'source.ip',
    'source.port',
    'destination.ip',
    'destination.port',
    'network.transport',
    ...counts,
  ];
}

/** What the flags ask for, as one query API request. */
export function queryRequest(filter: string, flags: QueryFlags, range: CliRange): QueryRequest {
  const metric: Metric = parseMetric(flags.by);
  const common = { from: range.fromMs, to: range.toMs, ...(filter.trim() ? { filter } : {}) };
  const raw = flags.raw === true ? { raw: true } : {};
  const top = flags.top !== undefined ? parseFields(flags.top, '--top') : undefined;
  const limit = parsePositive(flags.limit, '--limit');
  if (flags.records !== undefined && (top !== undefined || flags.interval !== undefined)) {
    throw new UsageError('--records lists records: it does not go with --top or --interval');
  }
  if (flags.interval !== undefined) {
    return {
      kind: 'timeseries',
      metric,
      ...common,
      ...raw,
      interval: parseDuration(flags.interval, '--interval'),
      ...(flags.rate === true ? { rate: true } : {}),
      ...(top !== undefined ? { groupBy: top, top: limit } : {}),
    };
  }
  if (top !== undefined) {
    return { kind: 'topn', metric, fields: top, top: limit, ...common, ...raw };
  }
  const size =
    flags.records !== undefined ? parsePositive(flags.records, '--records') : DEFAULT_RECORDS;
  return {
    kind: 'records',
    ...common,
    fields:
      flags.fields !== undefined
        ? parseFields(flags.fields, '--fields')
        : recordFields(flags.raw === true),
    sort: [{ field: '@timestamp', order: 'desc' }],
    size,
  };
}

function parseFormat(text: string): OutputFormat {
  const f = OUTPUT_FORMATS.find((x) => x === text);
  if (f === undefined) {
    throw new UsageError(`--format: expected one of ${OUTPUT_FORMATS.join(', ')} (got "${text}")`);
  }
  return f;
}

function summary(q: QueryRequest, range: CliRange, source: string): string {
  const span = `${formatTime(range.fromMs)} to ${formatTime(range.toMs)} UTC`;
  const filter = 'filter' in q && q.filter !== undefined ? `, filter: ${q.filter}` : '';
  switch (q.kind) {
    case 'topn':
      return `top ${q.top} ${q.fields.join(',')} by ${q.metric}${q.raw === true ? ' (raw)' : ''}, ${span}${filter} [${source}]`;
    case 'timeseries':
      return `${q.metric}${q.rate === true ? ' per second' : ''} per ${typeof q.interval === 'number' ? formatDuration(q.interval) : q.interval}${q.groupBy ? ` by ${q.groupBy.join(',')}` : ''}, ${span}${filter} [${source}]`;
    default:
      return `latest ${'size' in q ? q.size : ''} records, ${span}${filter} [${source}]`;
  }
}

/** Frames for the terminal, in the chosen format. */
export function render(
  q: QueryRequest,
  frames: readonly Frame[],
  format: OutputFormat,
  range: CliRange,
): string {
  if (format === 'json') return framesJson(frames);
  if (format === 'csv') return frames.map(frameCsv).join('\n');
  const rangeMs = range.toMs - range.fromMs;
  return frames
    .map((f) => (q.kind === 'topn' ? topnTable(f, q.metric, rangeMs) : frameTable(f)))
    .join('\n');
}

async function run(filter: string, flags: QueryFlags): Promise<void> {
  const format = parseFormat(flags.format);
  const range = parseRange(flags.from, flags.to);
  const q = queryRequest(filter, flags, range);
  const backend = openBackend(flags);
  try {
    const frames = withoutCursors(await backend.run(q));
    const out = render(q, frames, format, range);
    if (format === 'table') process.stdout.write(`${summary(q, range, backend.description)}\n`);
    process.stdout.write(out);
    if (format === 'table' && q.kind === 'records') {
      const total = frames[0]?.meta?.total;
      const shown = frames[0]?.fields[0]?.values.length ?? 0;
      if (total !== undefined)
        process.stdout.write(`${shown} of ${formatCount(total)} matching documents\n`);
    }
  } finally {
    await backend.close();
  }
}

/**
 * `sluice query FILTER`: flow questions from a terminal, against a running collector's
 * query API or Elasticsearch directly. `--explain` prints the Elasticsearch query a
 * filter compiles to, without any server.
 */
export function queryCommand(): Command {
  const cmd = new Command('query')
    .description(
      'Query stored flow records with an nfdump-style filter: the latest records, a top-N ranking\n' +
        '(--top) or a time series (--interval), from a running collector (--api) or Elasticsearch.',
    )
    .argument(
      '[filter]',
      "nfdump filter, e.g. 'src net 10.0.0.0/8 and dst port 443' (default: everything)",
      '',
    )
    .option('--explain', 'print the compiled Elasticsearch query and exit (no server needed)')
    .option(
      '--from <time>',
      'start: a duration ago (1h, 30m, 7d), now-2h, ISO 8601 or epoch ms',
      '1h',
    )
    .option('--to <time>', 'end (exclusive): now, a duration ago, ISO 8601 or epoch ms', 'now')
    .option('--top <fields>', 'rank values of FIELD (or FIELD,FIELD tuples), e.g. source.ip')
    .option('--by <metric>', 'metric of --top and --interval: bytes, packets or flows', 'bytes')
    .option('--limit <n>', 'rows of a --top ranking, series of a grouped --interval', '10')
    .option('--records <n>', `latest N records (the default action, N=${DEFAULT_RECORDS})`)
    .option('--fields <fields>', 'record fields to show, comma-separated')
    .option(
      '--interval <duration>',
      'a time series with buckets this wide (e.g. 5m); --top groups it',
    )
    .option('--rate', 'with --interval: per second (bits/s for bytes) instead of per bucket')
    .option('--raw', 'counts as the exporters sent them, not scaled by the sampling rate')
    .option('--format <format>', 'output format: table, json or csv', 'table');
  return addSourceOptions(cmd)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        "  sluice query 'dst port 443' --from 30m                # latest 20 records\n" +
        '  sluice query --top source.ip --by bytes --from 1h     # top talkers\n' +
        "  sluice query 'proto udp' --top source.ip,destination.port --format csv\n" +
        '  sluice query --interval 5m --rate --top observer.ip   # bits/s per exporter\n' +
        '  sluice query --elasticsearch http://localhost:9200 --top destination.port\n' +
        '\nFilter syntax (nfdump): ip/src ip/dst ip ADDR, net CIDR, port N, src port > N,\n' +
        'port in [80 443], proto tcp|udp|icmp|47, as N, in if N, out if N, vlan N, flags SA,\n' +
        'bytes > 1M, packets < 10, duration > 1000, inet, inet6, exporter ADDR,\n' +
        'and/or/not and parentheses; any indexed field as field:value.\n' +
        '\nTables show human units (KB/MB/GB, bits/s, thousands separators); csv and json the\n' +
        'raw numbers. Byte and packet counts are scaled by the sampling rate unless --raw.\n' +
        '\nExit code 2 on a usage or filter error (with a caret under the column), 1 when the\n' +
        'query fails (API or Elasticsearch unreachable, token refused).',
    )
    .action(async (filter: string, flags: QueryFlags) => {
      const compiled = compileFilter(filter);
      if (!compiled.ok) {
        process.stderr.write(`${formatFilterError(filter, compiled.error)}\n`);
        process.exitCode = 2;
        return;
      }
      if (flags.explain) {
        process.stdout.write(`${JSON.stringify({ query: compiled.query }, null, 2)}\n`);
        return;
      }
      try {
        await run(filter, flags);
      } catch (err) {
        reportError('query', err);
      }
    });
}
