// The shipped Grafana dashboards, alert rules and provisioning files, checked against the
// real parts they depend on: the query API's TypeBox request schema, the nfdump filter
// grammar (compileFilter), the Go backend's per-kind request keys and the provisioned
// data source uids. Running the same queries against a real collector, Elasticsearch and
// Prometheus is dashboards-live.test.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { REQUEST_VARIANTS } from '../src/query/api/schema.js';
import { compileFilter } from '../src/query/filter/index.js';
import {
  ALERTING_DIR,
  alertRuleFiles,
  alertRules,
  alertTargets,
  BUILTIN_VARIABLES,
  backendRequestKeys,
  type Dashboard,
  dashboards,
  dashboardTargets,
  dataLinkFields,
  dataLinks,
  EXPRESSION_UID,
  fillDataLink,
  PROMETHEUS_UID,
  PROVISIONING_DIR,
  promqlMetricNames,
  type QueryTarget,
  REPO,
  readJson,
  readYaml,
  referencedVariables,
  requestBody,
  SLUICE_UID,
  strings,
  substitute,
  substituteModel,
  thresholdNames,
  variables,
} from './support/grafana-files.js';

const PLUGIN_ID = String(readJson(join(REPO, 'grafana-plugin', 'src', 'plugin.json')).id);
/** Grafana's dashboard schema version the files are written in (Grafana 12 and 13). */
const SCHEMA_VERSION = 42;
/** Keys Grafana itself keeps in a stored query, which the backend does not send. */
const GRAFANA_KEYS = new Set(['refId', 'datasource', 'hide', 'queryType', 'key']);

/** Sample values per variable: every combination is substituted and checked. */
const SAMPLES: Record<string, string[]> = {
  filter: [
    'any',
    '', // a cleared filter box
    'proto tcp and dst port 443',
    'src net 10.0.0.0/8 or dst port in [53 123]',
    'not (src ip 2001:db8::1 or dst as 64512)',
  ],
  exporter: ['*', '192.0.2.1', '2001:db8::7'],
  instance: ['.*', 'collector:9850'],
};

function combinations(names: readonly string[]): Record<string, string>[] {
  let out: Record<string, string>[] = [{}];
  for (const n of names) {
    const values = SAMPLES[n];
    assert.ok(values, `no sample values for variable ${n}`);
    out = out.flatMap((c) => values.map((v) => ({ ...c, [n]: v })));
  }
  return out;
}

function provisionedDatasources(): { uid: string; type: string; [k: string]: unknown }[] {
  const doc = readYaml(join(PROVISIONING_DIR, 'datasources', 'sluice.yaml'));
  return doc.datasources as { uid: string; type: string }[];
}

const ALL_TARGETS: QueryTarget[] = [...dashboards().flatMap(dashboardTargets), ...alertTargets()];
const SLUICE_TARGETS = ALL_TARGETS.filter((t) => t.datasource.uid === SLUICE_UID);
const PROM_TARGETS = ALL_TARGETS.filter((t) => t.datasource.uid === PROMETHEUS_UID);

test('dashboards: JSON with unique uids, the current schema version, tagged for the links', () => {
  const ds = dashboards();
  assert.deepEqual(
    ds.map((d) => d.json.uid),
    ['sluice-collector-health', 'sluice-investigate', 'sluice-overview'],
  );
  for (const d of ds) {
    assert.equal(d.json.schemaVersion, SCHEMA_VERSION, d.path);
    assert.ok((d.json.tags as string[]).includes('sluice'), d.path);
    const ids = new Set<number>();
    for (const p of (d.json.panels as { id: number }[]) ?? []) {
      assert.ok(!ids.has(p.id), `${d.path}: panel id ${p.id} twice`);
      ids.add(p.id);
    }
  }
});

test('every query targets a provisioned data source uid, with its type', () => {
  const provisioned = new Map(provisionedDatasources().map((d) => [d.uid, d.type]));
  assert.equal(provisioned.get(SLUICE_UID), PLUGIN_ID);
  assert.equal(provisioned.get(PROMETHEUS_UID), 'prometheus');
  assert.ok(SLUICE_TARGETS.length >= 20, `${SLUICE_TARGETS.length} Sluice queries`);
  assert.ok(PROM_TARGETS.length >= 20, `${PROM_TARGETS.length} Prometheus queries`);
  for (const t of ALL_TARGETS) {
    const uid = t.datasource.uid;
    assert.ok(uid !== undefined && provisioned.has(uid), `${t.where}: data source ${uid}`);
    assert.equal(t.datasource.type, provisioned.get(uid), `${t.where}: type`);
  }
  // Panels and rules name the data source on each query too (Grafana keeps both).
  for (const d of dashboards()) {
    for (const t of dashboardTargets(d)) {
      const own = t.model.datasource as { uid?: string } | undefined;
      if (own !== undefined) assert.equal(own.uid, t.datasource.uid, t.where);
    }
  }
});

test('every Sluice query has a kind of the API, and only keys the backend sends', () => {
  const keys = backendRequestKeys();
  // The backend's per-kind keys are the API schema's properties without from/to.
  for (const [kind, schema] of Object.entries(REQUEST_VARIANTS)) {
    const props = Object.keys((schema as unknown as { properties: object }).properties).filter(
      (k) => k !== 'from' && k !== 'to',
    );
    assert.deepEqual([...(keys[kind] ?? [])].sort(), props.sort(), `request keys of ${kind}`);
  }
  for (const t of SLUICE_TARGETS) {
    const kind = String(t.model.kind);
    assert.ok(kind in REQUEST_VARIANTS, `${t.where}: kind ${kind}`);
    for (const k of Object.keys(t.model)) {
      assert.ok(
        GRAFANA_KEYS.has(k) || (keys[kind] ?? []).includes(k),
        `${t.where}: key ${k} is not part of a ${kind} request (the backend would drop it)`,
      );
    }
  }
});

test('every variable a dashboard refers to is defined in its templating', () => {
  for (const d of dashboards()) {
    const defined = new Set(variables(d.json).map((v) => v.name));
    for (const { path, text } of strings(d.json)) {
      for (const name of referencedVariables(text)) {
        assert.ok(
          defined.has(name) || BUILTIN_VARIABLES.has(name),
          `${d.path} ${path}: $${name} is not defined`,
        );
      }
    }
  }
});

test('the flow dashboards apply the filter and exporter variables to every query, and have ad-hoc filters', () => {
  for (const d of dashboards().filter((x) => x.json.uid !== 'sluice-collector-health')) {
    const vars = new Map(variables(d.json).map((v) => [v.name, v]));
    assert.equal(vars.get('filter')?.type, 'textbox', d.path);
    const exporter = vars.get('exporter');
    assert.equal(exporter?.type, 'query');
    assert.deepEqual(exporter?.datasource, { type: PLUGIN_ID, uid: SLUICE_UID });
    assert.equal((exporter?.query as { kind?: string } | undefined)?.kind, 'values');
    // "All" must stay a valid filter: `field:*` is the grammar's "field exists".
    assert.equal(exporter?.allValue, '*');
    assert.equal([...vars.values()].filter((v) => v.type === 'adhoc').length, 1, d.path);
    for (const t of dashboardTargets(d).filter((x) => x.model.kind !== 'values')) {
      const filter = String(t.model.filter ?? '');
      assert.ok(
        referencedVariables(filter).includes('filter') &&
          referencedVariables(filter).includes('exporter'),
        `${t.where}: filter "${filter}" does not apply both variables`,
      );
    }
  }
});

test('every filter parses with the real grammar, for every sample value of its variables', () => {
  let checked = 0;
  for (const t of SLUICE_TARGETS) {
    const filter = t.model.filter;
    if (filter === undefined) continue;
    for (const values of combinations([...new Set(referencedVariables(String(filter)))])) {
      const text = substitute(String(filter), values);
      const r = compileFilter(text);
      assert.ok(r.ok, `${t.where}: "${text}": ${r.ok ? '' : r.error.message}`);
      checked += 1;
    }
  }
  assert.ok(checked > 100, `${checked} filters`);
  // The check has teeth: what a user could wrongly leave in the box is refused.
  assert.equal(compileFilter('(port) and netflow.exporter.ip:*').ok, false);
});

test('every Sluice query, as the backend sends it, is a valid API request', () => {
  const keys = backendRequestKeys();
  const range = { from: Date.UTC(2024, 0, 1), to: Date.UTC(2024, 0, 1, 1) };
  for (const t of SLUICE_TARGETS) {
    const names = [...new Set(strings(t.model).flatMap((s) => referencedVariables(s.text)))];
    for (const values of combinations(names.filter((n) => !n.startsWith('__')))) {
      const body = requestBody(substituteModel(t.model, values), range, keys);
      const schema = REQUEST_VARIANTS[String(body.kind)];
      assert.ok(schema, t.where);
      const errors = [...Value.Errors(schema, body)].map((e) => `${e.path}: ${e.message}`);
      assert.deepEqual(errors, [], `${t.where}: ${JSON.stringify(body)}`);
    }
  }
});

test('Prometheus queries select the collector metrics only (names checked live in dashboards-live)', () => {
  for (const t of [...PROM_TARGETS, ...SLUICE_TARGETS.filter((x) => x.model.kind === 'metrics')]) {
    const expr = String(t.model.expr ?? t.model.query ?? '');
    assert.notEqual(expr, '', t.where);
    // A variable's label_values(metric, label) names its metric first.
    const lv = /^label_values\((\w+),\s*\w+\)$/.exec(expr);
    const names = lv ? [lv[1] as string] : promqlMetricNames(expr);
    assert.ok(names.length > 0, `${t.where}: no metric in ${expr}`);
    for (const n of names) {
      assert.match(n, /^(sluice_|db_client_operation_duration_|up$)/, `${t.where}: ${n}`);
    }
  }
  // The extractor itself, on a known expression.
  assert.deepEqual(
    promqlMetricNames(
      'histogram_quantile(0.9, sum by (le) (rate(db_client_operation_duration_bucket{instance=~"$instance"}[5m]))) * 1e3 + up',
    ).sort(),
    ['db_client_operation_duration_bucket', 'up'],
  );
});

function dashboardByUid(uid: string): Dashboard | undefined {
  return dashboards().find((d) => d.json.uid === uid);
}

/** Sample cell values per column, IPv4 and IPv6 where the column holds addresses. */
const CELLS: Record<string, string[]> = {
  'source.ip': ['10.1.0.1', '2001:db8::1'],
  'destination.ip': ['198.51.100.10', '2001:db8:2::443'],
  'destination.port': ['443'],
  'network.transport': ['tcp', 'ipv6-icmp'],
  'source.as.number': ['64512'],
  'destination.as.number': ['15169'],
  'netflow.exporter.ip': ['192.0.2.1', '2001:db8::7'],
};

test('data links open the Investigate dashboard with a filter that parses, from the clicked row', () => {
  const overview = dashboardByUid('sluice-overview');
  assert.ok(overview);
  const links = dataLinks(overview);
  assert.ok(links.length >= 8, `${links.length} links`);
  const tables = new Set(links.map((l) => l.panel.title));
  assert.ok(tables.size >= 7, `links on ${[...tables].join(', ')}`);
  for (const l of links) {
    const url = new URL(l.url.replace(/\$\{[^}]+\}/g, 'X'), 'http://grafana');
    const uid = /^\/d\/([^/]+)/.exec(url.pathname)?.[1];
    const target = uid === undefined ? undefined : dashboardByUid(uid);
    assert.ok(target, `${l.where}: links to ${url.pathname}`);
    // Columns the link reads are columns of the panel's table (topn fields).
    const columns = (l.panel.targets?.[0]?.fields as string[] | undefined) ?? [];
    const used = dataLinkFields(l.url);
    for (const f of [...used.fields, ...(used.value && l.field ? [l.field] : [])]) {
      assert.ok(columns.includes(f), `${l.where}: column ${f} not in ${columns.join(', ')}`);
    }
    const vars = new Set(variables(target.json).map((v) => v.name));
    const rows = (CELLS[columns[0] ?? ''] ?? ['x']).map((_, i) =>
      Object.fromEntries(columns.map((c) => [c, CELLS[c]?.[i] ?? CELLS[c]?.[0] ?? '1'])),
    );
    for (const row of rows) {
      for (const exporter of SAMPLES.exporter ?? []) {
        const filled = new URL(fillDataLink(l.url, l.field, row, { exporter }), 'http://grafana');
        for (const name of filled.searchParams.keys()) {
          if (name.startsWith('var-')) assert.ok(vars.has(name.slice(4)), `${l.where}: ${name}`);
        }
        assert.equal(filled.searchParams.get('var-exporter'), exporter);
        const filter = filled.searchParams.get('var-filter');
        assert.ok(filter !== null, `${l.where}: no var-filter`);
        const r = compileFilter(filter);
        assert.ok(r.ok, `${l.where}: "${filter}": ${r.ok ? '' : r.error.message}`);
        for (const f of used.fields) assert.ok(filter.includes(row[f] as string), filter);
      }
    }
  }
});

test('alert rules: unique uids, conditions and expressions that refer to existing queries', () => {
  const files = alertRuleFiles();
  assert.ok(files.length >= 1);
  const seen = new Set<string>();
  const titles: string[] = [];
  for (const { path, doc } of files) {
    assert.equal(doc.apiVersion, 1, path);
    for (const r of alertRules(doc)) {
      assert.ok(!seen.has(r.uid), `rule uid ${r.uid} twice`);
      seen.add(r.uid);
      titles.push(r.title);
      const refs = new Set(r.data.map((q) => q.refId));
      assert.ok(refs.has(r.condition), `${r.uid}: condition ${r.condition}`);
      for (const q of r.data) {
        const ds = q.model.datasource as { uid?: string };
        assert.equal(ds.uid, q.datasourceUid, `${r.uid} ${q.refId}`);
        assert.equal(q.model.refId, q.refId, `${r.uid} ${q.refId}`);
        if (q.datasourceUid === EXPRESSION_UID) {
          const type = String(q.model.type);
          assert.ok(['reduce', 'threshold', 'math'].includes(type), `${r.uid} ${q.refId}: ${type}`);
          const expression = String(q.model.expression);
          const used =
            type === 'math'
              ? [...expression.matchAll(/\$([A-Z])\b/g)].map((m) => m[1])
              : [expression];
          for (const u of used) assert.ok(refs.has(u as string), `${r.uid} ${q.refId}: ${u}`);
          if (type === 'reduce') {
            assert.ok(
              ['last', 'mean', 'sum', 'max', 'min', 'count'].includes(String(q.model.reducer)),
            );
          }
          if (type === 'threshold') {
            const c = (
              q.model.conditions as { evaluator: { type: string; params: number[] } }[]
            )[0];
            assert.ok(
              ['gt', 'lt', 'within_range', 'outside_range'].includes(c?.evaluator.type ?? ''),
            );
            assert.ok(Number.isFinite(c?.evaluator.params[0]), `${r.uid}: threshold`);
          }
        } else {
          // Data queries: a time range the API accepts (31 days at most).
          const rr = q.relativeTimeRange;
          assert.ok(rr && rr.from > rr.to && rr.from - rr.to <= 31 * 86_400, `${r.uid} ${q.refId}`);
        }
      }
      // Labels are interpolated with environment variables at provisioning: no `$` there.
      for (const v of Object.values(r.labels ?? {})) assert.doesNotMatch(v, /\$/, r.uid);
      assert.ok(r.annotations?.summary, `${r.uid}: summary`);
    }
  }
  for (const want of [
    /exporter silent/i,
    /baseline/i,
    /SSH\/RDP fan-out/i,
    /kernel/i,
    /rejecting/i,
    /lag/i,
  ]) {
    assert.ok(
      titles.some((t) => want.test(t)),
      `no rule like ${want}`,
    );
  }
});

test('alert thresholds are named in the rule files and documented in dashboards/README.md', () => {
  const readme = readFileSync(join(REPO, 'dashboards', 'README.md'), 'utf8');
  const names = alertRuleFiles().flatMap(({ path }) => thresholdNames(readFileSync(path, 'utf8')));
  assert.ok(names.length >= 8, names.join(', '));
  for (const n of names) assert.match(readme, new RegExp(`\\b${n}\\b`), `${n} not in the README`);
  assert.ok(readme.includes(ALERTING_DIR.slice(REPO.length)));
});

test('provisioning: the data source file reads its URL and token from the environment', () => {
  const [sluice, prom] = provisionedDatasources();
  assert.equal(sluice?.uid, SLUICE_UID);
  const json = sluice?.jsonData as Record<string, unknown>;
  const secure = sluice?.secureJsonData as Record<string, unknown>;
  assert.match(String(json.url), /^\$\{\w+\}$/);
  assert.match(String(secure.apiToken), /^\$\{\w+\}$/);
  // The token is a secret: never in jsonData.
  assert.ok(!Object.keys(json).some((k) => /token/i.test(k)));
  assert.equal(prom?.uid, PROMETHEUS_UID);
  assert.match(String(prom?.url), /^\$\{\w+\}$/);
  const providers = readYaml(join(PROVISIONING_DIR, 'dashboards', 'sluice.yaml')).providers as {
    type: string;
    options: { path: string };
  }[];
  assert.equal(providers.length, 1);
  assert.equal(providers[0]?.type, 'file');
  assert.match(String(providers[0]?.options.path), /^\/var\/lib\/grafana\/dashboards\//);
});
