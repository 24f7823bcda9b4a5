// The query model shared by the HTTP schema (api/schema.ts checks its TypeBox types
// against these) and the Elasticsearch translation: plain data, no I/O.

export type Metric = 'bytes' | 'packets' | 'flows';
export type TimeInput = string | number;

interface Common {
  /** Start of the range (inclusive): ISO 8601 or epoch milliseconds. */
  from: TimeInput;
  /** End of the range (exclusive): ISO 8601 or epoch milliseconds. */
  to: TimeInput;
  /** nfdump filter text; empty or absent matches everything. */
  filter?: string;
}

export interface TimeseriesQuery extends Common {
  kind: 'timeseries';
  metric: Metric;
  /** Per second instead of per bucket. */
  rate?: boolean;
  /** Counts as the exporters sent them instead of scaled by the sampling rate. */
  raw?: boolean;
  /** Bucket width: `30s`, `5m`, `1h`, `1d` or milliseconds; auto from maxDataPoints when absent. */
  interval?: string | number;
  /** Grafana's maxDataPoints: the auto interval keeps the point count at or below it. */
  maxDataPoints?: number;
  /** Lower bound of the auto interval (ms). */
  minIntervalMs?: number;
  /** Up to 3 fields: one series per value (tuple), the top N by metric, plus `other`. */
  groupBy?: string[];
  /** Number of series kept when grouped (default 10). */
  top?: number;
}

export interface TopnQuery extends Common {
  kind: 'topn';
  metric: Metric;
  rate?: boolean;
  raw?: boolean;
  /** 1 to 3 fields: values ranked alone or as tuples. */
  fields: string[];
  /** How many (default 10). */
  top?: number;
}

export interface SortKey {
  field: string;
  order?: 'asc' | 'desc';
}

export interface RecordsQuery extends Common {
  kind: 'records';
  /** `_source` fields to return (default: a summary of the flow). */
  fields?: string[];
  /** Default: `@timestamp` descending. */
  sort?: SortKey[];
  /** Page size (default 100). */
  size?: number;
  /** `nextCursor` of the previous page; the rest of the request must be the same. */
  cursor?: string;
}

export interface ValuesQuery extends Common {
  kind: 'values';
  field: string;
  /** Only values that start with this text (autocomplete). */
  prefix?: string;
  /** How many (default 100). */
  size?: number;
}

export interface MetricsQuery {
  kind: 'metrics';
  /** PromQL. */
  expr: string;
  from: TimeInput;
  to: TimeInput;
  /** Evaluate once at `to` instead of over the range. */
  instant?: boolean;
  /** Range step: like `interval` of timeseries; auto from maxDataPoints when absent. */
  step?: string | number;
  maxDataPoints?: number;
}

export type QueryRequest = TimeseriesQuery | TopnQuery | RecordsQuery | ValuesQuery | MetricsQuery;

export type FieldType = 'time' | 'number' | 'string' | 'boolean';
export type FieldValue = number | string | boolean | null;

/** A column of a Grafana data frame. */
export interface FrameField {
  name: string;
  type: FieldType;
  unit?: string;
  labels?: Record<string, string>;
  values: FieldValue[];
}

export interface FrameMeta {
  /** Bucket width (timeseries) or step (metrics), ms. */
  intervalMs?: number;
  /** Records: pass back as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
  /** Records: documents matching; topn: the metric's total over the range. */
  total?: number;
}

/** A Grafana data frame: columns of equal length. */
export interface Frame {
  name?: string;
  meta?: FrameMeta;
  fields: FrameField[];
}

export interface QueryResponse {
  frames: Frame[];
}

/** Limits a request is checked against before anything runs. */
export interface QueryLimits {
  /** Longest time range (ms); default 31 days. */
  maxRangeMs: number;
  /** Most series × points of a timeseries (and most rows of topn/values); default 10,000. */
  maxBuckets: number;
  /** Largest records page; default 10,000. */
  maxRecords: number;
  /** Deadline of one query (ms): Elasticsearch's `timeout` and the client's; default 30 s. */
  timeoutMs: number;
  /** Most distinct tuples a grouping by several fields may rank; default 100,000. */
  maxTuples: number;
}

export const DEFAULT_LIMITS: QueryLimits = {
  maxRangeMs: 31 * 24 * 3600 * 1000,
  maxBuckets: 10_000,
  maxRecords: 10_000,
  timeoutMs: 30_000,
  maxTuples: 100_000,
};

/** A request refused before it ran: 400 for a malformed one, 422 for one over a limit. */
export class QueryError extends Error {
  constructor(
    readonly status: 400 | 422 | 504 | 502,
    message: string,
    readonly detail: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'QueryError';
  }
}
