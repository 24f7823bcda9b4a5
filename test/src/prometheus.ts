import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerUnavailableError } from './errors.js';
import { freePort } from './ports.js';
import { startProcess } from './process.js';
import { which } from './which.js';

export interface ScrapeTarget {
  job: string;
  /** host:port */
  target: string;
  metricsPath?: string;
}

export interface PrometheusOptions {
  targets: readonly ScrapeTarget[];
  /** Scrape interval in seconds; short so tests see data quickly. */
  scrapeIntervalSeconds?: number;
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface PrometheusServer {
  readonly url: string;
  /** Instant query through Prometheus's HTTP API. */
  query(expr: string): Promise<PromSample[]>;
  stop(): Promise<void>;
  logTail(lines?: number): string;
}

/** Prometheus's own config format, written by hand to keep the harness dependency-free. */
function scrapeConfig(opts: PrometheusOptions): string {
  const interval = `${opts.scrapeIntervalSeconds ?? 1}s`;
  const jobs = opts.targets.map((t) =>
    [
      `  - job_name: ${JSON.stringify(t.job)}`,
      `    metrics_path: ${JSON.stringify(t.metricsPath ?? '/metrics')}`,
      '    static_configs:',
      `      - targets: [${JSON.stringify(t.target)}]`,
    ].join('\n'),
  );
  return [
    'global:',
    `  scrape_interval: ${interval}`,
    `  evaluation_interval: ${interval}`,
    'scrape_configs:',
    ...jobs,
    '',
  ].join('\n');
}

/**
 * Starts a real Prometheus (Debian's package) on a free loopback port with a
 * generated scrape config and its TSDB in a temp dir; ready when /-/ready says so.
 */
export async function startPrometheus(opts: PrometheusOptions): Promise<PrometheusServer> {
  const bin = which('prometheus', ['/usr/bin/prometheus']);
  if (!bin) {
    throw new ServerUnavailableError('Prometheus is not installed: apt-get install -y prometheus');
  }
  const dir = mkdtempSync(join(tmpdir(), 'sluice-prom-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, scrapeConfig(opts));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = await startProcess({
    name: 'prometheus',
    command: bin,
    args: [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=info',
    ],
    cwd: dir,
    logFile: join(dir, 'prometheus.log'),
    ready: async () => (await fetch(`${url}/-/ready`)).ok,
    readyTimeoutMs: 60_000,
  });
  return {
    url,
    async query(expr) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await res.json()) as {
        status: string;
        error?: string;
        data?: { resultType: string; result: PromSample[] };
      };
      if (body.status !== 'success' || !body.data) {
        throw new Error(`Prometheus query ${expr} failed: ${body.error ?? res.status}`);
      }
      return body.data.result;
    },
    logTail: (n) => proc.logTail(n),
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
