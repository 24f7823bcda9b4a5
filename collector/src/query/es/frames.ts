// Elasticsearch responses to columnar frames, shaped as Grafana data frames: a wide time
// series (one time column, one number column per series, labels naming the group) for
// timeseries; tables for topn, records and values.
import type { estypes } from '@elastic/elasticsearch';
import type { TimeRange } from './time.js';
import type {
  FieldType,
  FieldValue,
  Frame,
  FrameField,
  Metric,
  TimeseriesQuery,
  TopnQuery,
  ValuesQuery,
} from './types.js';

/** Grafana unit ids. */
export function metricUnit(metric: Metric, rate: boolean): string {
  if (metric === 'bytes') return rate ? 'Bps' : 'decbytes';
  if (metric === 'packets') return rate ? 'pps' : 'short';
  return rate ? 'cps' : 'short';
}

/** Label value of the series that sums every group beyond the top N. */
export const OTHER = '(other)';

interface HistogramBucket {
  key: number;
  doc_count: number;
  m?: { value: number | null };
}

interface GroupBucket {
  key: FieldValue | FieldValue[];
  key_as_string?: string;
  doc_count: number;
  m?: { value: number | null };
  over_time?: { buckets: HistogramBucket[] };
}

type Aggregations = Record<string, estypes.AggregationsAggregate> | undefined;

function bucketsOf<T>(aggs: Aggregations, name: string): T[] {
  const agg = aggs?.[name] as { buckets?: unknown } | undefined;
  return Array.isArray(agg?.buckets) ? (agg.buckets as T[]) : [];
}

function metricOf(b: { doc_count: number; m?: { value: number | null } }, metric: Metric): number {
  return metric === 'flows' ? b.doc_count : (b.m?.value ?? 0);
}

/** The key of a group as one text per field. */
function keyParts(b: GroupBucket, fields: number): string[] {
  if (Array.isArray(b.key)) return b.key.map((k) => String(k));
  if (fields === 1) return [b.key_as_string ?? String(b.key)];
  return [String(b.key)];
}

/** Typed keys per field, for table columns (numbers stay numbers). */
function keyValues(b: GroupBucket): FieldValue[] {
  if (Array.isArray(b.key)) return b.key;
  // A terms bucket on an ip or date field carries the text form beside the number.
  if (
    typeof b.key === 'number' &&
    b.key_as_string !== undefined &&
    !/^-?\d/.test(b.key_as_string)
  ) {
    return [b.key_as_string];
  }
  return [b.key];
}

/** The series buckets: a terms list, or the named filters of tuples in their rank order. */
function seriesBuckets(
  aggs: Aggregations,
  tuples: readonly FieldValue[][] | undefined,
): GroupBucket[] {
  if (tuples === undefined) return bucketsOf<GroupBucket>(aggs, 'series');
  const named = (aggs?.series as { buckets?: Record<string, Omit<GroupBucket, 'key'>> } | undefined)
    ?.buckets;
  return tuples.map((key, i) => ({ doc_count: 0, ...named?.[`g${i}`], key }));
}

export function timeseriesFrames(
  q: TimeseriesQuery,
  res: estypes.SearchResponse,
  intervalMs: number,
  tuples?: readonly FieldValue[][],
): Frame[] {
  const perSecond = q.rate === true ? 1000 / intervalMs : 1;
  const unit = metricUnit(q.metric, q.rate === true);
  const totals = bucketsOf<HistogramBucket>(res.aggregations, 'over_time');
  const times = totals.map((b) => b.key);
  const index = new Map(times.map((t, i) => [t, i]));
  const scale = (v: number): number => v * perSecond;
  const fields: FrameField[] = [{ name: 'time', type: 'time', values: times }];
  const groupBy = q.groupBy ?? [];
  if (groupBy.length === 0) {
    fields.push({
      name: q.metric,
      type: 'number',
      unit,
      values: totals.map((b) => scale(metricOf(b, q.metric))),
    });
  } else {
    const rest = totals.map((b) => metricOf(b, q.metric));
    for (const g of seriesBuckets(res.aggregations, tuples)) {
      const values: number[] = times.map(() => 0);
      for (const b of g.over_time?.buckets ?? []) {
        const i = index.get(b.key);
        if (i === undefined) continue;
        const v = metricOf(b, q.metric);
        values[i] = v;
        rest[i] = (rest[i] ?? 0) - v;
      }
      const parts = keyParts(g, groupBy.length);
      fields.push({
        name: q.metric,
        type: 'number',
        unit,
        labels: Object.fromEntries(groupBy.map((f, i) => [f, parts[i] ?? ''])),
        values: values.map(scale),
      });
    }
    if (rest.some((v) => v > 0)) {
      fields.push({
        name: q.metric,
        type: 'number',
        unit,
        labels: Object.fromEntries(groupBy.map((f) => [f, OTHER])),
        values: rest.map(scale),
      });
    }
  }
  return [{ name: q.metric, meta: { intervalMs }, fields }];
}

function columnType(values: readonly FieldValue[]): FieldType {
  const present = values.filter((v) => v !== null);
  if (present.length > 0 && present.every((v) => typeof v === 'number')) return 'number';
  if (present.length > 0 && present.every((v) => typeof v === 'boolean')) return 'boolean';
  return 'string';
}

/** Strings unless every value is a number (or boolean); mixed columns become text. */
function column(name: string, values: FieldValue[], extra: Partial<FrameField> = {}): FrameField {
  const type = columnType(values);
  const typed = type === 'string' ? values.map((v) => (v === null ? null : String(v))) : values;
  return { name, type, values: typed, ...extra };
}

/** A group (value or tuple) with its metric. */
export interface GroupTotal {
  key: FieldValue[];
  value: number;
}

/** The metric's total over the range: the sum, or for flows the matching documents. */
export function metricTotal(res: estypes.SearchResponse, metric: Metric): number {
  if (metric === 'flows') {
    const hits = res.hits.total;
    return typeof hits === 'number' ? hits : (hits?.value ?? 0);
  }
  return (res.aggregations?.total as { value?: number | null } | undefined)?.value ?? 0;
}

/** The ranked values of a one-field topn search. */
export function termsGroups(res: estypes.SearchResponse, metric: Metric): GroupTotal[] {
  return bucketsOf<GroupBucket>(res.aggregations, 'top').map((g) => ({
    key: keyValues(g),
    value: metricOf(g, metric),
  }));
}

/** One composite page of tuples, and where the next starts (absent after the last). */
export function tuplePage(
  res: estypes.SearchResponse,
  fields: readonly string[],
  metric: Metric,
): { groups: GroupTotal[]; after: Record<string, FieldValue> | undefined } {
  const agg = res.aggregations?.tuples as
    | {
        buckets?: {
          key: Record<string, FieldValue>;
          doc_count: number;
          m?: { value: number | null };
        }[];
        after_key?: Record<string, FieldValue>;
      }
    | undefined;
  const buckets = agg?.buckets ?? [];
  return {
    groups: buckets.map((b) => ({
      key: fields.map((f) => b.key[f] ?? null),
      value: metricOf(b, metric),
    })),
    after: buckets.length > 0 ? agg?.after_key : undefined,
  };
}

function compareValues(a: FieldValue, b: FieldValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The top N by value, ties by key (as Elasticsearch orders terms), largest first. */
export function rankGroups(groups: GroupTotal[], top: number): GroupTotal[] {
  return groups
    .sort((a, b) => {
      if (b.value !== a.value) return b.value - a.value;
      for (let i = 0; i < a.key.length; i++) {
        const c = compareValues(a.key[i] ?? null, b.key[i] ?? null);
        if (c !== 0) return c;
      }
      return 0;
    })
    .slice(0, top);
}

export function topnFrames(
  q: TopnQuery,
  groups: readonly GroupTotal[],
  total: number,
  range: TimeRange,
): Frame[] {
  const perSecond = q.rate === true ? 1000 / (range.toMs - range.fromMs) : 1;
  const keys = groups.map((g) => g.key);
  const values = groups.map((g) => g.value);
  const fields: FrameField[] = q.fields.map((f, i) =>
    column(
      f,
      keys.map((k) => k[i] ?? null),
    ),
  );
  fields.push({
    name: q.metric,
    type: 'number',
    unit: metricUnit(q.metric, q.rate === true),
    values: values.map((v) => v * perSecond),
  });
  fields.push({
    name: 'share',
    type: 'number',
    unit: 'percentunit',
    values: values.map((v) => (total > 0 ? v / total : 0)),
  });
  return [{ name: 'topn', meta: { total: total * perSecond }, fields }];
}

/** Date fields whose values become epoch ms in a `time` column. */
const TIME_FIELDS = new Set([
  '@timestamp',
  'event.start',
  'event.end',
  'event.created',
  'netflow.exporter.timestamp',
]);

/** A value from `_source` by dotted path (nested objects, or a literal dotted key). */
export function sourceValue(source: unknown, path: string): unknown {
  if (typeof source !== 'object' || source === null) return undefined;
  const obj = source as Record<string, unknown>;
  if (path in obj) return obj[path];
  const dot = path.indexOf('.');
  for (let i = dot; i !== -1; i = path.indexOf('.', i + 1)) {
    const head = path.slice(0, i);
    if (head in obj) {
      const found = sourceValue(obj[head], path.slice(i + 1));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function cell(v: unknown): FieldValue {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (Array.isArray(v) && v.every((x) => typeof x !== 'object' || x === null)) {
    return v.map((x) => String(x)).join(', ');
  }
  return JSON.stringify(v);
}

export function recordsFrames(
  fields: readonly string[],
  res: estypes.SearchResponse,
  nextCursor: string | undefined,
): Frame[] {
  const hits = res.hits.hits;
  const columns: FrameField[] = fields.map((f) => {
    const raw = hits.map((h) => cell(sourceValue(h._source, f)));
    if (TIME_FIELDS.has(f)) {
      return {
        name: f,
        type: 'time',
        values: raw.map((v) => (typeof v === 'string' ? Date.parse(v) : v)),
      };
    }
    return column(f, raw);
  });
  const total = res.hits.total;
  const meta: Frame['meta'] = {};
  if (nextCursor !== undefined) meta.nextCursor = nextCursor;
  if (total !== undefined) meta.total = typeof total === 'number' ? total : total.value;
  return [{ name: 'records', meta, fields: columns }];
}

export function valuesFrames(
  q: ValuesQuery,
  res: estypes.SearchResponse,
  filterPrefix: boolean,
): Frame[] {
  const size = q.size ?? 100;
  let buckets = bucketsOf<GroupBucket>(res.aggregations, 'values');
  if (filterPrefix && q.prefix !== undefined && q.prefix !== '') {
    const prefix = q.prefix;
    buckets = buckets.filter((b) => (b.key_as_string ?? String(b.key)).startsWith(prefix));
  }
  buckets = buckets.slice(0, size);
  return [
    {
      name: q.field,
      fields: [
        column(
          q.field,
          buckets.map((b) => keyValues(b)[0] ?? null),
        ),
        { name: 'count', type: 'number', values: buckets.map((b) => b.doc_count) },
      ],
    },
  ];
}
