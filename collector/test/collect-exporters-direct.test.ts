// Issue 4, item 9: real exporters pointed straight at a running collector. softflowd
// (`-r pcap -n 127.0.0.1:PORT`) and pmacctd's nfprobe (`nfprobe_receiver`) read generated
// traffic whose per-flow totals are known and send their exports to the collector's own
// UDP port: no capture in between, so the exporters' real timing (softflowd sends every
// flow in one burst at end of file) reaches the collector as it is. Per exporter, the
// flow documents in Elasticsearch are exactly the generated flows (one each), with the
// generator's packets, bytes and ports, and the kernel dropped nothing on the socket.
// collect-exporters.test.ts keeps the capture-and-re-send variant (several exporters on
// one collector, each from its own loopback address, and Prometheus reading the counters).
// Exporter byte semantics (../../../shared/PEERS.md): softflowd counts everything after
// the link header (Ethernet padding included), pmacct the IP total length.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import {
  elasticsearchForTests,
  mixedFlows,
  needServer,
  requireBinary,
  waitFor,
  writeTraffic,
} from '@sluice/testkit';
import pino from 'pino';
import { Collector } from '../src/collect/collector.js';
import { resolveConfig, validateConfig } from '../src/config/load.js';
import { type FlowDoc, isIcmp, keyOfDoc, keyOfFlow } from './support/flow-keys.js';

const T0 = Date.UTC(2024, 4, 2, 9, 0, 0);

/** Runs an exporter to completion (its own process group, killed after timeoutMs). */
async function runToExit(
  command: string,
  args: string[],
  logFile: string,
  timeoutMs: number,
): Promise<void> {
  const fd = openSync(logFile, 'a');
  const child = spawn(command, args, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const timer = setTimeout(() => {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  }, timeoutMs);
  const code = await new Promise<number | string>((resolve) =>
    child.once('exit', (c, s) => resolve(c ?? s ?? 'unknown')),
  );
  clearTimeout(timer);
  if (code !== 0)
    throw new Error(
      `${command} exited with ${code}: ${readFileSync(logFile, 'utf8').slice(-2000)}`,
    );
}

interface Case {
  name: string;
  version: 9 | 10;
  bytes: 'ip' | 'link-payload';
  /** Runs the exporter over the pcap, sending to 127.0.0.1:port. */
  run(pcap: string, port: number, dir: string): Promise<void>;
}

function softflowd(version: 9 | 10): Case['run'] {
  return async (pcap, port, dir) => {
    const bin = requireBinary('softflowd', 'softflowd');
    const file = join(dir, `softflowd-v${version}`);
    // -c none: no control socket (quirk 1); -a -A milli: capture timestamps (quirk 2).
    const args = ['-r', pcap, '-a', '-d', '-c', 'none', '-p', `${file}.pid`];
    args.push('-v', String(version), '-A', 'milli', '-6', '-n', `127.0.0.1:${port}`);
    await runToExit(bin, args, `${file}.log`, 20_000);
  };
}

function nfprobe(version: 9 | 10): Case['run'] {
  return async (pcap, port, dir) => {
    const bin = requireBinary('pmacctd', 'pmacct');
    const file = join(dir, `pmacct-nfprobe-v${version}`);
    writeFileSync(
      `${file}.conf`,
      [
        'daemonize: false',
        `pcap_savefile: ${pcap}`,
        `pidfile: ${file}.pid`,
        'plugins: nfprobe[nf]',
        `nfprobe_receiver[nf]: 127.0.0.1:${port}`,
        `nfprobe_version[nf]: ${version}`,
        'aggregate[nf]: src_host, dst_host, src_port, dst_port, proto, tos, vlan, tcpflags',
        '',
      ].join('\n'),
    );
    // pmacctd sleeps 2 s after opening a savefile, reads it, exports and exits.
    await runToExit(bin, ['-f', `${file}.conf`], `${file}.log`, 30_000);
  };
}

const CASES: Case[] = [
  { name: 'softflowd v9', version: 9, bytes: 'link-payload', run: softflowd(9) },
  { name: 'softflowd IPFIX', version: 10, bytes: 'link-payload', run: softflowd(10) },
  { name: 'pmacct nfprobe v9', version: 9, bytes: 'ip', run: nfprobe(9) },
  { name: 'pmacct nfprobe IPFIX', version: 10, bytes: 'ip', run: nfprobe(10) },
];

/** Sum of a Prometheus series over every label set. */
function metricSum(text: string, name: string): number {
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce(
    (a, m) => a + Number(m[1]),
    0,
  );
}

for (const c of CASES) {
  test(`collect: ${c.name} sends straight to a running collector; documents = generated flows`, async (t) => {
    const es = await needServer(t, elasticsearchForTests);
    if (!es) return;
    const dir = mkdtempSync(join(tmpdir(), 'sluice-direct-'));
    const client = new Client({ node: es.url });
    const dataStream = `logs-netflow.sluicedirect${c.version}${c.bytes === 'ip' ? 'p' : 's'}${process.pid}-default`;
    t.after(async () => {
      await client.indices.deleteDataStream({ name: dataStream }).catch(() => {});
      await client.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const traffic = join(dir, 'traffic.pcap');
    const generated = writeTraffic(traffic, mixedFlows(T0), { seed: 20240502 });

    const collector = await Collector.start(
      resolveConfig(
        validateConfig({
          listen: [{ port: 0, address: '127.0.0.1' }],
          data_dir: join(dir, 'data'),
          workers: 1,
          http: { listen: '127.0.0.1:0' },
          elasticsearch: { url: es.url, data_stream: dataStream, bulk_interval: 200 },
          journal: { fsync: 'never' },
        }),
      ),
      pino({ level: 'silent' }),
    );
    t.after(() => collector.stop());
    const port = collector.ports[0] as number;

    // A missing exporter binary skips the test (outside CI).
    const ran = await needServer(t, async () => {
      await c.run(traffic, port, dir);
      return true;
    });
    if (!ran) return;

    const flowQuery = { bool: { filter: [{ term: { 'netflow.exporter.version': c.version } }] } };
    const countFlows = async () => {
      await client.indices.refresh({ index: dataStream }, { ignore: [404] });
      const r = await client.count(
        {
          index: dataStream,
          query: {
            bool: {
              filter: [...flowQuery.bool.filter, { wildcard: { 'netflow.type': '*_flow' } }],
            },
          },
        },
        { ignore: [404] },
      );
      return r.count ?? 0;
    };
    const want = generated.flows.length;
    await waitFor(async () => ((await countFlows()) >= want ? true : undefined), {
      what: `${want} flow documents from ${c.name}`,
      timeoutMs: 60_000,
      intervalMs: 500,
    });
    // Settle: a duplicate or an extra record would show up now.
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(await countFlows(), want, `${c.name}: flow documents = generated flows`);

    const res = await client.search<FlowDoc>({
      index: dataStream,
      size: 10_000,
      query: {
        bool: { filter: [...flowQuery.bool.filter, { wildcard: { 'netflow.type': '*_flow' } }] },
      },
      _source: ['source', 'destination', 'network', 'icmp'],
    });
    const byKey = new Map<string, FlowDoc[]>();
    for (const h of res.hits.hits) {
      const d = h._source as FlowDoc;
      byKey.set(keyOfDoc(d), [...(byKey.get(keyOfDoc(d)) ?? []), d]);
    }
    for (const f of generated.flows) {
      const k = keyOfFlow(f);
      const docs = byKey.get(k) ?? [];
      assert.equal(docs.length, 1, `${c.name}: ${k} indexed once`);
      const d = docs[0] as FlowDoc;
      assert.equal(d.network?.packets, f.packets, `${c.name}: ${k} packets`);
      const bytes = c.bytes === 'ip' ? f.bytes : f.linkPayloadBytes;
      assert.equal(d.network?.bytes, bytes, `${c.name}: ${k} bytes (${c.bytes})`);
      if (!isIcmp(f.protocol)) {
        assert.equal(d.source?.port, f.srcPort, `${c.name}: ${k} source.port`);
        assert.equal(d.destination?.port, f.dstPort, `${c.name}: ${k} destination.port`);
      }
    }

    // The collector's own view: nothing dropped by the kernel, nothing undecodable.
    const text = await (await fetch(`${collector.apiUrl}/metrics`)).text();
    assert.equal(metricSum(text, 'sluice_udp_drops_total'), 0, 'kernel drops on the socket');
    assert.equal(metricSum(text, 'sluice_decode_errors_total'), 0, 'decode errors');
    assert.equal(metricSum(text, 'sluice_flow_records_total'), want, 'flow records counted');
  });
}
