// Running a query request against Elasticsearch: the steps the query API and `sluice query
// --elasticsearch` share, with the pure builders (build.ts) and frames (frames.ts).
import type { Client, estypes } from '@elastic/elasticsearch';
import {
  checkTop,
  DEFAULT_RECORD_FIELDS,
  DEFAULT_TOP,
  decodeCursor,
  encodeCursor,
  prefixInElasticsearch,
  recordsSearch,
  recordsSize,
  type SearchBody,
  timeseriesSearch,
  topnSearch,
  tupleSearch,
  valuesSearch,
} from './build.js';
import {
  type GroupTotal,
  metricTotal,
  rankGroups,
  recordsFrames,
  termsGroups,
  timeseriesFrames,
  topnFrames,
  tuplePage,
  valuesFrames,
} from './frames.js';
import { type TimeRange, timeRange } from './time.js';
import {
  type FieldValue,
  type Frame,
  type Metric,
  type MetricsQuery,
  QueryError,
  type QueryLimits,
  type QueryRequest,
} from './types.js';

/** Why the filter compiler (nfdump syntax, query/filter/) refused a filter. */
export interface FilterCompileError {
  message: string;
  column: number;
  expected?: readonly string[] | string | undefined;
  found?: string | null | undefined;
}

/** What the filter compiler answers. */
export type FilterCompileResult =
  | { ok: true; query: object }
  | { ok: false; error: FilterCompileError };

export type FilterCompiler = (text: string) => FilterCompileResult | Promise<FilterCompileResult>;

/** A queryable field of the data stream, as GET /api/v1/fields lists it. */
export interface FieldInfo {
  name: string;
  type: string;
  searchable: boolean;
  aggregatable: boolean;
}

export interface QueryRunnerOptions {
  client: Client;
  /** Data stream (or index pattern) the records are in. */
  dataStream: string;
  compileFilter: FilterCompiler;
  /** Limits, already merged with the defaults. */
  limits: QueryLimits;
  /** Answers the `metrics` kind (after the time range is checked). */
  metrics: (q: MetricsQuery, range: TimeRange) => Promise<Frame[]>;
  /** The error for a refused filter; by default its message, with column, expected, found. */
  filterError?: ((e: FilterCompileError) => QueryError) | undefined;
  /**
   * `pages` (the API): a records query continues from its cursor and answers the next one,
   * keeping its point in time open; `one-page` (the CLI): one page, cursor ignored, the
   * point in time closed after.
   */
  records?: 'pages' | 'one-page' | undefined;
}

export interface QueryRunner {
  run(q: QueryRequest): Promise<Frame[]>;
  /** Queryable fields of the data stream with their types, sorted by name. */
  fields(): Promise<FieldInfo[]>;
}

function defaultFilterError(e: FilterCompileError): QueryError {
  const { message, column, expected, found } = e;
  return new QueryError(400, `filter: ${message}`, { column, expected, found });
}

export function createQueryRunner(opts: QueryRunnerOptions): QueryRunner {
  const { client, dataStream, limits } = opts;
  const transport = { requestTimeout: limits.timeoutMs, maxRetries: 0 };
  const filterError = opts.filterError ?? defaultFilterError;
  const paged = (opts.records ?? 'pages') === 'pages';

  async function compile(
    text: string | undefined,
  ): Promise<estypes.QueryDslQueryContainer | undefined> {
    if (text === undefined || text.trim() === '') return undefined;
    const r = await opts.compileFilter(text);
    if (r.ok) return r.query as estypes.QueryDslQueryContainer;
    throw filterError(r.error);
  }

  async function search(body: SearchBody, withIndex = true): Promise<estypes.SearchResponse> {
    // A data stream with no documents yet (a fresh collector) answers empty, not 404.
    const target = { index: dataStream, ignore_unavailable: true, allow_no_indices: true };
    const res = await client.search(withIndex ? { ...target, ...body } : body, transport);
    if (res.timed_out) {
      throw new QueryError(504, `query timed out after ${limits.timeoutMs} ms`, {
        limit: 'timeoutMs',
        max: limits.timeoutMs,
      });
    }
    return res;
  }

  async function fieldType(field: string): Promise<string | undefined> {
    const caps = await client.fieldCaps(
      { index: dataStream, fields: [field], ignore_unavailable: true, allow_no_indices: true },
      transport,
    );
    const types = Object.keys(caps.fields[field] ?? {});
    return types.length === 1 ? types[0] : undefined;
  }

  /** Every tuple of the fields with its metric (composite pages), ranked: the top N. */
  async function rankedTuples(
    fields: readonly string[],
    metric: Metric,
    raw: boolean | undefined,
    range: TimeRange,
    filter: estypes.QueryDslQueryContainer | undefined,
    top: number,
  ): Promise<{ groups: GroupTotal[]; total: number }> {
    const all: GroupTotal[] = [];
    let total = 0;
    let after: Record<string, FieldValue> | undefined;
    let first = true;
    do {
      const res = await search(tupleSearch(fields, metric, raw, range, filter, limits, after));
      if (first) total = metricTotal(res, metric);
      first = false;
      const page = tuplePage(res, fields, metric);
      all.push(...page.groups);
      if (all.length > limits.maxTuples) {
        throw new QueryError(
          422,
          `more than ${limits.maxTuples} distinct tuples of ${fields.join(', ')}: narrow the filter or the range`,
          { limit: 'maxTuples', max: limits.maxTuples },
        );
      }
      after = page.after;
    } while (after !== undefined);
    return { groups: rankGroups(all, top), total };
  }

  async function run(q: QueryRequest): Promise<Frame[]> {
    const range: TimeRange = timeRange(q, limits);
    if (q.kind === 'metrics') return opts.metrics(q, range);
    // Limits that need no filter come first: a refused request costs nothing.
    if (q.kind === 'records') recordsSize(q, limits);
    const filter = await compile(q.filter);
    switch (q.kind) {
      case 'timeseries': {
        const groupBy = q.groupBy ?? [];
        if (groupBy.length <= 1) {
          const plan = timeseriesSearch(q, range, filter, limits);
          return timeseriesFrames(q, await search(plan.body), plan.intervalMs);
        }
        timeseriesSearch(q, range, filter, limits, []); // the limits, before any search
        const ranked = await rankedTuples(
          groupBy,
          q.metric,
          q.raw,
          range,
          filter,
          q.top ?? DEFAULT_TOP,
        );
        const tuples = ranked.groups.map((g) => g.key);
        const plan = timeseriesSearch(q, range, filter, limits, tuples);
        return timeseriesFrames(q, await search(plan.body), plan.intervalMs, tuples);
      }
      case 'topn': {
        const top = q.top ?? DEFAULT_TOP;
        if (q.fields.length > 1) {
          checkTop(top, limits);
          const ranked = await rankedTuples(q.fields, q.metric, q.raw, range, filter, top);
          return topnFrames(q, ranked.groups, ranked.total, range);
        }
        const res = await search(topnSearch(q, range, filter, limits));
        return topnFrames(q, termsGroups(res, q.metric), metricTotal(res, q.metric), range);
      }
      case 'values': {
        const type =
          q.prefix !== undefined && q.prefix !== '' ? await fieldType(q.field) : undefined;
        const res = await search(valuesSearch(q, range, filter, limits, type));
        return valuesFrames(q, res, !prefixInElasticsearch(type));
      }
      case 'records': {
        if (!paged) {
          // One page: a point in time as the API opens one, closed after.
          const { id: pit } = await client.openPointInTime(
            { index: dataStream, keep_alive: '1m', ignore_unavailable: true },
            transport,
          );
          try {
            const res = await search(
              recordsSearch(q, range, filter, limits, pit, undefined),
              false,
            );
            return recordsFrames(q.fields ?? DEFAULT_RECORD_FIELDS, res, undefined);
          } finally {
            await client.closePointInTime({ id: pit }).catch(() => undefined);
          }
        }
        const cursor = q.cursor !== undefined ? decodeCursor(q.cursor) : undefined;
        const pit =
          cursor?.pit ??
          (
            await client.openPointInTime(
              { index: dataStream, keep_alive: '2m', ignore_unavailable: true },
              transport,
            )
          ).id;
        const body = recordsSearch(q, range, filter, limits, pit, cursor?.after);
        const res = await search(body, false);
        const hits = res.hits.hits;
        const last = hits.at(-1)?.sort;
        const pitId = res.pit_id ?? pit;
        let next: string | undefined;
        if (hits.length === body.size && last !== undefined) {
          next = encodeCursor({ pit: pitId, after: last });
        } else {
          await client.closePointInTime({ id: pitId }).catch(() => undefined);
        }
        return recordsFrames(q.fields ?? DEFAULT_RECORD_FIELDS, res, next);
      }
    }
  }

  async function fields(): Promise<FieldInfo[]> {
    const caps = await client.fieldCaps(
      { index: dataStream, fields: ['*'], ignore_unavailable: true, allow_no_indices: true },
      transport,
    );
    return Object.entries(caps.fields)
      .filter(([name, types]) => {
        const kinds = Object.keys(types);
        return !name.startsWith('_') && !kinds.includes('object') && !kinds.includes('nested');
      })
      .map(([name, types]) => {
        const caps = Object.values(types);
        return {
          name,
          type: caps.length === 1 ? (caps[0]?.type ?? 'unknown') : 'conflict',
          searchable: caps.every((c) => c.searchable),
          aggregatable: caps.every((c) => c.aggregatable),
        };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  return { run, fields };
}
