// `sluice export` metrics and YAML configuration. (1) In-process: a generated pcap with
// known totals is exported to a test socket and to a refused port; a scrape of /metrics
// must show the generator's packet and flow counts, and per destination exactly the
// datagrams and bytes the test socket received. (2) Through the CLI: the same settings
// from a YAML file, a flag overriding the file, and bad files whose errors name the key.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { mixedFlows, writeTraffic } from '@sluice/testkit';
import { SoftwareExporter } from '../src/exporter/exporter.js';
import { startExportMetrics } from '../src/exporter/metrics.js';
import { captureFile, feedCapture } from '../src/exporter/source.js';
import { FlowDecoder } from '../src/flow/decoder.js';
import { runExportCli } from './export-cli.test-helpers.js';

const DIR = mkdtempSync(join(tmpdir(), 'sluice-export-mc-'));
after(() => rmSync(DIR, { recursive: true, force: true }));
const TRAFFIC = join(DIR, 'traffic.pcap');
const G = writeTraffic(TRAFFIC, mixedFlows(Date.UTC(2024, 5, 1, 8)), { seed: 11 });
const FRAME_BYTES = G.flows.reduce((n, f) => n + f.frameBytes, 0);

async function receiver() {
  const socket = createSocket('udp4');
  const got: Uint8Array[] = [];
  socket.on('message', (m) => got.push(new Uint8Array(m)));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  return { socket, port: socket.address().port, got };
}

async function closedPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Prometheus text: the value of the one series of `name` whose labels include `labels`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const found = text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .filter((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  assert.equal(found.length, 1, `one series ${name} ${JSON.stringify(labels)}:\n${text}`);
  return Number((found[0] as string).trim().split(' ').at(-1));
}

describe('sluice export: OpenTelemetry metrics', () => {
  it('a scrape after a known pcap shows the exact totals, per destination', async () => {
    const rx = await receiver();
    const refused = await closedPort();
    const exporter = new SoftwareExporter({
      targets: [
        { host: '127.0.0.1', port: rx.port, version: 9 },
        { host: '127.0.0.1', port: refused, version: 10 },
      ],
      maxDatagramBytes: 500,
    });
    const server = await startExportMetrics(() => exporter.stats(), {
      host: '127.0.0.1',
      port: 0,
    });
    try {
      const end = await feedCapture(exporter, captureFile(TRAFFIC));
      assert.equal(end.error, undefined);
      await exporter.finish();
      await new Promise((r) => setTimeout(r, 200));
      const res = await fetch(server.url);
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.equal(sample(text, 'sluice_export_packets_total'), G.frames);
      assert.equal(sample(text, 'sluice_export_observed_bytes_total'), FRAME_BYTES);
      assert.equal(sample(text, 'sluice_export_flows_exported_total'), G.flows.length);
      assert.equal(sample(text, 'sluice_export_flows_active'), 0);
      const good = { sluice_export_destination: `127.0.0.1:${rx.port}` };
      assert.equal(sample(text, 'sluice_export_datagrams_total', good), rx.got.length);
      assert.ok(rx.got.length > 1, 'several datagrams');
      assert.equal(
        sample(text, 'sluice_export_bytes_total', good),
        rx.got.reduce((n, d) => n + d.length, 0),
      );
      assert.equal(sample(text, 'sluice_export_flows_sent_total', good), G.flows.length);
      assert.doesNotMatch(text, new RegExp(`sluice_export_errors_total\\{[^}]*${rx.port}`));
      const bad = { sluice_export_destination: `127.0.0.1:${refused}`, error_type: 'ECONNREFUSED' };
      assert.ok(sample(text, 'sluice_export_errors_total', bad) > 0, 'refusals counted');
      // A refused port is only known from the ICMP error after a send: the first ones count
      // as sent, the later ones as errors.
      assert.ok(
        sample(text, 'sluice_export_datagrams_total', {
          sluice_export_destination: `127.0.0.1:${refused}`,
        }) > 0,
      );
      // What the test socket received decodes to the generator's totals.
      const decoder = new FlowDecoder();
      const flows = rx.got
        .flatMap((b) => decoder.decode({ bytes: b, exporter: '127.0.0.1', receivedMs: 0 }).records)
        .filter((r) => r.kind === 'flow');
      assert.equal(flows.length, G.flows.length);
      assert.equal(
        flows.reduce((n, r) => n + (r.packets ?? 0), 0),
        G.frames,
      );
      assert.equal((await fetch(server.url.replace('/metrics', '/other'))).status, 404);
    } finally {
      await server.close();
      rx.socket.close();
    }
  });
});

const runCli = (args: readonly string[]) => runExportCli(args);

describe('sluice export --config FILE (YAML)', () => {
  it('the settings come from the file; a flag given wins over it', async () => {
    const a = await receiver();
    const b = await receiver();
    try {
      const file = join(DIR, 'export.yaml');
      writeFileSync(
        file,
        [
          `pcap: ${TRAFFIC}`,
          'to:',
          `  - 127.0.0.1:${a.port},version=10`,
          `  - { host: 127.0.0.1, port: ${b.port}, version: 5 }`,
          'if_index: 3',
          'domain: 42',
          'stats_interval: 0',
          '',
        ].join('\n'),
      );
      for (const [args, ifIndex] of [
        [[], 3],
        [['--if-index', '8'], 8],
      ] as const) {
        a.got.length = 0;
        b.got.length = 0;
        const res = await runCli(['--config', file, ...args]);
        assert.equal(res.code, 0, res.stderr);
        assert.match(res.stderr, new RegExp(`final: packets ${G.frames} `));
        await new Promise((r) => setTimeout(r, 200));
        const decoder = new FlowDecoder();
        const decode = (got: Uint8Array[]) =>
          got
            .flatMap(
              (d) => decoder.decode({ bytes: d, exporter: '127.0.0.1', receivedMs: 0 }).records,
            )
            .filter((r) => r.kind === 'flow');
        const ipfix = decode(a.got);
        const v5 = decode(b.got);
        assert.equal(ipfix.length, G.flows.length, 'IPFIX: every flow');
        assert.equal(v5.length, G.flows.filter((f) => f.ipVersion === 4).length, 'v5: IPv4 flows');
        for (const r of [...ipfix, ...v5]) assert.equal(r.inInterface, ifIndex);
        // IPFIX observation domain from the file: bytes 12-15 of the header.
        const first = a.got[0] as Uint8Array;
        assert.equal(new DataView(first.buffer, first.byteOffset).getUint32(12), 42);
      }
    } finally {
      a.socket.close();
      b.socket.close();
    }
  });

  it('a bad file is refused with the key and the problem', async () => {
    const cases: [string, RegExp][] = [
      ['inactive_timeout: -1\n', /inactive_timeout: .*(greater|>)/i],
      ['to: ["127.0.0.1:2055,version=7"]\n', /key to\.0: .*version must be 5, 9 or 10/],
      ['to: [{ host: h, port: 70000 }]\n', /to\.0\.port/],
      ['pcap: x\ncolour: blue\n', /colour/],
      ['if_index: eth0\n', /if_index/],
      ['metrics: nowhere\n', /key metrics: expected HOST:PORT/],
      ['to: [\n', /not valid YAML/],
    ];
    for (const [text, message] of cases) {
      const file = join(DIR, 'bad.yaml');
      writeFileSync(file, text);
      const res = await runCli(['--config', file]);
      assert.equal(res.code, 2, `${text}: exit code`);
      assert.match(res.stderr, message, text);
      assert.match(res.stderr, /bad\.yaml/, 'names the file');
      assert.doesNotMatch(res.stderr, /^\s+at /m, 'no stack trace');
    }
    const missing = await runCli(['--config', join(DIR, 'none.yaml')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read config file/);
  });
});
