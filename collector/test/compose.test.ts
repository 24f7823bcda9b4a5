// The compose stack (docker-compose.yml, Dockerfile, deploy/) cannot run here (no Docker
// engine), so what can be checked without one is: every file it mounts or copies exists,
// the collector's environment is a valid configuration of real SLUICE_* variables, the
// services point at each other's real ports, Grafana gets what the provisioning files
// read, Prometheus accepts its config, and the demo exporter's capture and command line
// are what they claim (tshark as the oracle for the capture).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateTraffic, which } from '@sluice/testkit';
import { demoFlows } from '../../deploy/demo/traffic.js';
import { exportCommand } from '../src/cli/commands/export.js';
import { applyEnvOverrides, ENV_VARIABLES } from '../src/config/env.js';
import { resolveConfig, validateConfig } from '../src/config/load.js';
import { PROVISIONING_DIR, REPO, readJson, readYaml } from './support/grafana-files.js';

interface Service {
  image?: string;
  build?: { context: string; target: string };
  environment?: Record<string, string> | string[];
  volumes?: string[];
  ports?: string[];
  command?: string[];
  cap_add?: string[];
  depends_on?: Record<string, { condition: string }>;
}

const compose = readYaml(join(REPO, 'docker-compose.yml')) as { services: Record<string, Service> };
const services = compose.services;
const PLUGIN_ID = String(readJson(join(REPO, 'grafana-plugin', 'src', 'plugin.json')).id);

/** Compose's own interpolation with no variables set: `${X:-default}` -> default. */
function interpolate(text: string): string {
  return text.replace(
    /\$\{(\w+)(?::?-([^}]*))?\}/g,
    (_, _name, def: string | undefined) => def ?? '',
  );
}

function env(name: string): Record<string, string> {
  const e = services[name]?.environment ?? {};
  const pairs = Array.isArray(e)
    ? e.map((x) => [x.slice(0, x.indexOf('=')), x.slice(x.indexOf('=') + 1)])
    : Object.entries(e);
  return Object.fromEntries(pairs.map(([k, v]) => [k, interpolate(String(v))]));
}

/** Bind mounts: [source relative to the repository, target]. */
function binds(name: string): [string, string][] {
  return (services[name]?.volumes ?? [])
    .filter((v) => v.startsWith('./'))
    .map((v) => {
      const [source, target] = v.split(':');
      return [(source as string).slice(2), target as string];
    });
}

function mountSource(name: string, target: string): string | undefined {
  return binds(name).find(([, t]) => t === target)?.[0];
}

test('compose: the stack has every part, and every bind-mounted path is in the repository', () => {
  for (const s of [
    'elasticsearch',
    'kibana',
    'grafana',
    'prometheus',
    'collector',
    'demo-exporter',
  ]) {
    assert.ok(services[s], `service ${s}`);
  }
  for (const [name] of Object.entries(services)) {
    for (const [source] of binds(name)) {
      if (source === 'grafana-plugin/dist') continue; // the plugin build's output, below
      assert.ok(existsSync(join(REPO, source)), `${name}: ${source} does not exist`);
    }
  }
  // The plugin is mounted from its build directory (README: build before compose up).
  const makefile = readFileSync(join(REPO, 'grafana-plugin', 'Makefile'), 'utf8');
  assert.match(makefile, /^DIST := dist$/m);
  const pkg = readJson(join(REPO, 'grafana-plugin', 'package.json')) as { scripts: object };
  assert.ok('build' in pkg.scripts || 'build:backend' in pkg.scripts);
});

test('compose: the collector environment is a valid configuration of real SLUICE_* variables', () => {
  const vars = env('collector');
  const known = new Set(ENV_VARIABLES.map((v) => v.name));
  const names = Object.keys(vars).filter((k) => k.startsWith('SLUICE_'));
  assert.ok(names.length >= 5);
  for (const n of names) assert.ok(known.has(n), `${n} is not a collect setting`);
  const { config } = applyEnvOverrides({}, vars);
  const c = resolveConfig(validateConfig(config));
  assert.equal(c.elasticsearch.url, 'http://elasticsearch:9200');
  // Reachable from other containers, so a token is required (16+ characters).
  assert.equal(c.http.host, '0.0.0.0');
  assert.ok(c.http.tokens.length === 1 && (c.http.tokens[0] as string).length >= 16);
  assert.equal(c.query.prometheusUrl, 'http://prometheus:9090');
  // The UDP ports published are the ports it listens on.
  const published = (services.collector?.ports ?? [])
    .filter((p) => p.endsWith('/udp'))
    .map((p) => Number(p.split(':').at(-1)?.replace('/udp', '')));
  assert.deepEqual(
    c.listen.map((l) => l.port),
    published,
  );
  const http = (services.collector?.ports ?? []).find((p) => !p.endsWith('/udp'));
  assert.equal(Number(http?.split(':').at(-1)), c.http.port);
});

test('compose: Grafana gets the plugin, the provisioning files and the variables they read', () => {
  const g = env('grafana');
  assert.ok(g.GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS?.split(',').includes(PLUGIN_ID));
  assert.equal(
    mountSource('grafana', `/var/lib/grafana/plugins/${PLUGIN_ID}`),
    'grafana-plugin/dist',
  );
  assert.equal(
    mountSource('grafana', '/etc/grafana/provisioning/datasources'),
    'grafana-plugin/provisioning/datasources',
  );
  assert.equal(
    mountSource('grafana', '/etc/grafana/provisioning/dashboards'),
    'grafana-plugin/provisioning/dashboards',
  );
  assert.equal(mountSource('grafana', '/etc/grafana/provisioning/alerting'), 'dashboards/alerting');
  // The dashboards are mounted where the provider reads them.
  const provider = (
    readYaml(join(PROVISIONING_DIR, 'dashboards', 'sluice.yaml')).providers as {
      options: { path: string };
    }[]
  )[0];
  assert.equal(mountSource('grafana', provider?.options.path ?? ''), 'dashboards/grafana');
  assert.ok(
    existsSync(
      join(
        REPO,
        'dashboards',
        'grafana',
        String(g.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).split('/').at(-1) ?? '',
      ),
    ),
  );
  // Every ${VAR} of the data source file is set, pointing at the services.
  const text = readFileSync(join(PROVISIONING_DIR, 'datasources', 'sluice.yaml'), 'utf8');
  const used = [...text.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1] as string);
  assert.deepEqual([...new Set(used)].sort(), [
    'SLUICE_API_TOKEN',
    'SLUICE_API_URL',
    'SLUICE_PROMETHEUS_URL',
  ]);
  for (const v of used) assert.ok(g[v], `grafana: ${v} not set`);
  const collector = env('collector');
  assert.equal(g.SLUICE_API_TOKEN, collector.SLUICE_HTTP_TOKENS, 'the same API token');
  assert.equal(
    new URL(g.SLUICE_API_URL as string).host,
    `collector:${collector.SLUICE_HTTP_LISTEN?.split(':')[1]}`,
  );
  assert.equal(g.SLUICE_PROMETHEUS_URL, collector.SLUICE_QUERY_PROMETHEUS_URL);
});

/** x.y.z as one comparable number. */
function versionNumber(text: string): number {
  const [a = 0, b = 0, c = 0] = text.split('.').map((n) => Number.parseInt(n, 10) || 0);
  return a * 1e6 + b * 1e3 + c;
}

/**
 * Whether a version satisfies a semver range of the forms plugin.json uses: alternatives
 * joined by `||`, each a space-separated list of `>=`, `>`, `<=`, `<`, `=`, `^` or `~`
 * comparators (or a bare version).
 */
function satisfies(version: string, range: string): boolean {
  const v = versionNumber(version);
  return range.split('||').some((alt) =>
    alt
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .every((c) => {
        const m = /^(>=|<=|>|<|=|\^|~)?v?(\d+(?:\.\d+){0,2})/.exec(c);
        if (!m) throw new Error(`range ${range}: cannot read ${c}`);
        const x = versionNumber(m[2] as string);
        const [major = 0, minor = 0] = (m[2] as string).split('.').map(Number);
        switch (m[1]) {
          case '>=':
            return v >= x;
          case '>':
            return v > x;
          case '<=':
            return v <= x;
          case '<':
            return v < x;
          case '^':
            return v >= x && v < (major + 1) * 1e6;
          case '~':
            return v >= x && v < major * 1e6 + (minor + 1) * 1e3;
          default:
            return v === x;
        }
      }),
  );
}

test("compose: the Grafana image's version satisfies the plugin's grafanaDependency", () => {
  const image = interpolate(String(services.grafana?.image));
  const version = /:(\d+\.\d+\.\d+)$/.exec(image)?.[1];
  assert.ok(version, image);
  const plugin = readJson(join(REPO, 'grafana-plugin', 'src', 'plugin.json')) as {
    dependencies: { grafanaDependency: string };
  };
  const range = plugin.dependencies.grafanaDependency;
  assert.ok(satisfies(version, range), `${image} does not satisfy ${range}`);
  // The reader itself.
  assert.ok(satisfies('13.1.1', '>=12.3.0 <14') && !satisfies('11.6.0', '^12.0.0 || ^13.0.0'));
});

test('compose: Prometheus accepts its config and scrapes the collector and the demo exporter', (t) => {
  const source = mountSource('prometheus', '/etc/prometheus/prometheus.yml');
  assert.ok(source);
  const config = readYaml(join(REPO, source)) as {
    scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
  };
  const targets = config.scrape_configs.flatMap((j) => j.static_configs.flatMap((s) => s.targets));
  assert.ok(targets.includes(`collector:${env('collector').SLUICE_HTTP_LISTEN?.split(':')[1]}`));
  const script = readFileSync(join(REPO, 'deploy', 'demo', 'run-exporter.sh'), 'utf8');
  const metricsPort = /--metrics\s+\S+:(\d+)/.exec(script)?.[1];
  assert.ok(targets.includes(`demo-exporter:${metricsPort}`));
  for (const target of targets) assert.ok(services[target.split(':')[0] as string], target);
  const promtool = which('promtool', ['/usr/bin/promtool']);
  if (!promtool) {
    t.diagnostic('promtool not installed: config syntax not checked');
    return;
  }
  const out = execFileSync(promtool, ['check', 'config', join(REPO, source)], { encoding: 'utf8' });
  assert.match(out, /SUCCESS/);
});

test('Dockerfile: the stages compose builds exist, and every COPY source is in the context', () => {
  const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
  const stages = [...dockerfile.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((m) => m[1]);
  for (const [name, s] of Object.entries(services)) {
    if (!s.build) continue;
    assert.equal(s.build.context, '.', name);
    assert.ok(stages.includes(s.build.target), `${name}: no stage ${s.build.target}`);
  }
  const ignore = readFileSync(join(REPO, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const excluded = (path: string) => {
    let out = false;
    for (const rule of ignore) {
      const negate = rule.startsWith('!');
      const pattern = (negate ? rule.slice(1) : rule).replace(/^\*\*\//, '');
      const re = new RegExp(
        `(^|/)${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\\\*/g, '[^/]*')}(/|$)`,
      );
      if (re.test(path)) out = !negate;
    }
    return out;
  };
  let copies = 0;
  for (const m of dockerfile.matchAll(/^COPY\s+(?!--from)(.+)$/gm)) {
    const parts = (m[1] as string).trim().split(/\s+/);
    for (const source of parts.slice(0, -1)) {
      assert.ok(existsSync(join(REPO, source)), `COPY ${source}: not in the repository`);
      assert.ok(!excluded(source), `COPY ${source}: excluded by .dockerignore`);
      copies += 1;
    }
  }
  assert.ok(copies >= 10, `${copies} COPY sources`);
  assert.ok(excluded('node_modules/x') && excluded('collector/dist') && !excluded('collector/src'));
});

test('demo exporter: its capture has the traffic the dashboards and the fan-out rule show', (t) => {
  const tshark = which('tshark', ['/usr/bin/tshark']);
  const g = generateTraffic(demoFlows(), { seed: 7 });
  if (!tshark) {
    t.skip('tshark is not installed (apt-get install -y tshark)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'sluice-demo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pcap = join(dir, 'demo.pcap');
  writeFileSync(pcap, g.pcap);
  const fields = (filter: string, field: string) =>
    execFileSync(tshark, ['-r', pcap, '-Y', filter, '-T', 'fields', '-e', field], {
      encoding: 'utf8',
    })
      .split('\n')
      .filter(Boolean);
  assert.equal(fields('frame', 'frame.number').length, g.frames);
  // One host sends bare SYNs to 60 addresses on port 22: the SSH fan-out.
  const probed = fields('ip.src == 10.66.6.6 && tcp.dstport == 22 && tcp.flags == 0x002', 'ip.dst');
  assert.equal(new Set(probed).size, 60);
  assert.ok(fields('tcp.dstport == 3389', 'ip.src').length > 0, 'RDP');
  assert.ok(fields('dns || udp.port == 53', 'ip.src').length > 0, 'DNS');
  assert.ok(fields('ipv6 && tcp.dstport == 443', 'ipv6.src').length > 0, 'IPv6 web');
});

test('demo exporter: its command line uses real `sluice export` options and the collector ports', () => {
  const demo = services['demo-exporter'];
  assert.deepEqual([...(demo?.cap_add ?? [])].sort(), ['NET_ADMIN', 'NET_RAW']);
  const script = readFileSync(join(REPO, 'deploy', 'demo', 'run-exporter.sh'), 'utf8');
  execFileSync('sh', ['-n', join(REPO, 'deploy', 'demo', 'run-exporter.sh')]);
  const exportPart = script.slice(script.indexOf('exec sluice export'));
  const flags = [...exportPart.matchAll(/\s(--[a-z-]+)/g)].map((m) => m[1] as string);
  const known = new Set(exportCommand().options.map((o) => o.long));
  assert.ok(flags.length >= 5);
  for (const f of flags) assert.ok(known.has(f), `sluice export has no ${f}`);
  // It sends to the collector service, on ports the collector listens on.
  assert.match(script, /COLLECTOR="\$\{DEMO_COLLECTOR:-collector\}"/);
  assert.equal(env('demo-exporter').DEMO_COLLECTOR, 'collector');
  const listen = env('collector')
    .SLUICE_LISTEN?.split(',')
    .map((l) => Number(l.split(':').at(-1)));
  const ports = [...exportPart.matchAll(/--to "\$COLLECTOR:(\d+),version=(\d+)"/g)];
  assert.ok(ports.length >= 1);
  for (const p of ports) assert.ok(listen?.includes(Number(p[1])), `port ${p[1]}`);
  // The image holds the capture the script replays.
  const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
  assert.ok(dockerfile.includes('/opt/sluice/demo/traffic.pcap'));
  assert.ok(script.includes('/opt/sluice/demo/traffic.pcap'));
});

test('compose: Kibana gets the saved objects imported from the repository file', () => {
  const setup = services['kibana-setup'];
  assert.ok(setup);
  const file = setup.command?.find((c) => c.startsWith('file=@'))?.slice('file=@'.length);
  assert.ok(file);
  const dir = file.slice(0, file.lastIndexOf('/'));
  const source = mountSource('kibana-setup', `${dir}:ro`) ?? mountSource('kibana-setup', dir);
  const fromVolumes = (setup.volumes ?? []).find((v) => v.split(':')[1] === dir)?.split(':')[0];
  const repoDir = (source ?? fromVolumes ?? '').replace(/^\.\//, '');
  assert.ok(existsSync(join(REPO, repoDir, file.slice(dir.length + 1))), file);
  assert.ok(setup.command?.some((c) => c.includes('/api/saved_objects/_import')));
});
