import type { DataSourceInstanceSettings, ScopedVars, TimeRange } from '@grafana/data';
import { dateTime } from '@grafana/data';
import type { TemplateSrv } from '@grafana/runtime';
import { DataSource } from '../datasource';
import type { SluiceOptions } from '../types';

export const SETTINGS = {
  id: 1,
  uid: 'sluice',
  type: 'sluice-flows-datasource',
  name: 'Sluice',
  access: 'proxy',
  readOnly: false,
  jsonData: { url: 'http://collector:9850' },
  meta: { id: 'sluice-flows-datasource' },
} as unknown as DataSourceInstanceSettings<SluiceOptions>;

type Format = string | ((value: string | string[]) => string) | undefined;

/**
 * TemplateSrv.replace for a fixed set of variables, with Grafana's syntaxes ($v, ${v},
 * ${v:format}) and the two formats the plugin relies on: a format function, and csv.
 * Scoped variables win over dashboard ones, as in Grafana.
 */
export function fakeTemplateSrv(vars: Record<string, string | string[]>): TemplateSrv {
  const replace = (text?: string, scoped?: ScopedVars, format?: Format): string =>
    (text ?? '').replace(
      /\$(\w+)|\$\{(\w+)(?::(\w+))?\}/g,
      (whole, a: string | undefined, b: string | undefined, inline: string | undefined) => {
        const name = (a ?? b) as string;
        const value = scoped?.[name]?.value ?? vars[name];
        if (value === undefined) return whole;
        const fmt: Format = inline ?? format;
        if (typeof fmt === 'function') return fmt(value as string | string[]);
        const list = Array.isArray(value) ? value : [String(value)];
        if (fmt === 'csv' || fmt === undefined) return list.join(',');
        throw new Error(`fake TemplateSrv: format ${fmt} not modelled`);
      },
    );
  return {
    replace,
    getVariables: () => [],
    containsTemplate: (t?: string) => /\$/.test(t ?? ''),
    updateTimeRange: () => {},
  } as unknown as TemplateSrv;
}

export function newDataSource(vars: Record<string, string | string[]> = {}): DataSource {
  return new DataSource(SETTINGS, fakeTemplateSrv(vars));
}

export function range(fromMs: number, toMs: number): TimeRange {
  const from = dateTime(fromMs);
  const to = dateTime(toMs);
  return { from, to, raw: { from, to } };
}
