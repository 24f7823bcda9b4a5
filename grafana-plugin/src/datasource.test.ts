import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { firstValueFrom } from 'rxjs';
import { filterCheckError } from './datasource';
import { changeKind } from './query';
import { compileFilter, REQUEST_VARIANTS } from './test/collector';
import { newDataSource, range } from './test/fakes';
import { QUERY_KINDS, REQUEST_KEYS, type SluiceQuery } from './types';

/** The backend's requestKeys map, read from its Go source (pkg/plugin/query.go). */
function backendRequestKeys(): Record<string, string[]> {
  const go = readFileSync(path.join(__dirname, '../pkg/plugin/query.go'), 'utf8');
  const block = /var requestKeys = map\[string\]\[\]string\{([\s\S]*?)\n\}/.exec(go)?.[1];
  if (!block) throw new Error('requestKeys not found in query.go');
  const kinds: Record<string, string> = {
    KindTimeseries: 'timeseries',
    KindTopN: 'topn',
    KindRecords: 'records',
    KindValues: 'values',
    KindMetrics: 'metrics',
  };
  const out: Record<string, string[]> = {};
  for (const m of block.matchAll(/(Kind\w+):\s*\{([^}]*)\}/g)) {
    out[kinds[m[1] as string] as string] = [...(m[2] as string).matchAll(/"(\w+)"/g)].map(
      (k) => k[1] as string,
    );
  }
  return out;
}

/** What the backend sends for a stored query: its kind's keys, plus Grafana's time range. */
function backendBody(q: SluiceQuery): Record<string, unknown> {
  const body: Record<string, unknown> = { from: 1_700_000_000_000, to: 1_700_000_600_000 };
  for (const k of REQUEST_KEYS[q.kind]) {
    const v = (q as unknown as Record<string, unknown>)[k];
    if (v !== undefined) body[k] = v;
  }
  return body;
}

const sorted = (keys: readonly string[]) => [...keys].sort();

describe('stored query shape', () => {
  it.each(QUERY_KINDS)(
    '%s carries exactly the keys the backend forwards and the API accepts',
    (kind) => {
      const api = Object.keys(
        (REQUEST_VARIANTS[kind] as unknown as { properties: object }).properties,
      ).filter((k) => k !== 'from' && k !== 'to');
      expect(sorted(REQUEST_KEYS[kind])).toEqual(sorted(api));
      expect(sorted(REQUEST_KEYS[kind])).toEqual(sorted(backendRequestKeys()[kind] ?? []));
    },
  );

  it('switching kinds keeps the shared keys and drops the rest', () => {
    const ts: SluiceQuery = {
      refId: 'A',
      kind: 'timeseries',
      filter: 'proto tcp',
      metric: 'packets',
      rate: true,
      groupBy: ['source.ip'],
      interval: '1m',
      top: 5,
    };
    expect(changeKind(ts, 'topn')).toEqual({
      refId: 'A',
      kind: 'topn',
      filter: 'proto tcp',
      metric: 'packets',
      rate: true,
      top: 5,
    });
    expect(changeKind(ts, 'metrics')).toEqual({ refId: 'A', kind: 'metrics' });
    const topn: SluiceQuery = { refId: 'B', kind: 'topn', metric: 'bytes', fields: ['source.ip'] };
    expect(changeKind(topn, 'records')).toEqual({ refId: 'B', kind: 'records', size: 100 });
  });

  it('every query the editor can make is a request the API accepts once the backend adds the range', () => {
    const ds = newDataSource({ proto: 'tcp', grp: ['source.ip', 'destination.ip'] });
    const queries: SluiceQuery[] = [
      {
        refId: 'A',
        kind: 'timeseries',
        metric: 'bytes',
        rate: true,
        raw: true,
        groupBy: ['$grp'],
        top: 3,
        interval: '5m',
        filter: 'proto $proto',
      },
      { refId: 'B', kind: 'topn', metric: 'flows', fields: ['source.ip'], top: 20 },
      {
        refId: 'C',
        kind: 'records',
        fields: ['@timestamp', 'source.ip'],
        sort: [{ field: '@timestamp', order: 'asc' }],
        size: 50,
      },
      { refId: 'D', kind: 'values', field: 'source.ip', prefix: '10.', size: 10 },
      {
        refId: 'E',
        kind: 'metrics',
        expr: 'sum(rate(sluice_datagrams_total[5m]))',
        instant: false,
        step: '30s',
      },
    ];
    for (const q of queries) {
      const applied = ds.applyTemplateVariables(q, {}, [
        { key: 'destination.port', operator: '=', value: '443' },
      ]);
      const body = backendBody(applied);
      const schema = REQUEST_VARIANTS[q.kind];
      if (!schema) throw new Error(q.kind);
      expect(
        [...Value.Errors(schema, body)].map((e) => `${q.kind}${e.path}: ${e.message}`),
      ).toEqual([]);
      if (typeof body.filter === 'string') expect(compileFilter(body.filter).ok).toBe(true);
    }
  });
});

describe('applyTemplateVariables', () => {
  it('replaces variables in the filter, with multi-value variables as nfdump lists', () => {
    const ds = newDataSource({ hosts: ['10.0.0.1', '10.0.0.2'], port: '22' });
    const out = ds.applyTemplateVariables(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's ${variable} syntax
      { refId: 'A', kind: 'timeseries', filter: 'src ip in [$hosts] and dst port ${port}' },
      {},
    );
    expect(out.filter).toBe('src ip in [10.0.0.1,10.0.0.2] and dst port 22');
    expect(compileFilter(out.filter as string)).toEqual({
      ok: true,
      query: {
        bool: {
          filter: [
            { terms: { 'source.ip': ['10.0.0.1', '10.0.0.2'] } },
            { term: { 'destination.port': 22 } },
          ],
        },
      },
    });
  });

  it('adds the ad-hoc filters to the filter, and scoped variables win', () => {
    const ds = newDataSource({ proto: 'udp' });
    const out = ds.applyTemplateVariables(
      { refId: 'A', kind: 'topn', metric: 'bytes', fields: ['source.ip'], filter: 'proto $proto' },
      { proto: { text: 'tcp', value: 'tcp' } },
      [{ key: 'observer.ip', operator: '=', value: '192.0.2.1' }],
    );
    expect(compileFilter(out.filter as string)).toEqual({
      ok: true,
      query: {
        bool: {
          filter: [
            { term: { 'network.iana_number': '6' } },
            { term: { 'observer.ip': '192.0.2.1' } },
          ],
        },
      },
    });
  });

  it('gives a query without a filter the ad-hoc filters alone', () => {
    const out = newDataSource().applyTemplateVariables({ refId: 'A', kind: 'records' }, {}, [
      { key: 'source.port', operator: '=|', value: '22', values: ['22', '3389'] },
    ]);
    expect(out.filter).toBe('(source.port:"22" or source.port:"3389")');
    const plain = newDataSource().applyTemplateVariables({ refId: 'A', kind: 'records' }, {}, []);
    expect(plain).toEqual({ refId: 'A', kind: 'records' });
  });

  it('expands a multi-value variable in group-by and fields into several fields', () => {
    const ds = newDataSource({ grp: ['source.ip', 'destination.port'], f: 'network.transport' });
    const out = ds.applyTemplateVariables(
      { refId: 'A', kind: 'timeseries', groupBy: ['$grp'], interval: '$iv' },
      { iv: { text: '1m', value: '1m' } },
    );
    expect(out.groupBy).toEqual(['source.ip', 'destination.port']);
    expect(out.interval).toBe('1m');
    const topn = ds.applyTemplateVariables(
      { refId: 'B', kind: 'topn', fields: ['$f', 'source.ip'] },
      {},
    );
    expect(topn.fields).toEqual(['network.transport', 'source.ip']);
  });

  it('leaves metrics queries without ad-hoc filters and joins PromQL multi-values as a regex', () => {
    const ds = newDataSource({ inst: ['a:9464', 'b.c:9464'] });
    const out = ds.applyTemplateVariables(
      { refId: 'A', kind: 'metrics', expr: 'up{instance=~"$inst"}' },
      {},
      [{ key: 'source.ip', operator: '=', value: '1.2.3.4' }],
    );
    expect(out).toEqual({
      refId: 'A',
      kind: 'metrics',
      expr: 'up{instance=~"(a:9464|b\\.c:9464)"}',
    });
  });
});

describe('older Grafana', () => {
  it('takes the ad-hoc filters from TemplateSrv when Grafana does not pass them', () => {
    const ds = newDataSource();
    const srv = (ds as unknown as { templateSrv: object }).templateSrv;
    const asked: string[] = [];
    Object.assign(srv, {
      getAdhocFilters: (name: string) => {
        asked.push(name);
        return [{ key: 'source.ip', operator: '=', value: '10.0.0.9' }];
      },
    });
    const out = ds.applyTemplateVariables({ refId: 'A', kind: 'records' }, {});
    expect(asked).toEqual(['Sluice']);
    expect(out.filter).toBe('source.ip:"10.0.0.9"');
    // Filters Grafana passes win, even when there are none.
    expect(
      ds.applyTemplateVariables({ refId: 'A', kind: 'records' }, {}, []).filter,
    ).toBeUndefined();
  });

  it('describes a query in one line for the query history', () => {
    const ds = newDataSource();
    expect(
      ds.getQueryDisplayText({
        refId: 'A',
        kind: 'timeseries',
        metric: 'packets',
        groupBy: ['source.ip'],
        filter: 'proto tcp',
      }),
    ).toBe('timeseries packets by source.ip where proto tcp');
    expect(ds.getQueryDisplayText({ refId: 'A', kind: 'metrics', expr: 'up' })).toBe('metrics up');
  });
});

describe('filterQuery', () => {
  it('skips hidden and incomplete queries', () => {
    const ds = newDataSource();
    expect(ds.filterQuery({ refId: 'A', kind: 'timeseries' })).toBe(true);
    expect(ds.filterQuery({ refId: 'A', kind: 'timeseries', hide: true })).toBe(false);
    expect(ds.filterQuery({ refId: 'A', kind: 'topn' })).toBe(false);
    expect(ds.filterQuery({ refId: 'A', kind: 'topn', fields: ['source.ip'] })).toBe(true);
    expect(ds.filterQuery({ refId: 'A', kind: 'values', field: ' ' })).toBe(false);
    expect(ds.filterQuery({ refId: 'A', kind: 'metrics', expr: 'up' })).toBe(true);
  });
});

describe('ad-hoc filter keys and values', () => {
  it('offers the aggregatable fields as keys', async () => {
    const ds = newDataSource();
    const get = jest.spyOn(ds, 'getResource').mockResolvedValue({
      fields: [
        { name: 'source.ip', type: 'ip', searchable: true, aggregatable: true },
        { name: 'event.original', type: 'text', searchable: true, aggregatable: false },
        { name: 'destination.port', type: 'long', searchable: true, aggregatable: true },
      ],
    });
    expect(await ds.getTagKeys()).toEqual([{ text: 'destination.port' }, { text: 'source.ip' }]);
    expect(get).toHaveBeenCalledWith('fields', undefined, { showErrorAlert: false });
  });

  it('asks the values resource over the time range, narrowed by the other filters', async () => {
    const ds = newDataSource();
    const get = jest.spyOn(ds, 'getResource').mockResolvedValue({
      field: 'destination.port',
      values: [
        { value: 443, text: '443', count: 10 },
        { value: 80, text: '80', count: 3 },
      ],
    });
    const values = await ds.getTagValues({
      key: 'destination.port',
      filters: [
        { key: 'source.ip', operator: '=', value: '10.0.0.1' },
        { key: 'destination.port', operator: '=', value: '22' },
      ],
      timeRange: range(1000, 61_000),
    });
    expect(values).toEqual([{ text: '443' }, { text: '80' }]);
    expect(get).toHaveBeenCalledWith(
      'values',
      { field: 'destination.port', from: 1000, to: 61_000, filter: 'source.ip:"10.0.0.1"' },
      { showErrorAlert: false },
    );
  });
});

describe('variable support', () => {
  it('runs a values query through the values resource with variables replaced', async () => {
    const ds = newDataSource({ site: 'edge' });
    const get = jest.spyOn(ds, 'getResource').mockResolvedValue({
      field: 'observer.name',
      values: [{ value: 'edge-1', text: 'edge-1', count: 4 }],
    });
    const variables = ds.variables as unknown as {
      query: (r: unknown) => import('rxjs').Observable<{ data: unknown[] }>;
    };
    const res = await firstValueFrom(
      variables.query({
        targets: [
          {
            refId: 'v',
            kind: 'values',
            field: 'observer.name',
            prefix: '$site',
            filter: 'proto tcp',
            size: 5,
          },
        ],
        range: range(0, 3_600_000),
        scopedVars: {},
      }),
    );
    expect(res.data).toEqual([{ text: 'edge-1', value: 'edge-1' }]);
    expect(get).toHaveBeenCalledWith(
      'values',
      {
        field: 'observer.name',
        from: 0,
        to: 3_600_000,
        prefix: 'edge',
        filter: 'proto tcp',
        size: 5,
      },
      { showErrorAlert: false },
    );
  });

  it('answers the legacy metricFindQuery, where a string names the field', async () => {
    const ds = newDataSource();
    jest
      .spyOn(ds, 'getResource')
      .mockResolvedValue({ field: 'a', values: [{ value: 1, text: '1', count: 1 }] });
    expect(await ds.metricFindQuery('destination.port')).toEqual([{ text: '1', value: '1' }]);
    expect(await ds.metricFindQuery({ refId: 'v', kind: 'values', field: '' })).toEqual([]);
  });
});

describe('filter check', () => {
  /** The backend's query resource, answering as the API does: the collector's own parser. */
  function apiParser(ds: ReturnType<typeof newDataSource>) {
    return jest.spyOn(ds, 'postResource').mockImplementation(async (_path, body) => {
      const result = compileFilter((body as { filter: string }).filter);
      if (!result.ok) {
        throw { status: 400, data: { error: result.error.message, column: result.error.column } };
      }
      return { frames: [] };
    });
  }

  it('reports the API parser error with its column', async () => {
    const ds = newDataSource();
    const post = apiParser(ds);
    expect(await ds.checkFilter('proto tcp and prot udp')).toEqual({
      ok: false,
      column: 15,
      message: expect.stringContaining('"prot"'),
    });
    expect(post).toHaveBeenCalledWith(
      'query',
      expect.objectContaining({ kind: 'records', filter: 'proto tcp and prot udp', size: 1 }),
      { showErrorAlert: false },
    );
  });

  it('accepts a valid filter, with template variables replaced first', async () => {
    const ds = newDataSource({ ports: ['22', '3389'] });
    const post = apiParser(ds);
    expect(await ds.checkFilter('dst port in [$ports]', range(0, 1000))).toEqual({ ok: true });
    expect(post).toHaveBeenCalledWith(
      'query',
      {
        kind: 'records',
        filter: 'dst port in [22,3389]',
        from: 0,
        to: 1000,
        size: 1,
        fields: ['@timestamp'],
      },
      { showErrorAlert: false },
    );
    post.mockClear();
    expect(await ds.checkFilter('  ')).toEqual({ ok: true });
    expect(post).not.toHaveBeenCalled();
  });

  it('does not blame the filter when the API cannot be reached', () => {
    expect(filterCheckError({ status: 502, data: { error: 'connection refused' } })).toEqual({
      ok: true,
    });
    expect(filterCheckError({ status: 422, data: { error: 'bad' } })).toEqual({
      ok: false,
      message: 'bad',
    });
  });
});
