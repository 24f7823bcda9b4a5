import { Command } from 'commander';
import { formatDuration } from '../../query/es/time.js';
import type { Metric, TopnQuery } from '../../query/es/types.js';
import { type QueryBackend, QueryFailed } from '../query/client.js';
import { formatTime, topnTable } from '../query/format.js';
import {
  addSourceOptions,
  checkFilter,
  openBackend,
  parseFields,
  parseMetric,
  parsePositive,
  reportError,
  type SourceFlags,
} from '../query/options.js';
import { parseDuration } from '../query/time.js';

interface TopFlags extends SourceFlags {
  by: string;
  field: string;
  interval: string;
  window: string;
  limit: string;
  raw?: boolean;
  once?: boolean;
  count?: string;
}

/** Clear the screen and put the cursor home (ANSI), before each refresh on a terminal. */
const CLEAR = '\x1b[H\x1b[2J';

export interface TopView {
  metric: Metric;
  fields: string[];
  windowMs: number;
  limit: number;
  raw: boolean;
  filter: string;
}

/** One refresh: the top talkers of the window that ends now, as a table with a header. */
export async function topOnce(
  backend: QueryBackend,
  view: TopView,
  nowMs: number,
): Promise<string> {
  const q: TopnQuery = {
    kind: 'topn',
    metric: view.metric,
    fields: view.fields,
    top: view.limit,
    from: nowMs - view.windowMs,
    to: nowMs,
    ...(view.raw ? { raw: true } : {}),
    ...(view.filter.trim() !== '' ? { filter: view.filter } : {}),
  };
  const [frame] = await backend.run(q);
  const header =
    `sluice top: ${view.fields.join(',')} by ${view.metric}${view.raw ? ' (raw)' : ''}, ` +
    `last ${formatDuration(view.windowMs)} to ${formatTime(nowMs)} UTC` +
    `${view.filter.trim() !== '' ? `, filter: ${view.filter}` : ''} [${backend.description}]\n`;
  const table = frame !== undefined ? topnTable(frame, view.metric, view.windowMs) : '(no data)\n';
  return `${header}\n${table}`;
}

/** Resolves after `ms`, or at once when the signal fires. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

async function run(filter: string, flags: TopFlags): Promise<void> {
  const view: TopView = {
    metric: parseMetric(flags.by),
    fields: parseFields(flags.field, '--field'),
    windowMs: parseDuration(flags.window, '--window'),
    limit: parsePositive(flags.limit, '--limit'),
    raw: flags.raw === true,
    filter,
  };
  const intervalMs = parseDuration(flags.interval, '--interval');
  const refreshes =
    flags.once === true ? 1 : flags.count !== undefined ? parsePositive(flags.count, '--count') : 0;
  const tty = process.stdout.isTTY === true;
  const backend = openBackend(flags);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let succeeded = false;
  try {
    for (let n = 1; !stop.signal.aborted; n++) {
      const started = Date.now();
      try {
        const text = await topOnce(backend, view, started);
        process.stdout.write(tty ? `${CLEAR}${text}` : `${text}\n`);
        succeeded = true;
      } catch (err) {
        // A mistake (wrong token, wrong URL) shows on the first refresh: stop there.
        // Later, Elasticsearch or the collector may be restarting: say so and keep going.
        if (!succeeded || refreshes > 0 || !(err instanceof QueryFailed)) throw err;
        process.stdout.write(`${tty ? CLEAR : ''}sluice top: ${err.message} (retrying)\n\n`);
      }
      if (refreshes > 0 && n >= refreshes) break;
      await sleep(Math.max(0, intervalMs - (Date.now() - started)), stop.signal);
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await backend.close();
  }
}

/** `sluice top`: a live top-talkers view, refreshed every few seconds. */
export function topCommand(): Command {
  const cmd = new Command('top')
    .description(
      'Live top talkers: the values of a field ranked by bytes, packets or flows over the\n' +
        'last few minutes, refreshed every few seconds (Ctrl-C to stop).',
    )
    .argument(
      '[filter]',
      "nfdump filter, e.g. 'proto tcp and dst port 443' (default: everything)",
      '',
    )
    .option('--by <metric>', 'rank by bytes, packets or flows', 'bytes')
    .option('--field <fields>', 'field (or FIELD,FIELD tuple) to rank', 'source.ip')
    .option('--interval <duration>', 'time between refreshes', '5s')
    .option('--window <duration>', 'the ranking covers this much time up to now', '5m')
    .option('--limit <n>', 'rows shown', '10')
    .option('--raw', 'counts as the exporters sent them, not scaled by the sampling rate')
    .option('--once', 'print one table and exit (for scripts)')
    .option('--count <n>', 'stop after N refreshes');
  return addSourceOptions(cmd)
    .addHelpText(
      'after',
      '\nOn a terminal the screen is cleared before each table; otherwise one table is\n' +
        'printed per refresh. Rates are averages over the window (bits/s for bytes).\n' +
        '\nExamples:\n' +
        '  sluice top                                         # source.ip by bytes, last 5m\n' +
        "  sluice top --field destination.port --by flows 'proto tcp'\n" +
        '  sluice top --once --elasticsearch http://localhost:9200 --window 1h\n' +
        '\nExit code 2 on a usage or filter error, 1 when the first query fails.',
    )
    .action(async (filter: string, flags: TopFlags) => {
      if (!checkFilter(filter)) return;
      try {
        await run(filter, flags);
      } catch (err) {
        reportError('top', err);
      }
    });
}
