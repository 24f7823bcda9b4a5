// `sluice export` checked by tshark: a generated pcap with known per-flow totals (IPv4 and
// IPv6, TCP/UDP/ICMP, 802.1Q and QinQ) is exported as NetFlow v5, v9 and IPFIX at once
// to UDP sockets; the datagrams received are written into a capture and decoded by
// tshark's cflow dissector, the independent oracle. Every flow must come back exactly
// once with the generator's packets, bytes, addresses, ports (or ICMP type/code),
// protocol, TOS, TCP flags, VLAN ids, interfaces and first/last times (whole ms: the
// exporter truncates), and the headers must follow each format's sequence rule.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  type ExpectedFlow,
  mixedFlows,
  needServer,
  tsharkPath,
  UdpCollector,
  writeDatagramsPcap,
  writeTraffic,
} from '@sluice/testkit';
import { SoftwareExporter } from '../src/exporter/exporter.js';
import { captureFile, feedCapture } from '../src/exporter/source.js';
import { flatten, type TsharkExport, tsharkExports, tsharkTimeMs } from './support/oracle.js';

/**
 * Half a second and a quarter millisecond past a whole second: the exporter's uptime
 * starts at the first packet's whole second, so no flow starts at uptime 0 (tshark shows
 * a v9 FIRST_SWITCHED of 0 as the epoch), and the truncation to whole ms shows.
 */
const T0 = Date.UTC(2024, 4, 1, 12, 0, 0) + 500.25;
const BOOT_MS = Math.floor(T0 / 1000) * 1000;
const IN_IF = 3;
const OUT_IF = 5;
const DIR = mkdtempSync(join(tmpdir(), 'sluice-export-tshark-'));
after(() => rmSync(DIR, { recursive: true, force: true }));

const TRAFFIC = join(DIR, 'traffic.pcap');
const GENERATED = writeTraffic(TRAFFIC, mixedFlows(T0, { qinq: true }), { seed: 20261129 });

type Version = 5 | 9 | 10;
const VERSIONS: readonly Version[] = [5, 9, 10];
const nameOf = (v: Version) => (v === 10 ? 'IPFIX' : `NetFlow v${v}`);
const isIcmp = (p: number) => p === 1 || p === 58;

/** One flow record as tshark decoded it, in the terms of the generator. */
interface Seen {
  src: string;
  dst: string;
  protocol: number;
  srcPort: number;
  dstPort: number;
  /** type << 8 | code, for ICMP flows. */
  icmp: number | undefined;
  packets: number;
  bytes: number;
  tos: number;
  tcpFlags: number;
  inIf: number;
  outIf: number;
  vlan: number | undefined;
  innerVlan: number | undefined;
  firstMs: number;
  lastMs: number;
}

const num = (v: unknown): number => Number(v);
const opt = (v: unknown): number | undefined => (v === undefined ? undefined : Number(v));

/** ms since the epoch at uptime 0, from a v5/v9 header. */
function uptimeAnchor(h: Record<string, unknown>): number {
  return (
    num(h['cflow.unix_secs']) * 1000 +
    num(h['cflow.unix_nsecs'] ?? 0) / 1e6 -
    Math.round(num(h['cflow.sysuptime']) * 1000)
  );
}

function seenOf(v: Version, header: Record<string, unknown>, f: Record<string, unknown>): Seen {
  const protocol = num(f['cflow.protocol']);
  const v6 = f['cflow.srcaddrv6'] !== undefined;
  let icmp: number | undefined;
  if (isIcmp(protocol)) {
    if (v === 5) icmp = num(f['cflow.dstport']);
    else if (v === 10 && v6)
      icmp = (num(f['cflow.icmp_ipv6_type']) << 8) | num(f['cflow.icmp_ipv6_code']);
    else icmp = num(f['cflow.icmp_type_code_ipv4']);
  }
  let firstMs: number;
  let lastMs: number;
  if (v === 10) {
    firstMs = tsharkTimeMs(String(f['cflow.abstimestart']));
    lastMs = tsharkTimeMs(String(f['cflow.abstimeend']));
  } else {
    const anchor = uptimeAnchor(header);
    assert.ok(f['cflow.timestart'] !== undefined, 'uptime-relative start time');
    firstMs = anchor + Math.round(num(f['cflow.timestart']) * 1000);
    lastMs = anchor + Math.round(num(f['cflow.timeend']) * 1000);
  }
  return {
    src: String(f['cflow.srcaddr'] ?? f['cflow.srcaddrv6']),
    dst: String(f['cflow.dstaddr'] ?? f['cflow.dstaddrv6']),
    protocol,
    srcPort: num(f['cflow.srcport']),
    dstPort: num(f['cflow.dstport']),
    icmp,
    packets: num(f['cflow.packets']),
    bytes: num(f['cflow.octets']),
    tos: num(f['cflow.tos']),
    tcpFlags: num(f['cflow.tcpflags']),
    inIf: num(f['cflow.inputint']),
    outIf: num(f['cflow.outputint']),
    vlan: opt(f['cflow.vlanid']),
    innerVlan: opt(f['cflow.dot1q_customer_vlan_id']),
    firstMs,
    lastMs,
  };
}

/** The flow key as both sides can say it: ICMP by type/code, the rest by ports. */
function keyOf(
  src: string,
  dst: string,
  protocol: number,
  ports: string,
  vlan: number,
  inner: number,
): string {
  return `${src} > ${dst} proto ${protocol} ${ports} vlan ${vlan}/${inner}`;
}

function expectedKey(f: ExpectedFlow, vlans: boolean): string {
  const ports = isIcmp(f.protocol)
    ? `icmp ${f.icmpType}/${f.icmpCode}`
    : `${f.srcPort} > ${f.dstPort}`;
  return keyOf(
    f.src,
    f.dst,
    f.protocol,
    ports,
    vlans ? (f.vlan ?? 0) : 0,
    vlans ? (f.innerVlan ?? 0) : 0,
  );
}

function seenKey(s: Seen, vlans: boolean): string {
  const ports =
    s.icmp !== undefined ? `icmp ${s.icmp >> 8}/${s.icmp & 0xff}` : `${s.srcPort} > ${s.dstPort}`;
  return keyOf(
    s.src,
    s.dst,
    s.protocol,
    ports,
    vlans ? (s.vlan ?? -1) : 0,
    vlans ? (s.innerVlan ?? -1) : 0,
  );
}

/** Sequence numbers per format: v5 flows before, v9 datagrams before, IPFIX records before. */
function checkSequences(v: Version, exports: TsharkExport[]): void {
  let expected = 0;
  exports.forEach((e, i) => {
    const h = flatten(e.header);
    assert.equal(num(h['cflow.sequence']), expected, `${nameOf(v)} datagram ${i + 1}: sequence`);
    expected += v === 9 ? 1 : e.flows.length;
    if (v !== 10)
      assert.equal(uptimeAnchor(h), BOOT_MS, `${nameOf(v)} datagram ${i + 1}: exporter boot`);
  });
}

describe('sluice export decoded by tshark', () => {
  it('NetFlow v5, v9 and IPFIX: every flow once, with the generator totals', async (t) => {
    if (!(await needServer(t, async () => tsharkPath()))) return;
    const collectors = await Promise.all(VERSIONS.map(() => UdpCollector.open()));
    let exports: TsharkExport[][];
    try {
      const exporter = new SoftwareExporter({
        targets: VERSIONS.map((version, i) => ({
          host: '127.0.0.1',
          port: (collectors[i] as UdpCollector).port,
          version,
        })),
        ifIndex: { kind: 'fixed', inIf: IN_IF, outIf: OUT_IF },
        // Small datagrams: several per format, templates refreshed on the way.
        maxDatagramBytes: 700,
        templateRefreshPackets: 3,
      });
      const end = await feedCapture(exporter, captureFile(TRAFFIC));
      assert.equal(end.error, undefined);
      await exporter.finish();
      const stats = exporter.stats();
      assert.equal(stats.packets, GENERATED.frames);
      await Promise.all(collectors.map((c) => c.settle()));
      exports = VERSIONS.map((v, i) => {
        const c = collectors[i] as UdpCollector;
        assert.equal(
          c.datagrams.length,
          stats.destinations[i]?.datagrams,
          `${nameOf(v)}: all sent`,
        );
        assert.ok(c.datagrams.length >= 3, `${nameOf(v)}: several datagrams`);
        const file = writeDatagramsPcap(join(DIR, `export-v${v}.pcap`), c.datagrams, c);
        return tsharkExports(file, c.port);
      });
    } finally {
      for (const c of collectors) c.close();
    }
    VERSIONS.forEach((v, i) => {
      const ex = exports[i] as TsharkExport[];
      checkSequences(v, ex);
      const vlans = v !== 5;
      const expected = GENERATED.flows.filter((f) => v !== 5 || f.ipVersion === 4);
      const seen = new Map<string, Seen[]>();
      for (const e of ex) {
        const header = flatten(e.header);
        for (const r of e.flows) {
          assert.equal(r.options, false, `${nameOf(v)}: no options records without sampling`);
          const s = seenOf(v, header, flatten(r.fields));
          const k = seenKey(s, vlans);
          seen.set(k, [...(seen.get(k) ?? []), s]);
        }
      }
      for (const f of expected) {
        const key = `${nameOf(v)} ${expectedKey(f, vlans)}`;
        const found = seen.get(expectedKey(f, vlans)) ?? [];
        assert.equal(found.length, 1, `${key}: exported once`);
        const s = found[0] as Seen;
        assert.equal(s.packets, f.packets, `${key}: packets`);
        assert.equal(s.bytes, f.bytes, `${key}: bytes`);
        assert.equal(s.tos, f.tos, `${key}: tos`);
        assert.equal(s.tcpFlags, f.tcpFlags ?? 0, `${key}: TCP flags`);
        assert.equal(s.inIf, IN_IF, `${key}: input interface`);
        assert.equal(s.outIf, OUT_IF, `${key}: output interface`);
        if (!isIcmp(f.protocol))
          assert.deepEqual([s.srcPort, s.dstPort], [f.srcPort, f.dstPort], `${key}: ports`);
        assert.equal(s.firstMs, Math.floor(f.firstMs), `${key}: first packet (whole ms)`);
        assert.equal(s.lastMs, Math.floor(f.lastMs), `${key}: last packet (whole ms)`);
      }
      const records = ex.reduce((n, e) => n + e.flows.length, 0);
      assert.equal(records, expected.length, `${nameOf(v)}: no other records`);
      if (vlans) {
        const qinq = GENERATED.flows.find((f) => f.innerVlan !== undefined) as ExpectedFlow;
        const q = seen.get(expectedKey(qinq, true));
        assert.deepEqual([q?.[0]?.vlan, q?.[0]?.innerVlan], [300, 12], 'QinQ: both VLAN ids');
      }
    });
  });
});
