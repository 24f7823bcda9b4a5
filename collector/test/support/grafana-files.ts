// Test-only readers for the shipped Grafana files (dashboards/grafana/*.json, the alert
// rules in dashboards/alerting/, grafana-plugin/provisioning/): their queries, variables
// and data links, and the request bodies the plugin's backend would send for them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const DASHBOARDS_DIR = join(REPO, 'dashboards', 'grafana');
export const ALERTING_DIR = join(REPO, 'dashboards', 'alerting');
export const PROVISIONING_DIR = join(REPO, 'grafana-plugin', 'provisioning');

/** Data source uids the provisioning file fixes, and their types. */
export const SLUICE_UID = 'sluice';
export const PROMETHEUS_UID = 'sluice-prometheus';
export const EXPRESSION_UID = '__expr__';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function readJson(path: string): Json {
  return JSON.parse(readFileSync(path, 'utf8')) as Json;
}

export function readYaml(path: string): Json {
  return parseYaml(readFileSync(path, 'utf8')) as Json;
}

function filesIn(dir: string, ext: RegExp): string[] {
  return readdirSync(dir)
    .filter((f) => ext.test(f))
    .sort()
    .map((f) => join(dir, f));
}

export interface Dashboard {
  path: string;
  json: Json;
}

export function dashboards(): Dashboard[] {
  return filesIn(DASHBOARDS_DIR, /\.json$/).map((path) => ({ path, json: readJson(path) }));
}

export function alertRuleFiles(): { path: string; doc: Json }[] {
  return filesIn(ALERTING_DIR, /\.ya?ml$/).map((path) => ({ path, doc: readYaml(path) }));
}

export interface DatasourceRef {
  type?: string | undefined;
  uid?: string | undefined;
}

/** One query of a panel, a variable or an alert rule, with where it was found. */
export interface QueryTarget {
  where: string;
  datasource: DatasourceRef;
  model: Json;
  /** Alert rules: seconds before now, [from, to]. */
  relativeTimeRange?: { from: number; to: number };
}

export interface Panel extends Json {
  title?: string;
  type?: string;
  datasource?: DatasourceRef;
  targets?: Json[];
  panels?: Panel[];
  fieldConfig?: { defaults?: Json; overrides?: { matcher?: Json; properties?: Json[] }[] };
}

/** Every panel, rows' nested panels included. */
export function panels(d: Json): Panel[] {
  const out: Panel[] = [];
  const visit = (list: unknown) => {
    if (!Array.isArray(list)) return;
    for (const p of list as Panel[]) {
      out.push(p);
      visit(p.panels);
    }
  };
  visit(d.panels);
  return out;
}

export interface Variable extends Json {
  name: string;
  type: string;
  datasource?: DatasourceRef;
  query?: unknown;
  allValue?: string;
  includeAll?: boolean;
}

export function variables(d: Json): Variable[] {
  const t = d.templating as { list?: Variable[] } | undefined;
  return t?.list ?? [];
}

/** Panel targets (with the panel's data source when the target has none) and query variables. */
export function dashboardTargets(d: Dashboard): QueryTarget[] {
  const out: QueryTarget[] = [];
  const name = d.path.slice(d.path.lastIndexOf('/') + 1);
  for (const p of panels(d.json)) {
    for (const t of p.targets ?? []) {
      out.push({
        where: `${name}: panel "${p.title}" ${String(t.refId)}`,
        datasource: (t.datasource as DatasourceRef | undefined) ?? p.datasource ?? {},
        model: t,
      });
    }
  }
  for (const v of variables(d.json)) {
    if (v.type !== 'query') continue;
    const model = isObject(v.query) ? v.query : { query: v.query };
    out.push({ where: `${name}: variable ${v.name}`, datasource: v.datasource ?? {}, model });
  }
  return out;
}

export interface AlertRule extends Json {
  uid: string;
  title: string;
  condition: string;
  data: {
    refId: string;
    datasourceUid: string;
    relativeTimeRange?: { from: number; to: number };
    model: Json;
  }[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function alertRules(doc: Json): AlertRule[] {
  const groups = (doc.groups as { rules?: AlertRule[] }[] | undefined) ?? [];
  return groups.flatMap((g) => g.rules ?? []);
}

/** The data queries of the rules (expressions left out). */
export function alertTargets(): QueryTarget[] {
  const out: QueryTarget[] = [];
  for (const { doc } of alertRuleFiles()) {
    for (const r of alertRules(doc)) {
      for (const q of r.data) {
        if (q.datasourceUid === EXPRESSION_UID) continue;
        out.push({
          where: `alert rule ${r.uid} ${q.refId}`,
          datasource: { uid: q.datasourceUid, type: (q.model.datasource as DatasourceRef)?.type },
          model: q.model,
          ...(q.relativeTimeRange ? { relativeTimeRange: q.relativeTimeRange } : {}),
        });
      }
    }
  }
  return out;
}

/** Grafana's own variables: global ones and the data-link ones. */
export const BUILTIN_VARIABLES = new Set([
  '__all',
  '__interval',
  '__interval_ms',
  '__rate_interval',
  '__range',
  '__range_s',
  '__range_ms',
  '__from',
  '__to',
  '__url_time_range',
  '__value',
  '__data',
  '__field',
  '__series',
  '__all_variables',
  '__dashboard',
  '__org',
  '__user',
  '__timezone',
]);

// ${name}, ${name:format}, ${name.path...}, ${name["key"]...}, $name, [[name]] and [[name:format]].
const VARIABLE =
  /\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)|\[\[([A-Za-z_][A-Za-z0-9_]*)(?::[^\]]*)?\]\]/g;

/** Names of the variables a text refers to. */
export function referencedVariables(text: string): string[] {
  return [...text.matchAll(VARIABLE)].map((m) => (m[1] ?? m[3] ?? m[4]) as string);
}

/** Every string of a JSON value, with its path (to find variable references anywhere). */
export function strings(value: unknown, path = ''): { path: string; text: string }[] {
  if (typeof value === 'string') return [{ path, text: value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, `${path}[${i}]`));
  if (isObject(value)) return Object.entries(value).flatMap(([k, v]) => strings(v, `${path}.${k}`));
  return [];
}

/**
 * Replaces dashboard variables the way Grafana does for one selected value each:
 * `:raw` and no format give the value, `:queryparam` gives var-NAME=VALUE (URL-encoded),
 * `:percentencode` the URL-encoded value. An unknown variable throws.
 */
export function substitute(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(VARIABLE, (whole, braced, rest: string, bare, bracket) => {
    const name = (braced ?? bare ?? bracket) as string;
    if (name.startsWith('__')) return whole;
    const value = values[name];
    if (value === undefined) throw new Error(`no value for variable ${name} in ${text}`);
    const format = braced !== undefined && rest.startsWith(':') ? rest.slice(1) : '';
    if (format === 'queryparam') return `var-${name}=${encodeURIComponent(value)}`;
    if (format === 'percentencode') return encodeURIComponent(value);
    if (format !== '' && format !== 'raw') throw new Error(`format ${format} not handled here`);
    return value;
  });
}

/** The interval macros the backend turns into the interval of the request (query.go). */
const INTERVAL_MACROS = new Set([
  // $name and ${name} of each.
  ...['__interval', '__interval_ms', '__rate_interval'].flatMap((n) => [`$${n}`, `$\{${n}}`]),
  '$__auto',
  'auto',
]);

/** The keys each kind's request carries, as the Go backend lists them (pkg/plugin/query.go). */
export function backendRequestKeys(): Record<string, string[]> {
  const go = readFileSync(join(REPO, 'grafana-plugin', 'pkg', 'plugin', 'query.go'), 'utf8');
  const block = /var requestKeys = map\[string\]\[\]string\{([\s\S]*?)\n\}/.exec(go)?.[1];
  if (block === undefined) throw new Error('requestKeys not found in query.go');
  const kinds: Record<string, string> = {};
  for (const m of go.matchAll(/(Kind\w+)\s+=\s+"(\w+)"/g)) kinds[m[1] as string] = m[2] as string;
  const out: Record<string, string[]> = {};
  for (const m of block.matchAll(/(Kind\w+):\s*\{([^}]*)\}/g)) {
    const kind = kinds[m[1] as string];
    if (kind === undefined) throw new Error(`unknown kind constant ${m[1]}`);
    out[kind] = [...(m[2] as string).matchAll(/"(\w+)"/g)].map((k) => k[1] as string);
  }
  return out;
}

/**
 * The body the backend sends to POST /api/v1/query for a stored query (variables already
 * substituted): its kind's keys, empty texts and nulls left out, interval macros as the
 * panel's interval in ms, and the time range.
 */
export function requestBody(
  model: Json,
  range: { from: number; to: number },
  keys: Record<string, string[]>,
  intervalMs = 60_000,
): Json {
  const kind = String(model.kind);
  const body: Json = {};
  for (const k of keys[kind] ?? Object.keys(model)) {
    const v = model[k];
    if (v === undefined || v === null) continue;
    if (['interval', 'step', 'cursor', 'prefix'].includes(k) && typeof v === 'string') {
      if (v.trim() === '') continue;
      if ((k === 'interval' || k === 'step') && INTERVAL_MACROS.has(v.trim())) {
        body[k] = intervalMs;
        continue;
      }
    }
    body[k] = v;
  }
  body.from = range.from;
  body.to = range.to;
  return body;
}

/** Substitutes variables in every string of a query model. */
export function substituteModel(model: Json, values: Readonly<Record<string, string>>): Json {
  const visit = (v: unknown): unknown => {
    if (typeof v === 'string') return substitute(v, values);
    if (Array.isArray(v)) return v.map(visit);
    if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, visit(x)]));
    return v;
  };
  return visit(model) as Json;
}

export interface DataLink {
  where: string;
  /** The table column the link is on (override matcher), when it is on one. */
  field: string | undefined;
  url: string;
  panel: Panel;
}

/** Data links of the panels: field defaults and per-field overrides. */
export function dataLinks(d: Dashboard): DataLink[] {
  const out: DataLink[] = [];
  for (const p of panels(d.json)) {
    const fc = p.fieldConfig;
    for (const l of (fc?.defaults?.links as { url: string }[] | undefined) ?? []) {
      out.push({ where: `panel "${p.title}"`, field: undefined, url: l.url, panel: p });
    }
    for (const o of fc?.overrides ?? []) {
      for (const prop of o.properties ?? []) {
        if (prop.id !== 'links') continue;
        for (const l of (prop.value as { url: string }[]) ?? []) {
          out.push({
            where: `panel "${p.title}" field ${String(o.matcher?.options)}`,
            field: o.matcher?.id === 'byName' ? String(o.matcher.options) : undefined,
            url: l.url,
            panel: p,
          });
        }
      }
    }
  }
  return out;
}

/** Data-link variables of a URL: `__value.raw` and `__data.fields["name"]`. */
export function dataLinkFields(url: string): { value: boolean; fields: string[] } {
  return {
    value: /\$\{__value\.(raw|text)/.test(url),
    fields: [...url.matchAll(/\$\{__data\.fields\["([^"]+)"\](?::\w+)?\}/g)].map(
      (m) => m[1] as string,
    ),
  };
}

/**
 * A data link with its row's values filled in, as Grafana builds it when the cell is
 * clicked: `values` are the row's cells by column name, `field` the clicked column.
 */
export function fillDataLink(
  url: string,
  field: string | undefined,
  row: Readonly<Record<string, string>>,
  vars: Readonly<Record<string, string>>,
): string {
  const cell = (name: string | undefined, fmt: string | undefined) => {
    const v = name === undefined ? undefined : row[name];
    if (v === undefined) throw new Error(`no value for column ${name} in ${url}`);
    return fmt === 'percentencode' ? encodeURIComponent(v) : v;
  };
  const filled = url
    .replace(/\$\{__value\.(?:raw|text)(?::(\w+))?\}/g, (_, fmt) => cell(field, fmt))
    .replace(/\$\{__data\.fields\["([^"]+)"\](?::(\w+))?\}/g, (_, name, fmt) => cell(name, fmt))
    .replace(/\$\{__url_time_range\}/g, 'from=now-1h&to=now');
  return substitute(filled, vars);
}

const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/**
 * Metric names a PromQL expression selects: identifiers that are not functions (followed
 * by `(`), not keywords, and not inside label matchers, grouping clauses, strings or
 * range selectors.
 */
export function promqlMetricNames(expr: string): string[] {
  const text = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of text.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const word = m[0];
    const after = text.slice((m.index ?? 0) + word.length).trimStart();
    if (after.startsWith('(')) continue;
    if (PROMQL_WORDS.has(word.toLowerCase())) continue;
    // The exponent of a number such as 1e6.
    if (/[0-9.]$/.test(text.slice(0, m.index ?? 0))) continue;
    names.add(word);
  }
  return [...names];
}

/** Metric names in Prometheus text exposition (`# HELP`/`# TYPE` lines and samples). */
export function exposedMetricNames(exposition: string): Set<string> {
  const out = new Set<string>();
  for (const line of exposition.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)/.exec(line);
    if (m?.[1] !== undefined) out.add(m[1]);
  }
  return out;
}

/** `# THRESHOLD NAME[, NAME]` comments of the alert rule files. */
export function thresholdNames(text: string): string[] {
  return [...text.matchAll(/# THRESHOLD ([A-Z0-9_, ]+)/g)].flatMap((m) =>
    (m[1] as string)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
}
