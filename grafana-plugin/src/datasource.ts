import type {
  AdHocVariableFilter,
  CoreApp,
  DataSourceGetTagKeysOptions,
  DataSourceGetTagValuesOptions,
  DataSourceInstanceSettings,
  LegacyMetricFindQueryOptions,
  MetricFindValue,
  ScopedVars,
  TimeRange,
} from '@grafana/data';
import { DataSourceWithBackend, getTemplateSrv, type TemplateSrv } from '@grafana/runtime';
import { withAdHocFilters } from './filter';
import { interpolateQuery, type Replace } from './interpolate';
import {
  type ApiErrorBody,
  DEFAULT_QUERY,
  type FieldInfo,
  type FieldsResponse,
  type SluiceOptions,
  type SluiceQuery,
  type ValuesResponse,
} from './types';
import { SluiceVariableSupport } from './variables';

/** The result of checking a filter against the API. */
export type FilterCheck = { ok: true } | { ok: false; message: string; column?: number };

/** How far back value look-ups go when Grafana gives no time range. */
const DEFAULT_LOOKBACK_MS = 24 * 60 * 60 * 1000;

export class DataSource extends DataSourceWithBackend<SluiceQuery, SluiceOptions> {
  private readonly templateSrv: TemplateSrv;

  constructor(settings: DataSourceInstanceSettings<SluiceOptions>, templateSrv?: TemplateSrv) {
    super(settings);
    this.templateSrv = templateSrv ?? getTemplateSrv();
    this.variables = new SluiceVariableSupport(this);
  }

  getDefaultQuery(_app: CoreApp): Partial<SluiceQuery> {
    return DEFAULT_QUERY;
  }

  /** Hidden queries and queries still missing a required key are not run. */
  filterQuery(query: SluiceQuery): boolean {
    if (query.hide) return false;
    switch (query.kind) {
      case 'topn':
        return (query.fields?.length ?? 0) > 0;
      case 'values':
        return (query.field ?? '').trim() !== '';
      case 'metrics':
        return (query.expr ?? '').trim() !== '';
      default:
        return query.kind !== undefined;
    }
  }

  applyTemplateVariables(
    query: SluiceQuery,
    scopedVars: ScopedVars,
    filters?: AdHocVariableFilter[],
  ): SluiceQuery {
    return interpolateQuery(query, this.replacer(scopedVars), filters ?? this.legacyAdHocFilters());
  }

  /**
   * Grafana before 11 does not pass the ad-hoc filters to applyTemplateVariables; its
   * TemplateSrv hands them out by data source name instead.
   */
  private legacyAdHocFilters(): AdHocVariableFilter[] | undefined {
    const legacy = this.templateSrv as TemplateSrv & {
      getAdhocFilters?: (datasourceName: string) => AdHocVariableFilter[];
    };
    return legacy.getAdhocFilters?.(this.name);
  }

  /** The query in one line, for Explore's query history. */
  getQueryDisplayText(query: SluiceQuery): string {
    const what =
      query.kind === 'metrics'
        ? (query.expr ?? '')
        : query.kind === 'values' || query.kind === 'records'
          ? (query.field ?? query.fields?.join(', ') ?? '')
          : [query.metric ?? 'bytes', ...(query.groupBy ?? query.fields ?? [])].join(' by ');
    const filter = query.kind !== 'metrics' && query.filter ? ` where ${query.filter}` : '';
    return `${query.kind} ${what}${filter}`.replace(/\s+/g, ' ').trim();
  }

  replacer(scopedVars?: ScopedVars): Replace {
    return (text, format) => this.templateSrv.replace(text, scopedVars, format);
  }

  /** The API's field list (GET fields). */
  async fields(): Promise<FieldInfo[]> {
    const res = await this.getResource<FieldsResponse>('fields', undefined, {
      showErrorAlert: false,
    });
    return res.fields ?? [];
  }

  /** Values of one field (GET values), over a time range and an optional filter. */
  async fieldValues(
    field: string,
    options: { range?: TimeRange; filter?: string; prefix?: string; size?: number } = {},
  ): Promise<ValuesResponse['values']> {
    const to = options.range?.to.valueOf() ?? Date.now();
    const from = options.range?.from.valueOf() ?? to - DEFAULT_LOOKBACK_MS;
    const params: Record<string, string | number> = { field, from, to };
    if (options.filter) params.filter = options.filter;
    if (options.prefix) params.prefix = options.prefix;
    if (options.size) params.size = options.size;
    const res = await this.getResource<ValuesResponse>('values', params, {
      showErrorAlert: false,
    });
    return res.values ?? [];
  }

  /** Ad-hoc filter keys: the fields a term query can use. */
  async getTagKeys(
    _options?: DataSourceGetTagKeysOptions<SluiceQuery>,
  ): Promise<MetricFindValue[]> {
    const fields = await this.fields();
    return fields
      .filter((f) => f.aggregatable && f.searchable)
      .map((f) => ({ text: f.name }))
      .sort((a, b) => a.text.localeCompare(b.text));
  }

  /** Ad-hoc filter values of one key, narrowed by the other ad-hoc filters. */
  async getTagValues(
    options: DataSourceGetTagValuesOptions<SluiceQuery>,
  ): Promise<MetricFindValue[]> {
    const others = (options.filters ?? []).filter((f) => f.key !== options.key);
    const filter = withAdHocFilters(undefined, others);
    const values = await this.fieldValues(options.key, {
      ...(options.timeRange ? { range: options.timeRange } : {}),
      ...(filter ? { filter } : {}),
    });
    return values.map((v) => ({ text: v.text }));
  }

  /** A `values` query for a template variable (also used by the variable editor). */
  async variableValues(
    query: SluiceQuery,
    range?: TimeRange,
    scopedVars?: ScopedVars,
  ): Promise<MetricFindValue[]> {
    const q = interpolateQuery({ ...query, kind: 'values' }, this.replacer(scopedVars));
    const field = (q.field ?? '').trim();
    if (field === '') return [];
    const values = await this.fieldValues(field, {
      ...(range ? { range } : {}),
      ...(q.filter ? { filter: q.filter } : {}),
      ...(q.prefix ? { prefix: q.prefix } : {}),
      ...(q.size ? { size: q.size } : {}),
    });
    return values.map((v) => ({ text: v.text, value: v.text }));
  }

  /** For Grafana versions that ask the data source directly; a string is a field name. */
  metricFindQuery(
    query: SluiceQuery | string,
    options?: LegacyMetricFindQueryOptions,
  ): Promise<MetricFindValue[]> {
    const q: SluiceQuery =
      typeof query === 'string' ? { refId: 'variable', kind: 'values', field: query } : query;
    return this.variableValues(q, options?.range, options?.scopedVars);
  }

  /**
   * Checks a filter with the API's own parser: a one-record query through the backend's
   * `query` resource. Template variables are replaced first; a filter with no text is fine.
   */
  async checkFilter(filter: string, range?: TimeRange): Promise<FilterCheck> {
    const text = this.templateSrv.replace(filter, undefined, (v: unknown) =>
      Array.isArray(v) ? v.join(',') : String(v ?? ''),
    );
    if (text.trim() === '') return { ok: true };
    const to = range?.to.valueOf() ?? Date.now();
    const from = range?.from.valueOf() ?? to - 60_000;
    try {
      await this.postResource(
        'query',
        { kind: 'records', filter: text, from, to, size: 1, fields: ['@timestamp'] },
        { showErrorAlert: false },
      );
      return { ok: true };
    } catch (err) {
      return filterCheckError(err);
    }
  }
}

/** The API's error, as the backend's resource passes it on (FetchError.data). */
export function filterCheckError(err: unknown): FilterCheck {
  const data = (err as { data?: ApiErrorBody } | undefined)?.data;
  const status = (err as { status?: number } | undefined)?.status;
  // Only a refused request says something about the filter; an unreachable API does not.
  if (status !== undefined && status !== 400 && status !== 422) return { ok: true };
  const message =
    data?.error ?? (err instanceof Error ? err.message : 'the filter could not be checked');
  return data?.column !== undefined
    ? { ok: false, message, column: data.column }
    : { ok: false, message };
}
