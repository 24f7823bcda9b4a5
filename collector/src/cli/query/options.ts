// Options shared by `sluice query` and `sluice top`: where the frames come from, the
// metric, and how errors end the command (exit 2 for usage and filter errors, 1 otherwise).
import { type Command, Option } from 'commander';
import type { Metric } from '../../query/es/types.js';
import { compileFilter, formatFilterError } from '../../query/filter/index.js';
import { createElasticsearchClient } from '../../sink/elasticsearch/client.js';
import { DEFAULT_DATA_STREAM } from '../../sink/elasticsearch/template.js';
import {
  apiBackend,
  DEFAULT_API_URL,
  elasticsearchBackend,
  type QueryBackend,
  QueryFailed,
  TOKEN_ENV,
} from './client.js';
import { UsageError } from './time.js';

export const METRICS: readonly Metric[] = ['bytes', 'packets', 'flows'];

export interface SourceFlags {
  api?: string;
  token?: string;
  elasticsearch?: string;
  dataStream?: string;
}

/** --api/--token or --elasticsearch/--data-stream. */
export function addSourceOptions(cmd: Command): Command {
  return cmd
    .option('--api <url>', `a running collector's query API (default: ${DEFAULT_API_URL})`)
    .option('--token <token>', `bearer token of the query API (default: $${TOKEN_ENV})`)
    .addOption(
      new Option(
        '--elasticsearch <url>',
        'query Elasticsearch directly instead of the API (credentials in the URL: https://user:pass@host:9200)',
      ).conflicts('api'),
    )
    .option(
      '--data-stream <name>',
      `data stream of the records, with --elasticsearch (default: ${DEFAULT_DATA_STREAM})`,
    );
}

/** The URL without its user info (which may carry a password), for messages. */
function safeUrl(raw: string): string {
  try {
    const u = new URL(raw);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    throw new UsageError(`--elasticsearch: not a URL: ${raw}`);
  }
}

export function openBackend(
  flags: SourceFlags,
  env: NodeJS.ProcessEnv = process.env,
): QueryBackend {
  if (flags.elasticsearch !== undefined) {
    const description = safeUrl(flags.elasticsearch);
    return elasticsearchBackend({
      client: createElasticsearchClient({ url: flags.elasticsearch }),
      dataStream: flags.dataStream ?? DEFAULT_DATA_STREAM,
      ownsClient: true,
      description,
    });
  }
  if (flags.dataStream !== undefined) {
    throw new UsageError('--data-stream goes with --elasticsearch (the API knows its data stream)');
  }
  const url = flags.api ?? DEFAULT_API_URL;
  try {
    new URL(url);
  } catch {
    throw new UsageError(`--api: not a URL: ${url}`);
  }
  return apiBackend({ url, token: flags.token ?? env[TOKEN_ENV] });
}

export function parseMetric(text: string): Metric {
  const m = METRICS.find((x) => x === text);
  if (m === undefined) {
    throw new UsageError(`--by: expected one of ${METRICS.join(', ')} (got "${text}")`);
  }
  return m;
}

export function parsePositive(text: string, option: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`${option}: expected a whole number of 1 or more (got "${text}")`);
  }
  return n;
}

/** Comma-separated field names, trimmed, none empty. */
export function parseFields(text: string, option: string): string[] {
  const fields = text.split(',').map((f) => f.trim());
  if (fields.length === 0 || fields.some((f) => f === '')) {
    throw new UsageError(`${option}: expected FIELD or FIELD,FIELD (got "${text}")`);
  }
  return fields;
}

/**
 * Checks the filter before anything is sent: a mistake exits 2 with the caret under its
 * column. Returns false (and sets the exit code) when the filter is wrong.
 */
export function checkFilter(filter: string): boolean {
  if (filter.trim() === '') return true;
  const compiled = compileFilter(filter);
  if (compiled.ok) return true;
  process.stderr.write(`${formatFilterError(filter, compiled.error)}\n`);
  process.exitCode = 2;
  return false;
}

/** Prints an error as one line and sets the exit code: 2 for usage, 1 for failures. */
export function reportError(command: string, err: unknown): void {
  if (err instanceof UsageError) {
    process.stderr.write(`sluice ${command}: ${err.message}\n`);
    process.exitCode = 2;
    return;
  }
  if (err instanceof QueryFailed) {
    process.stderr.write(`sluice ${command}: ${err.message}\n`);
    process.exitCode = err.exitCode;
    return;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`sluice ${command}: ${message}\n`);
  process.exitCode = 1;
}
