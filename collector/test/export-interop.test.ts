// `sluice export` against real collectors: a generated pcap with known per-flow totals is
// exported (a) through the CLI to nfcapd (nfdump from Debian) as NetFlow v5, v9 and IPFIX
// at once, and nfdump's records must match the generator's totals; (b) in-process to test
// sockets, decoded by Sluice's FlowDecoder, same checks plus sequence numbers and
// sampling; (c) with unreachable destinations beside the working ones, which still get
// everything. Expected values come from the generator, never from the exporter.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  type ExpectedFlow,
  freePort,
  type ManagedProcess,
  mixedFlows,
  needServer,
  ServerUnavailableError,
  startProcess,
  which,
  writeTraffic,
} from '@sluice/testkit';
import { type ExporterStats, SoftwareExporter, type Target } from '../src/exporter/exporter.js';
import { captureFile, feedCapture } from '../src/exporter/source.js';
import { FlowDecoder } from '../src/flow/decoder.js';
import type { FlowRecord } from '../src/flow/record.js';
import { runExportCli } from './export-cli.test-helpers.js';

/** A quarter millisecond past the second: truncation to whole ms shows. */
const T0 = Date.UTC(2024, 4, 1, 12, 0, 0) + 0.25;
const DIR = mkdtempSync(join(tmpdir(), 'sluice-export-'));
after(() => rmSync(DIR, { recursive: true, force: true }));
const TRAFFIC = join(DIR, 'traffic.pcap');
const GENERATED = writeTraffic(TRAFFIC, mixedFlows(T0), { seed: 20240507 });
const IF_INDEX = 3;

const isIcmp = (p: number) => p === 1 || p === 58;
const versionName = (v: 5 | 9 | 10) => (v === 10 ? 'IPFIX' : `NetFlow v${v}`);

function expectedFor(version: 5 | 9 | 10): ExpectedFlow[] {
  return GENERATED.flows.filter((f) => version !== 5 || f.ipVersion === 4);
}

function keyOf(
  src: string,
  dst: string,
  proto: number,
  a: number | undefined,
  b: number | undefined,
  vlan: number | undefined,
): string {
  return `${src} ${a} > ${dst} ${b} proto ${proto} vlan ${vlan ?? 0}`;
}

function expectedKey(f: ExpectedFlow, vlan: boolean): string {
  const icmp = isIcmp(f.protocol);
  return keyOf(
    f.src,
    f.dst,
    f.protocol,
    icmp ? f.icmpType : f.srcPort,
    icmp ? f.icmpCode : f.dstPort,
    vlan ? f.vlan : 0,
  );
}

/** Whole ms as exported: never later than the packet, less than 1 ms earlier. */
function assertMs(actual: number, expected: number, what: string): void {
  assert.ok(
    actual <= expected + 1e-6 && actual > expected - 1,
    `${what}: ${new Date(actual).toISOString()} for a packet at ${expected}`,
  );
}

/** nfdump's tcp_flags text, 8 positions C E U A P R S F. */
function flagsText(flags: number): string {
  return 'CEUAPRSF'
    .split('')
    .map((c, i) => (flags & (0x80 >> i) ? c : '.'))
    .join('');
}

// ---------------------------------------------------------------- (a) nfcapd / nfdump

interface NfdumpRecord {
  first: string;
  last: string;
  in_packets: number;
  in_bytes: number;
  proto: number;
  src_port?: number;
  dst_port?: number;
  icmp_type?: number;
  icmp_code?: number;
  src4_addr?: string;
  dst4_addr?: string;
  src6_addr?: string;
  dst6_addr?: string;
  src_tos: number;
  tcp_flags?: string;
  src_vlan: number;
  input_snmp: number;
  type: string;
}

const nfdumpMs = (t: string) => Date.parse(`${t}Z`);

async function startNfcapd(dir: string, port: number): Promise<ManagedProcess> {
  const nfcapd = which('nfcapd');
  if (!nfcapd || !which('nfdump'))
    throw new ServerUnavailableError('nfcapd/nfdump are not installed: apt-get install -y nfdump');
  mkdirSync(dir, { recursive: true });
  const logFile = `${dir}.log`;
  return startProcess({
    name: `nfcapd :${port}`,
    command: nfcapd,
    args: ['-b', '127.0.0.1', '-p', String(port), '-w', dir, '-t', '3600', '-P', `${dir}.pid`],
    env: { ...process.env, TZ: 'UTC' },
    logFile,
    ready: async () => readFileSync(logFile, 'utf8').includes('Startup'),
    readyTimeoutMs: 10_000,
    pollMs: 100,
  });
}

function nfdumpRecords(dir: string): NfdumpRecord[] {
  const out = execFileSync('nfdump', ['-R', dir, '-o', 'json'], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC' },
    maxBuffer: 16 << 20,
  });
  if (out.includes('No matching flows')) return [];
  return (JSON.parse(out) as NfdumpRecord[]).filter((r) => r.type === 'FLOW');
}

describe('sluice export to nfcapd (nfdump decodes)', () => {
  it('NetFlow v5, v9 and IPFIX at once, plus an unreachable destination: every flow with its totals', async (t) => {
    const versions = [5, 9, 10] as const;
    const servers: ManagedProcess[] = [];
    try {
      const ports: number[] = [];
      for (const v of versions) {
        const port = await freePort();
        const proc = await needServer(t, () => startNfcapd(join(DIR, `nf${v}`), port));
        if (!proc) return;
        servers.push(proc);
        ports.push(port);
      }
      const run = await runExportCli([
        '--pcap',
        TRAFFIC,
        ...versions.flatMap((v, i) => ['--to', `127.0.0.1:${ports[i]},version=${v}`]),
        '--to',
        '127.0.0.1:9,version=10',
        '--if-index',
        String(IF_INDEX),
        '--stats-interval',
        '0',
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(
        run.stderr,
        /NetFlow v5 cannot carry IPv6/,
        'one clear message about IPv6 and v5',
      );
      assert.equal(run.stderr.match(/cannot carry IPv6/g)?.length, 1, 'said once');
      assert.match(run.stderr, /final: packets 428 /, 'final statistics');
      assert.match(run.stderr, /export bytes \/ observed bytes \d+\/\d+ = \d+\.\d\d%/);
      // Give nfcapd a moment to take the last datagrams, then SIGTERM writes its file.
      await new Promise((r) => setTimeout(r, 300));
      for (const s of servers) await s.stop();
      versions.forEach((v, i) => {
        const records = nfdumpRecords(join(DIR, `nf${v}`));
        const expected = expectedFor(v);
        const vlan = v !== 5;
        const byKey = new Map<string, NfdumpRecord[]>();
        for (const r of records) {
          const icmp = isIcmp(r.proto);
          const k = keyOf(
            (r.src4_addr ?? r.src6_addr) as string,
            (r.dst4_addr ?? r.dst6_addr) as string,
            r.proto,
            icmp ? r.icmp_type : r.src_port,
            icmp ? r.icmp_code : r.dst_port,
            r.src_vlan,
          );
          byKey.set(k, [...(byKey.get(k) ?? []), r]);
        }
        for (const f of expected) {
          const key = `${versionName(v)} ${expectedKey(f, vlan)}`;
          const found = byKey.get(expectedKey(f, vlan)) ?? [];
          assert.equal(found.length, 1, `${key}: exported once (server ${i})`);
          const r = found[0] as NfdumpRecord;
          assert.equal(r.in_packets, f.packets, `${key}: packets`);
          assert.equal(r.in_bytes, f.bytes, `${key}: bytes`);
          assert.equal(r.src_tos, f.tos, `${key}: tos`);
          assert.equal(r.input_snmp, IF_INDEX, `${key}: input interface`);
          if (f.protocol === 6)
            assert.equal(r.tcp_flags, flagsText(f.tcpFlags ?? 0), `${key}: flags`);
          assertMs(nfdumpMs(r.first), f.firstMs, `${key}: first`);
          assertMs(nfdumpMs(r.last), f.lastMs, `${key}: last`);
        }
        assert.equal(records.length, expected.length, `${versionName(v)}: no other records`);
      });
    } finally {
      for (const s of servers) await s.stop();
    }
  });
});

// ------------------------------------------------- (b), (c) Sluice's own FlowDecoder

interface Received {
  bytes: Uint8Array;
  receivedMs: number;
  address: string;
  port: number;
}

async function receiver(): Promise<{ socket: Socket; port: number; got: Received[] }> {
  const socket = createSocket('udp4');
  const got: Received[] = [];
  socket.on('message', (msg, rinfo) =>
    got.push({
      bytes: new Uint8Array(msg),
      receivedMs: Date.now(),
      address: rinfo.address,
      port: rinfo.port,
    }),
  );
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, port: socket.address().port, got };
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function exportInProcess(
  targets: Target[],
  opts: { sampleEvery?: number; inactiveTimeoutMs?: number } = {},
): Promise<ExporterStats> {
  const exporter = new SoftwareExporter({
    targets,
    sampleEvery: opts.sampleEvery,
    cache: { inactiveTimeoutMs: opts.inactiveTimeoutMs ?? 15_000 },
    ifIndex: { kind: 'fixed', inIf: IF_INDEX, outIf: 0 },
    domain: 7,
    // Small datagrams and a refresh every 2 messages: several datagrams, templates repeated.
    maxDatagramBytes: 600,
    templateRefreshPackets: 2,
  });
  const end = await feedCapture(exporter, captureFile(TRAFFIC));
  assert.equal(end.error, undefined);
  await exporter.finish();
  return exporter.stats();
}

function decodeReceived(got: Received[]) {
  const decoder = new FlowDecoder();
  const records: FlowRecord[] = [];
  const issues: string[] = [];
  for (const d of got) {
    const out = decoder.decode({
      bytes: d.bytes,
      exporter: d.address,
      exporterPort: d.port,
      receivedMs: d.receivedMs,
    });
    records.push(...out.records);
    for (const i of out.issues) issues.push(`${i.reason}: ${i.message}`);
  }
  return { records, issues, stats: [...decoder.exporterStats()], drained: decoder.drain() };
}

function checkRecords(v: 5 | 9 | 10, records: FlowRecord[]): void {
  const flows = records.filter((r) => r.kind === 'flow');
  const expected = expectedFor(v);
  const vlan = v !== 5;
  const byKey = new Map<string, FlowRecord[]>();
  for (const r of flows) {
    const icmp = isIcmp(r.protocol ?? -1);
    const k = keyOf(
      r.srcAddr ?? '',
      r.dstAddr ?? '',
      r.protocol ?? -1,
      icmp ? r.icmpType : r.srcPort,
      icmp ? r.icmpCode : r.dstPort,
      vlan ? (r.vlan ?? 0) : 0,
    );
    byKey.set(k, [...(byKey.get(k) ?? []), r]);
  }
  for (const f of expected) {
    const key = `${versionName(v)} ${expectedKey(f, vlan)}`;
    const found = byKey.get(expectedKey(f, vlan)) ?? [];
    assert.equal(found.length, 1, `${key}: exported once`);
    const r = found[0] as FlowRecord;
    assert.equal(r.packets, f.packets, `${key}: packets`);
    assert.equal(r.bytes, f.bytes, `${key}: bytes`);
    assert.equal(r.ipVersion, f.ipVersion, `${key}: IP version`);
    assert.equal(r.tos, f.tos, `${key}: tos`);
    assert.equal(r.tcpFlags ?? 0, f.tcpFlags ?? 0, `${key}: TCP flags`);
    assert.equal(r.inInterface, IF_INDEX, `${key}: ingress ifIndex`);
    assertMs(r.startMs ?? Number.NaN, f.firstMs, `${key}: start`);
    assertMs(r.endMs ?? Number.NaN, f.lastMs, `${key}: end`);
  }
  assert.equal(flows.length, expected.length, `${versionName(v)}: no other flow records`);
}

describe('sluice export to test sockets (Sluice decodes)', () => {
  it('v5, v9 and IPFIX: totals, sequence numbers without gaps, templates repeated; unreachable destinations do not stall the others', async () => {
    const rx = await Promise.all([receiver(), receiver(), receiver()]);
    try {
      const versions = [5, 9, 10] as const;
      const refused = await closedPort();
      const stats = await exportInProcess(
        [
          { host: '127.0.0.1', port: refused, version: 9 },
          ...versions.map((version, i) => ({
            host: '127.0.0.1',
            port: (rx[i] as { port: number }).port,
            version,
          })),
          { host: '127.0.0.1', port: 9, version: 5 },
        ],
        // Flows time out in capture time: most leave before the end of the file.
        { inactiveTimeoutMs: 200 },
      );
      assert.ok((stats.expiredBy.inactive ?? 0) > 0, 'flows expired in capture time');
      assert.ok((stats.expiredBy.flush ?? 0) > 0, 'the rest flushed at the end of the file');
      assert.equal(stats.packets, GENERATED.frames);
      assert.equal(stats.flowsExported, GENERATED.flows.length);
      await new Promise((r) => setTimeout(r, 200));
      versions.forEach((v, i) => {
        const got = (rx[i] as { got: Received[] }).got;
        const d = stats.destinations[i + 1];
        assert.ok(d);
        assert.equal(got.length, d.datagrams, `${versionName(v)}: every datagram arrived`);
        assert.ok(got.length >= 3, `${versionName(v)}: several datagrams (${got.length})`);
        assert.equal(d.errors, 0);
        const decoded = decodeReceived(got);
        assert.deepEqual(decoded.issues, [], `${versionName(v)}: decodes cleanly`);
        assert.equal(decoded.drained, 0, 'no data without its template');
        const [, es] = decoded.stats[0] as [string, (typeof decoded.stats)[0][1]];
        assert.equal(es.sequenceGaps, 0, `${versionName(v)}: no sequence gaps`);
        assert.equal(es.sequenceResets, 0, `${versionName(v)}: no sequence resets`);
        checkRecords(v, decoded.records);
        if (v === 5) assert.equal(d.ipv6Skipped, 4, 'IPv6 flows counted, not sent to v5');
        if (v !== 5) {
          // Templates in the first datagram and again every 2 (template set id 0 / 2).
          const setId = v === 9 ? 0 : 2;
          const headerLen = v === 9 ? 20 : 16;
          const withTemplates = got.map(
            (g) => new DataView(g.bytes.buffer, g.bytes.byteOffset).getUint16(headerLen) === setId,
          );
          withTemplates.forEach((w, k) => {
            assert.equal(w, k % 2 === 0, `datagram ${k}: templates`);
          });
        }
        // Exporter uptime counts from the start of the run: the first packet's second.
        const first = decoded.records[0]?.exporter;
        if (v !== 10) {
          assert.ok(first?.uptimeMs !== undefined && first.exportTimeMs !== undefined);
          assert.equal(first.exportTimeMs - first.uptimeMs, Math.floor(T0 / 1000) * 1000, 'boot');
        }
      });
      for (const bad of [stats.destinations[0], stats.destinations[4]]) {
        assert.ok(bad && bad.errors > 0, `unreachable ${bad?.target.port}: errors counted`);
        assert.ok((bad?.errorCodes.ECONNREFUSED ?? 0) > 0, 'as ECONNREFUSED');
      }
    } finally {
      for (const r of rx) r.socket.close();
    }
  });

  it('1-in-N sampling: every Nth packet counted, the interval announced in each format', async () => {
    const rx = await Promise.all([receiver(), receiver(), receiver()]);
    try {
      const versions = [5, 9, 10] as const;
      const stats = await exportInProcess(
        versions.map((version, i) => ({
          host: '127.0.0.1',
          port: (rx[i] as { port: number }).port,
          version,
        })),
        { sampleEvery: 4 },
      );
      assert.equal(stats.sampled, Math.ceil(GENERATED.frames / 4));
      await new Promise((r) => setTimeout(r, 200));
      versions.forEach((v, i) => {
        const decoded = decodeReceived((rx[i] as { got: Received[] }).got);
        assert.deepEqual(decoded.issues, []);
        const flows = decoded.records.filter((r) => r.kind === 'flow');
        for (const r of flows) assert.equal(r.samplingRate, 4, `${versionName(v)}: rate announced`);
        if (v !== 5) {
          const options = decoded.records.filter((r) => r.kind === 'options');
          assert.ok(options.length > 0, `${versionName(v)}: sampling options data sent`);
        }
        const v6Frames = GENERATED.flows
          .filter((f) => f.ipVersion === 6)
          .reduce((n, f) => n + f.packets, 0);
        const sum = flows.reduce((n, r) => n + (r.packets ?? 0), 0);
        if (v !== 5) assert.equal(sum, stats.sampled, `${versionName(v)}: sampled packets`);
        else assert.ok(sum <= stats.sampled && sum >= stats.sampled - v6Frames);
      });
    } finally {
      for (const r of rx) r.socket.close();
    }
  });
});
