import type { DataSourceJsonData } from '@grafana/data';
import type { DataQuery } from '@grafana/schema';

/** The query kinds: the same as the collector API's `kind` and the backend's. */
export const QUERY_KINDS = ['timeseries', 'topn', 'records', 'values', 'metrics'] as const;
export type QueryKind = (typeof QUERY_KINDS)[number];

export const METRICS = ['bytes', 'packets', 'flows'] as const;
export type Metric = (typeof METRICS)[number];

export interface RecordsSort {
  field: string;
  order?: 'asc' | 'desc';
}

/**
 * The stored query: the collector API's request body without `from`/`to`, which come
 * from Grafana's time range. The Go backend (pkg/plugin/query.go) reads exactly these
 * keys per kind and forwards them, so an alert rule evaluated on the server sends the
 * same request a panel does. Keys of other kinds are dropped when the kind changes.
 */
export interface SluiceQuery extends DataQuery {
  kind: QueryKind;
  /** nfdump filter; template variables and ad-hoc filters are applied to it. */
  filter?: string;
  metric?: Metric;
  /** per second instead of per bucket or range */
  rate?: boolean;
  /** counts as exported, not scaled by the sampling rate */
  raw?: boolean;
  /** bucket width (`30s`, `5m`, `$__interval`); empty: automatic */
  interval?: string;
  maxDataPoints?: number;
  minIntervalMs?: number;
  /** timeseries: up to 3 fields, one series per group */
  groupBy?: string[];
  /** timeseries with groupBy, topn: how many groups */
  top?: number;
  /** topn: the grouping fields; records: the columns */
  fields?: string[];
  sort?: RecordsSort[];
  /** records: page size; values: how many values */
  size?: number;
  cursor?: string;
  /** values: the field whose values are listed */
  field?: string;
  prefix?: string;
  /** metrics: PromQL */
  expr?: string;
  instant?: boolean;
  step?: string;
}

/**
 * The keys each kind's request carries (collector/src/query/api/schema.ts, without
 * from/to; the backend's requestKeys in pkg/plugin/query.go). The tests check all three
 * agree.
 */
export const REQUEST_KEYS: Readonly<Record<QueryKind, readonly (keyof SluiceQuery)[]>> = {
  timeseries: [
    'kind',
    'filter',
    'metric',
    'rate',
    'raw',
    'interval',
    'maxDataPoints',
    'minIntervalMs',
    'groupBy',
    'top',
  ],
  topn: ['kind', 'filter', 'metric', 'rate', 'raw', 'fields', 'top'],
  records: ['kind', 'filter', 'fields', 'sort', 'size', 'cursor'],
  values: ['kind', 'filter', 'field', 'prefix', 'size'],
  metrics: ['kind', 'expr', 'instant', 'step', 'maxDataPoints'],
};

export const DEFAULT_QUERY: Readonly<Partial<SluiceQuery>> = {
  kind: 'timeseries',
  metric: 'bytes',
  rate: true,
};

/** jsonData, as pkg/plugin/settings.go reads it. */
export interface SluiceOptions extends DataSourceJsonData {
  /** the collector's API URL, e.g. http://collector:9850 */
  url?: string;
  tlsSkipVerify?: boolean;
  /** trust secureJsonData.tlsCACert for the server certificate */
  tlsAuthWithCACert?: boolean;
  /** seconds for one API call */
  timeout?: number;
}

/** secureJsonData: write-only from the browser, decrypted only in the backend. */
export interface SluiceSecureOptions {
  apiToken?: string;
  tlsCACert?: string;
}

/** GET fields */
export interface FieldInfo {
  name: string;
  type: string;
  searchable: boolean;
  aggregatable: boolean;
}
export interface FieldsResponse {
  fields: FieldInfo[];
}

/** GET values */
export interface ValuesResponse {
  field: string;
  values: Array<{ value: string | number | boolean; text: string; count: number }>;
}

/** The API's error body ({"error", "column"...}), as the resources pass it on. */
export interface ApiErrorBody {
  error?: string;
  column?: number;
}
