// Requests to Elasticsearch search bodies. Pure: the caller checks limits' inputs (range),
// compiles the filter and runs the search; these only shape the body.
import type { estypes } from '@elastic/elasticsearch';
import { autoInterval, bucketCount, parseInterval, type TimeRange } from './time.js';
import {
  type FieldValue,
  type Metric,
  QueryError,
  type QueryLimits,
  type RecordsQuery,
  type TimeseriesQuery,
  type TopnQuery,
  type ValuesQuery,
} from './types.js';

type Query = estypes.QueryDslQueryContainer;
type Aggs = Record<string, estypes.AggregationsAggregationContainer>;
export type SearchBody = Omit<estypes.SearchRequest, 'index'>;

/** Flow documents: what bytes, packets and flows are counted over (not options, counters). */
export const FLOW_TYPES = ['netflow_flow', 'sflow_flow'];

export const DEFAULT_TOP = 10;
export const DEFAULT_MAX_DATA_POINTS = 500;
export const DEFAULT_RECORDS_SIZE = 100;
export const DEFAULT_VALUES_SIZE = 100;
export const MAX_GROUP_FIELDS = 3;

export const DEFAULT_RECORD_FIELDS = [
  '@timestamp',
  'observer.ip',
  'source.ip',
  'source.port',
  'destination.ip',
  'destination.port',
  'network.transport',
  'network.bytes',
  'network.packets',
  'sluice.scaled.bytes',
  'sluice.scaled.packets',
  'sluice.sampling.rate',
  'netflow.type',
];

/** The summed field of a metric; flows are document counts. */
export function metricField(metric: Metric, raw = false): string | undefined {
  if (metric === 'flows') return undefined;
  return raw ? `network.${metric}` : `sluice.scaled.${metric}`;
}

/** The time range, the compiled filter and (for aggregates) flow documents only. */
export function baseQuery(range: TimeRange, filter: Query | undefined, flowsOnly: boolean): Query {
  const must: Query[] = [
    {
      range: {
        '@timestamp': { gte: range.fromMs, lt: range.toMs, format: 'epoch_millis' },
      },
    },
  ];
  if (flowsOnly) must.push({ terms: { 'netflow.type': FLOW_TYPES } });
  if (filter !== undefined) must.push(filter);
  return { bool: { filter: must } };
}

function timeoutOf(limits: QueryLimits): string {
  return `${limits.timeoutMs}ms`;
}

function checkFields(fields: readonly string[], what: string): void {
  if (fields.length < 1 || fields.length > MAX_GROUP_FIELDS) {
    throw new QueryError(400, `${what}: 1 to ${MAX_GROUP_FIELDS} fields`, { fields });
  }
}

/** A terms aggregation over one field, ordered by the metric (then the value). */
function groupAgg(fields: readonly string[], size: number, metric: Metric): Aggs[string] {
  const order: estypes.AggregationsAggregateOrder =
    metric === 'flows' ? [{ _count: 'desc' }, { _key: 'asc' }] : [{ m: 'desc' }, { _key: 'asc' }];
  const field = fields[0] ?? '';
  return { terms: { field, size, order, shard_size: Math.max(size * 2, size + 100) } };
}

/** Named filters `g0`, `g1`, ... matching each tuple: the series of a grouped timeseries. */
function tupleFilters(
  fields: readonly string[],
  tuples: readonly FieldValue[][],
): Record<string, Query> {
  return Object.fromEntries(
    tuples.map((t, i) => [
      `g${i}`,
      { bool: { filter: fields.map((f, j) => ({ term: { [f]: t[j] ?? null } })) } } as Query,
    ]),
  );
}

/** Tuples per composite page; pages continue until every tuple was seen (or the limit). */
export const COMPOSITE_PAGE = 2000;

/**
 * Tuples of fields with the metric, one composite page: Elasticsearch ranks single terms
 * by a metric, but tuples only through multi_terms (not in every distribution), so they
 * are summed page by page here and ranked by the caller (exact, unlike shard-local top N).
 */
export function tupleSearch(
  fields: readonly string[],
  metric: Metric,
  raw: boolean | undefined,
  range: TimeRange,
  filter: Query | undefined,
  limits: QueryLimits,
  after: Record<string, FieldValue> | undefined,
): SearchBody {
  checkFields(fields, 'fields');
  const field = metricField(metric, raw);
  const first = after === undefined;
  return {
    size: 0,
    track_total_hits: first && metric === 'flows',
    timeout: timeoutOf(limits),
    query: baseQuery(range, filter, true),
    aggs: {
      ...(first && field !== undefined ? { total: { sum: { field } } } : {}),
      tuples: {
        composite: {
          size: COMPOSITE_PAGE,
          sources: fields.map((f) => ({ [f]: { terms: { field: f } } })),
          ...(after !== undefined ? { after } : {}),
        },
        aggs: sumAgg(field),
      },
    },
  };
}

function sumAgg(field: string | undefined): Aggs {
  return field === undefined ? {} : { m: { sum: { field } } };
}

export interface TimeseriesPlan {
  body: SearchBody;
  intervalMs: number;
  points: number;
  series: number;
}

/**
 * A date_histogram of the metric; when grouped, also one per group under a terms of the
 * top values (one field) or under filters for the top tuples found beforehand (several).
 */
export function timeseriesSearch(
  q: TimeseriesQuery,
  range: TimeRange,
  filter: Query | undefined,
  limits: QueryLimits,
  tuples?: readonly FieldValue[][],
): TimeseriesPlan {
  const intervalMs =
    q.interval !== undefined
      ? parseInterval(q.interval)
      : autoInterval(range, q.maxDataPoints ?? DEFAULT_MAX_DATA_POINTS, q.minIntervalMs ?? 1);
  const points = bucketCount(range, intervalMs);
  const grouped = q.groupBy !== undefined && q.groupBy.length > 0;
  if (grouped && q.groupBy !== undefined) checkFields(q.groupBy, 'groupBy');
  const top = q.top ?? DEFAULT_TOP;
  const series = grouped ? top + 1 : 1;
  if (series * points > limits.maxBuckets) {
    throw new QueryError(
      422,
      `${series} series × ${points} points = ${series * points} buckets is more than the limit of ${limits.maxBuckets}: use a wider interval, fewer series or a shorter range`,
      { limit: 'maxBuckets', value: series * points, max: limits.maxBuckets },
    );
  }
  const field = metricField(q.metric, q.raw);
  const histogram: Aggs[string] = {
    date_histogram: {
      field: '@timestamp',
      fixed_interval: `${intervalMs}ms`,
      min_doc_count: 0,
      extended_bounds: { min: range.fromMs, max: range.toMs - 1 },
    },
    aggs: sumAgg(field),
  };
  const aggs: Aggs = { over_time: histogram };
  if (grouped && q.groupBy !== undefined && tuples?.length !== 0) {
    aggs.series =
      tuples === undefined
        ? groupAgg(q.groupBy, top, q.metric)
        : { filters: { filters: tupleFilters(q.groupBy, tuples) } };
    aggs.series.aggs = { ...sumAgg(field), over_time: histogram };
  }
  return {
    body: {
      size: 0,
      track_total_hits: false,
      timeout: timeoutOf(limits),
      query: baseQuery(range, filter, true),
      aggs,
    },
    intervalMs,
    points,
    series,
  };
}

/** The top values of one field by the metric, and the metric's total for shares. */
export function topnSearch(
  q: TopnQuery,
  range: TimeRange,
  filter: Query | undefined,
  limits: QueryLimits,
): SearchBody {
  checkFields(q.fields, 'fields');
  const top = q.top ?? DEFAULT_TOP;
  checkTop(top, limits);
  const field = metricField(q.metric, q.raw);
  return {
    size: 0,
    track_total_hits: q.metric === 'flows',
    timeout: timeoutOf(limits),
    query: baseQuery(range, filter, true),
    aggs: {
      ...(field !== undefined ? { total: { sum: { field } } } : {}),
      top: { ...groupAgg(q.fields, top, q.metric), aggs: sumAgg(field) },
    },
  };
}

export function checkTop(top: number, limits: QueryLimits): void {
  if (top > limits.maxBuckets) {
    throw new QueryError(422, `top ${top} is more than the limit of ${limits.maxBuckets}`, {
      limit: 'maxBuckets',
      value: top,
      max: limits.maxBuckets,
    });
  }
}

/** Where a records page continues: the point in time and the last hit's sort values. */
export interface RecordsCursor {
  pit: string;
  after: estypes.SortResults;
}

export function encodeCursor(c: RecordsCursor): string {
  return Buffer.from(JSON.stringify(c), 'utf8').toString('base64url');
}

export function decodeCursor(text: string): RecordsCursor {
  try {
    const c = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (
      typeof c === 'object' &&
      c !== null &&
      'pit' in c &&
      typeof c.pit === 'string' &&
      'after' in c &&
      Array.isArray(c.after)
    ) {
      return { pit: c.pit, after: c.after as estypes.SortResults };
    }
  } catch {
    // falls through to the error below
  }
  throw new QueryError(400, 'cursor: not a cursor returned by this API', { field: 'cursor' });
}

/** Page size checked against the limit. */
export function recordsSize(q: RecordsQuery, limits: QueryLimits): number {
  const size = q.size ?? DEFAULT_RECORDS_SIZE;
  if (size > limits.maxRecords) {
    throw new QueryError(
      422,
      `page size ${size} is more than the limit of ${limits.maxRecords} records: page with the cursor`,
      { limit: 'maxRecords', value: size, max: limits.maxRecords },
    );
  }
  return size;
}

/**
 * One page of documents in a point in time (so pages stay consistent while indexing goes
 * on); Elasticsearch adds the `_shard_doc` tiebreaker, so every document comes exactly once.
 */
export function recordsSearch(
  q: RecordsQuery,
  range: TimeRange,
  filter: Query | undefined,
  limits: QueryLimits,
  pit: string,
  after: estypes.SortResults | undefined,
): SearchBody {
  const sort: estypes.SortCombinations[] = (q.sort ?? [{ field: '@timestamp', order: 'desc' }]).map(
    (s) => ({ [s.field]: { order: s.order ?? 'asc', unmapped_type: 'keyword' } }),
  );
  return {
    size: recordsSize(q, limits),
    timeout: timeoutOf(limits),
    track_total_hits: after === undefined,
    query: baseQuery(range, filter, false),
    sort,
    _source: { includes: q.fields ?? DEFAULT_RECORD_FIELDS },
    pit: { id: pit, keep_alive: '2m' },
    ...(after !== undefined ? { search_after: after } : {}),
  };
}

/** Lucene regular expression matching text literally. */
function regexLiteral(text: string): string {
  return text.replace(/[^A-Za-z0-9]/g, (c) => `\\${c}`);
}

/** Whether the include regex can do the prefix (string-valued fields only). */
export function prefixInElasticsearch(fieldType: string | undefined): boolean {
  return fieldType === 'keyword' || fieldType === 'constant_keyword' || fieldType === 'wildcard';
}

/**
 * Distinct values by document count. A prefix is applied by Elasticsearch on keyword
 * fields; on others (ip, long) the caller filters a larger candidate set.
 */
export function valuesSearch(
  q: ValuesQuery,
  range: TimeRange,
  filter: Query | undefined,
  limits: QueryLimits,
  fieldType: string | undefined,
): SearchBody {
  const size = q.size ?? DEFAULT_VALUES_SIZE;
  if (size > limits.maxBuckets) {
    throw new QueryError(422, `size ${size} is more than the limit of ${limits.maxBuckets}`, {
      limit: 'maxBuckets',
      value: size,
      max: limits.maxBuckets,
    });
  }
  const prefix = q.prefix ?? '';
  const inEs = prefix === '' || prefixInElasticsearch(fieldType);
  const terms: estypes.AggregationsTermsAggregation = {
    field: q.field,
    size: inEs ? size : limits.maxBuckets,
    order: [{ _count: 'desc' }, { _key: 'asc' }],
  };
  if (prefix !== '' && inEs) terms.include = `${regexLiteral(prefix)}.*`;
  return {
    size: 0,
    track_total_hits: false,
    timeout: timeoutOf(limits),
    query: baseQuery(range, filter, false),
    aggs: { values: { terms } },
  };
}
