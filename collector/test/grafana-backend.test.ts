// The Grafana data source backend (Go, grafana-plugin/) against a real collector: this
// test starts Elasticsearch and `sluice collect` with a query token, sends known export
// datagrams, then runs the plugin's Go integration test (go test -tags integration),
// which queries the collector exactly as Grafana would, panels and alert rules alike.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@elastic/elasticsearch';
import {
  elasticsearchForTests,
  needServer,
  PCAPS_DIR,
  ServerUnavailableError,
  waitFor,
  which,
} from '@sluice/testkit';
import pino from 'pino';
import { Collector } from '../src/collect/collector.js';
import { resolveConfig, validateConfig } from '../src/config/load.js';
import { datagramsFromCaptures } from '../src/ingest/capture-source.js';

const PLUGIN = fileURLToPath(new URL('../../grafana-plugin', import.meta.url));
const TOKEN = 'grafana-backend-test-token-0123456789';

function goBinary(): string {
  const go = which('go', ['/usr/local/go/bin/go']);
  if (!go)
    throw new ServerUnavailableError('the Go toolchain is needed for the Grafana plugin backend');
  return go;
}

test('Grafana backend: health, fields, time series (panel and alert), top-N, records, values', async (t) => {
  const go = await needServer(t, async () => goBinary());
  const es = await needServer(t, elasticsearchForTests);
  if (!go || !es) return;
  const client = new Client({ node: es.url });
  const dataStream = `logs-netflow.sluicegrafana${process.pid}-default`;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-grafana-'));
  t.after(async () => {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const collector = await Collector.start(
    resolveConfig(
      validateConfig({
        listen: [{ port: 0, address: '127.0.0.1' }],
        data_dir: dir,
        workers: 1,
        http: { listen: '127.0.0.1:0', tokens: [TOKEN] },
        elasticsearch: { url: es.url, data_stream: dataStream, bulk_interval: 200 },
      }),
    ),
    pino({ level: 'silent' }),
  );
  t.after(() => collector.stop());
  // The v5 capture: 29 flows on 2023-04-04.
  const s = createSocket('udp4');
  for (const d of datagramsFromCaptures([join(PCAPS_DIR, 'akvorado', 'netflow', 'nfv5.pcap')])) {
    await new Promise<void>((r, j) =>
      s.send(d.bytes, collector.ports[0] as number, '127.0.0.1', (e) => (e ? j(e) : r())),
    );
  }
  s.close();
  await waitFor(
    async () => {
      await client.indices.refresh({ index: dataStream }, { ignore: [404] });
      const c = await client.count({ index: dataStream }, { ignore: [404] });
      return c.count === 29 ? true : undefined;
    },
    { what: '29 documents', timeoutMs: 60_000, intervalMs: 500 },
  );
  // Asynchronously: the collector answering the Go test runs in this very process.
  const res = await new Promise<{ status: number | null; stdout: string; stderr: string }>(
    (resolve) => {
      const child = spawn(
        go,
        ['test', '-tags', 'integration', '-count=1', '-v', '-run', 'Integration', './...'],
        {
          cwd: PLUGIN,
          env: {
            ...process.env,
            SLUICE_API_URL: collector.apiUrl,
            SLUICE_API_TOKEN: TOKEN,
            SLUICE_TEST_FROM: '2023-04-04T00:00:00Z',
            SLUICE_TEST_TO: '2023-04-05T00:00:00Z',
            SLUICE_TEST_FLOWS: '1',
          },
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => {
        stdout += b.toString();
      });
      child.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
      child.on('close', (status) => {
        clearTimeout(timer);
        resolve({ status, stdout, stderr });
      });
    },
  );
  process.stdout.write(res.stdout);
  assert.equal(res.status, 0, `${res.stdout}\n${res.stderr}`);
  assert.match(res.stdout, /--- PASS: TestIntegration/);
  assert.doesNotMatch(res.stdout, /--- SKIP/);
});
