// The shipped dashboards and alert rules against the real thing: a collector filled with
// the shared export captures on the test Elasticsearch, and a real Prometheus scraping
// it under the job name of the compose stack's Prometheus config. Every Sluice query
// (as the plugin's backend sends it) must be accepted by the query API, every PromQL
// expression by Prometheus, every metric name must be one the collector exposes, and a
// click on an Overview table must lead to records of the clicked value.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { waitFor } from '@sluice/testkit';
import { demoFlows } from '../../deploy/demo/traffic.js';
import {
  alertTargets,
  backendRequestKeys,
  dashboards,
  dashboardTargets,
  dataLinks,
  exposedMetricNames,
  fillDataLink,
  PROMETHEUS_UID,
  promqlMetricNames,
  type QueryTarget,
  REPO,
  readYaml,
  referencedVariables,
  requestBody,
  SLUICE_UID,
  strings,
  substituteModel,
} from './support/grafana-files.js';
import {
  type ApiFrame,
  apiQuery,
  type FilledCollector,
  startFilledCollector,
} from './support/live-collector.js';

const DAY = 86_400_000;

/** The job the compose stack's Prometheus scrapes the collector under. */
function composeJob(): string {
  const doc = readYaml(join(REPO, 'deploy', 'prometheus', 'prometheus.yml'));
  const jobs = doc.scrape_configs as {
    job_name: string;
    static_configs: { targets: string[] }[];
  }[];
  const job = jobs.find((j) =>
    j.static_configs.some((s) => s.targets.some((x) => x.startsWith('collector:'))),
  );
  assert.ok(job, 'no scrape job for the collector');
  return job.job_name;
}

/** What the backend adds itself: bounded maxDataPoints (query.go), like a 1000 px panel. */
function withBackendBounds(body: Record<string, unknown>): Record<string, unknown> {
  if (body.kind === 'timeseries') {
    const groups = Array.isArray(body.groupBy) && body.groupBy.length > 0;
    const series = groups ? Number(body.top ?? 10) + 1 : 1;
    return { ...body, maxDataPoints: Math.min(1000, Math.floor(10_000 / series) - 1) };
  }
  if (body.kind === 'metrics') return { ...body, maxDataPoints: 1000 };
  return body;
}

function variableNames(t: QueryTarget): string[] {
  return [...new Set(strings(t.model).flatMap((s) => referencedVariables(s.text)))].filter(
    (n) => !n.startsWith('__'),
  );
}

/** Each query's variables: the filter samples, every exporter choice, all instances. */
function valueSets(
  names: readonly string[],
  exporters: readonly string[],
): Record<string, string>[] {
  let out: Record<string, string>[] = [{}];
  const samples: Record<string, string[]> = {
    filter: ['any', 'proto tcp or proto udp', 'not dst port 53'],
    exporter: [...exporters],
  };
  for (const n of names) {
    const values = samples[n];
    assert.ok(values, `no values for ${n}`);
    out = out.flatMap((c) => values.map((v) => ({ ...c, [n]: v })));
  }
  return out;
}

/** The range an alert query covers, anchored at the end of the indexed data. */
function alertRange(t: QueryTarget, end: number): { from: number; to: number } {
  const rr = t.relativeTimeRange ?? { from: 600, to: 0 };
  return { from: end - rr.from * 1000, to: end - rr.to * 1000 };
}

/** PromQL with Grafana's own variables as a dashboard would send it. */
function promql(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__interval', '15s')
    .replaceAll('$__range', '1h')
    .replaceAll('$instance', '.*');
}

function column(frame: ApiFrame | undefined, name: string): unknown[] {
  return frame?.fields.find((f) => f.name === name)?.values ?? [];
}

test('dashboards and alert rules run against a real collector, Elasticsearch and Prometheus', async (t) => {
  const fc: FilledCollector | undefined = await startFilledCollector(t, {
    prometheusJob: composeJob(),
    demo: true,
  });
  if (!fc?.prometheus || !fc.demo) return;
  const prom = fc.prometheus;
  const keys = backendRequestKeys();
  // The panels look at the hours of the demo traffic (the compose stack's demo exporter's
  // capture, exported by `sluice export` from 127.0.0.1); the alert rules at its end.
  const range = fc.demo.range;
  // Alert rules are evaluated a few minutes after the demo traffic.
  const end = range.to - 3_600_000 + 300_000;
  assert.ok(range.to - range.from < 31 * DAY);

  await t.test('the exporter variable lists the exporters that sent flows', async () => {
    const overview = dashboards().find((d) => d.json.uid === 'sluice-overview');
    assert.ok(overview);
    const variable = dashboardTargets(overview).find((x) => x.where.endsWith('variable exporter'));
    assert.ok(variable);
    const res = await apiQuery(fc.apiUrl, requestBody(variable.model, range, keys));
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const values = column(res.json.frames?.[0], 'netflow.exporter.ip');
    // The demo traffic came from `sluice export` on 127.0.0.1.
    assert.deepEqual(values, ['127.0.0.1']);
  });

  await t.test(
    'every Sluice query of the dashboards is accepted and the tables have rows',
    async () => {
      let runs = 0;
      for (const d of dashboards()) {
        for (const target of dashboardTargets(d).filter((x) => x.datasource.uid === SLUICE_UID)) {
          for (const values of valueSets(variableNames(target), ['*', '127.0.0.1'])) {
            const body = withBackendBounds(
              requestBody(substituteModel(target.model, values), range, keys),
            );
            const res = await apiQuery(fc.apiUrl, body);
            assert.equal(
              res.status,
              200,
              `${target.where} ${JSON.stringify(body)}: ${JSON.stringify(res.json)}`,
            );
            runs += 1;
            const frame = res.json.frames?.[0];
            assert.ok(frame, `${target.where}: no frame`);
            if (values.filter === 'any' && values.exporter === '*' && body.kind !== 'values') {
              const rows = frame.fields[0]?.values.length ?? 0;
              const hasAs = String(body.fields ?? '').includes('.as.');
              if (!hasAs) assert.ok(rows > 0, `${target.where}: no rows over the indexed data`);
            }
          }
        }
      }
      assert.ok(runs > 100, `${runs} queries`);
    },
  );

  await t.test('a click on a table value leads to records of that value', async () => {
    const overview = dashboards().find((d) => d.json.uid === 'sluice-overview');
    const investigate = dashboards().find((d) => d.json.uid === 'sluice-investigate');
    assert.ok(overview && investigate);
    const records = dashboardTargets(investigate).find((x) => x.model.kind === 'records');
    assert.ok(records);
    let followed = 0;
    for (const link of dataLinks(overview)) {
      const table = link.panel.targets?.[0];
      assert.ok(table);
      const body = requestBody(
        substituteModel(table, { filter: 'any', exporter: '*' }),
        range,
        keys,
      );
      const res = await apiQuery(fc.apiUrl, body);
      assert.equal(res.status, 200);
      const frame = res.json.frames?.[0];
      if ((frame?.fields[0]?.values.length ?? 0) === 0) continue; // no AS numbers in these captures
      const row = Object.fromEntries(
        (frame?.fields ?? []).map((f) => [f.name, String(f.values[0])]),
      );
      const url = new URL(fillDataLink(link.url, link.field, row, { exporter: '*' }), 'http://g');
      const vars = {
        filter: url.searchParams.get('var-filter') ?? '',
        exporter: url.searchParams.get('var-exporter') ?? '',
      };
      const found = await apiQuery(
        fc.apiUrl,
        requestBody(substituteModel(records.model, vars), range, keys),
      );
      assert.equal(
        found.status,
        200,
        `${link.where}: ${vars.filter}: ${JSON.stringify(found.json)}`,
      );
      const rec = found.json.frames?.[0];
      const n = rec?.fields[0]?.values.length ?? 0;
      assert.ok(n > 0, `${link.where}: "${vars.filter}" found no records`);
      // Every record has the clicked value in the clicked column.
      if (link.field !== undefined) {
        const got = column(rec, link.field).map(String);
        assert.deepEqual(new Set(got), new Set([row[link.field]]), `${link.where}: ${vars.filter}`);
      }
      followed += 1;
    }
    assert.ok(followed >= 6, `${followed} links followed`);
  });

  await t.test('every alert rule query of the Sluice data source is accepted', async () => {
    // The metrics kind reads Prometheus, which only holds data from now on.
    await waitFor(
      async () =>
        (await prom.query('sluice_datagrams_received_total')).length > 0 ? true : undefined,
      { what: 'the collector scraped', timeoutMs: 30_000 },
    );
    for (const target of alertTargets().filter((x) => x.datasource.uid === SLUICE_UID)) {
      const run = async () => {
        const anchor = target.model.kind === 'metrics' ? Date.now() : end;
        const body = withBackendBounds(requestBody(target.model, alertRange(target, anchor), keys));
        const res = await apiQuery(fc.apiUrl, body);
        assert.equal(
          res.status,
          200,
          `${target.where} ${JSON.stringify(body)}: ${JSON.stringify(res.json)}`,
        );
        const labels = (res.json.frames ?? []).map(
          (f) => f.fields[1]?.labels?.sluice_exporter_address,
        );
        return labels;
      };
      if (target.model.kind !== 'metrics') {
        await run();
        continue;
      }
      // Per exporter: the captures' senders appear by address. A rate over a window needs
      // two scrapes of the exporter's series, so the first answers may still be empty.
      let last: unknown[] = [];
      await waitFor(
        async () => {
          last = await run();
          return last.includes('127.0.0.3') ? true : undefined;
        },
        { what: `${target.where}: the exporter 127.0.0.3 in the answer`, timeoutMs: 60_000 },
      ).catch((err: unknown) => {
        throw new Error(`${String(err)}; last answer's exporters: ${JSON.stringify(last)}`);
      });
    }
  });

  await t.test('the fan-out rule counts the demo scan: one flow per probed address', async () => {
    const rule = alertTargets().find((x) =>
      x.where.startsWith('alert rule sluice-ssh-rdp-fanout A'),
    );
    assert.ok(rule);
    // The oracle: the generator's own list of flows to port 22/3389 per source.
    const perSource = new Map<string, number>();
    for (const f of demoFlows()) {
      if (f.proto === 'tcp' && (f.dport === 22 || f.dport === 3389)) {
        perSource.set(f.src, (perSource.get(f.src) ?? 0) + 1);
      }
    }
    const body = withBackendBounds(requestBody(rule.model, alertRange(rule, end), keys));
    const res = await apiQuery(fc.apiUrl, body);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    // Grafana's reduce(sum) of each series of the wide frame.
    const sums = new Map(
      (res.json.frames?.[0]?.fields ?? [])
        .filter((f) => f.type === 'number')
        .map((f) => [
          f.labels?.['source.ip'] ?? '',
          f.values.reduce((a: number, v) => a + Number(v ?? 0), 0),
        ]),
    );
    assert.deepEqual(Object.fromEntries(sums), Object.fromEntries(perSource));
    assert.equal(perSource.get('10.66.6.6'), 60);
  });

  await t.test(
    'every PromQL expression runs on Prometheus and names metrics the collector exposes',
    async () => {
      const targets = [...dashboards().flatMap(dashboardTargets), ...alertTargets()].filter(
        (x) => x.datasource.uid === PROMETHEUS_UID || x.model.kind === 'metrics',
      );
      assert.ok(targets.length >= 25, `${targets.length} PromQL queries`);
      const queries = targets.map((target) => {
        const raw = String(
          target.model.expr ??
            (target.model.query as { query?: string })?.query ??
            target.model.query,
        );
        const lv = /^label_values\((\w+),\s*(\w+)\)$/.exec(raw);
        return { target, expr: promql(lv ? `group by (${lv[2]}) (${lv[1]})` : raw) };
      });
      // `up` is Prometheus's own, per scrape job; every other name must be exposed. Series
      // appear once they count (template misses when the held data expires, every 5 s).
      const notExposed = (exposed: Set<string>) =>
        queries.flatMap(({ target, expr }) =>
          promqlMetricNames(expr)
            .filter((n) => n !== 'up' && !exposed.has(n))
            .map((n) => `${target.where}: ${n}`),
        );
      let missing: string[] = [];
      await waitFor(
        async () => {
          const text = await (await fetch(`${fc.apiUrl}/metrics`)).text();
          missing = notExposed(exposedMetricNames(text));
          return missing.length === 0 ? true : undefined;
        },
        { what: 'every metric the dashboards use', timeoutMs: 60_000, intervalMs: 1000 },
      ).catch(() => undefined);
      for (const { target, expr } of queries) {
        const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
        const answer = (await res.json()) as { status: string; error?: string };
        assert.equal(answer.status, 'success', `${target.where}: ${expr}: ${answer.error}`);
      }
      assert.deepEqual(missing, [], 'metric names the collector does not expose');
      // The rules' job name is the scrape job's: the collector is up under it.
      const up = await prom.query(`up{job="${composeJob()}"}`);
      assert.equal(up[0]?.value[1], '1');
    },
  );
});
