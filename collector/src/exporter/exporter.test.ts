import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateTraffic, mixedFlows } from '@sluice/testkit';
import { CaptureStreamParser } from '../protocol/capture/capture.js';
import { decodeIpfix } from '../protocol/ipfix/ipfix.js';
import { decodeNetflowV9 } from '../protocol/netflow/v9.js';
import { TemplateStore } from '../protocol/templates/store.js';
import { type ExpiredFlow, FlowCache, type PacketFacts, PacketView } from './cache.js';
import { ExportEncoder } from './destination.js';
import { parseIfIndex, parseTarget } from './options.js';
import { fastFrame, frameFacts, type IfIndexMode } from './packet.js';

const pkt = (over: Partial<PacketFacts> = {}): PacketFacts => ({
  ipVersion: 4,
  srcAddr: '10.0.0.1',
  dstAddr: '10.0.0.2',
  protocol: 17,
  srcPort: 1000,
  dstPort: 2000,
  tos: 0,
  tcpFlags: 0,
  bytes: 100,
  vlan: 0,
  innerVlan: 0,
  inIf: 0,
  outIf: 0,
  ...over,
});

function cache(opts: ConstructorParameters<typeof FlowCache>[0]) {
  const out: ExpiredFlow[] = [];
  const c = new FlowCache(opts, (f) => out.push(...f));
  return { c, out };
}

describe('flow cache', () => {
  it('inactive timeout in the caller clock; a later packet starts a new flow', () => {
    const { c, out } = cache({ inactiveTimeoutMs: 1000 });
    c.add(pkt(), 0);
    c.add(pkt(), 500);
    c.expire(1400);
    assert.equal(out.length, 0);
    // The scan runs at most every min(1 s, timeout / 2) of the clock.
    c.expire(1900);
    assert.equal(out.length, 1);
    assert.deepEqual(
      [out[0]?.packets, out[0]?.bytes, out[0]?.startMs, out[0]?.endMs, out[0]?.reason],
      [2, 200, 0, 500, 'inactive'],
    );
    c.add(pkt(), 1600);
    c.flush();
    assert.equal(out[1]?.reason, 'flush');
    assert.equal(out[1]?.packets, 1);
  });

  it('active timeout splits a long flow', () => {
    const { c, out } = cache({ activeTimeoutMs: 2000, inactiveTimeoutMs: 1000 });
    for (let t = 0; t <= 3000; t += 100) {
      c.add(pkt(), t);
      c.expire(t);
    }
    c.flush();
    assert.equal(out[0]?.reason, 'active');
    assert.equal(
      out.reduce((n, f) => n + f.packets, 0),
      31,
    );
  });

  it('TCP FIN/RST ends a flow after a grace for the closing ACK; a SYN restarts it', () => {
    const { c, out } = cache({ tcpEndGraceMs: 100 });
    const tcp = (flags: number) => pkt({ protocol: 6, tcpFlags: flags });
    c.add(tcp(0x02), 0);
    c.add(tcp(0x11), 10);
    c.add(tcp(0x10), 20); // the last ACK still counts
    c.expire(50);
    assert.equal(out.length, 0);
    c.expire(110);
    assert.equal(out.length, 1);
    assert.deepEqual([out[0]?.packets, out[0]?.tcpFlags, out[0]?.reason], [3, 0x13, 'tcp_end']);
    c.add(tcp(0x04), 200);
    c.add(tcp(0x02), 210); // new connection on the same 5-tuple
    assert.equal(out.length, 2);
    assert.equal(out[1]?.packets, 1);
    c.flush();
    assert.equal(out[2]?.packets, 1);
  });

  it('keys: VLAN, QinQ, ifIndex and ICMP type/code separate flows', () => {
    const { c } = cache({});
    c.add(pkt(), 0);
    c.add(pkt({ vlan: 5 }), 0);
    c.add(pkt({ vlan: 5, innerVlan: 6 }), 0);
    c.add(pkt({ inIf: 2 }), 0);
    c.add(pkt({ protocol: 1, srcPort: 0, dstPort: 0x0800 }), 0);
    c.add(pkt({ protocol: 1, srcPort: 0, dstPort: 0x0303 }), 0);
    c.add(pkt({ tos: 4 }), 0); // ToS is not part of the key
    assert.equal(c.size, 6);
  });

  it('grows past its first table: thousands of flows (IPv4 and IPv6) keep their own totals', () => {
    for (const maxFlows of [65_536, 3000]) {
      const { c, out } = cache({ maxFlows });
      const n = 5000;
      const flowAt = (i: number) =>
        i % 2
          ? pkt({ srcAddr: `10.${i >> 8}.${i & 255}.1`, srcPort: i, bytes: i })
          : pkt({
              ipVersion: 6,
              srcAddr: `2001:db8::${i.toString(16)}`,
              dstAddr: '2001:db8::ffff',
              srcPort: i,
              bytes: i,
            });
      for (let round = 0; round < 3; round++)
        for (let i = 0; i < n; i++) c.add(flowAt(i), round * 10_000 + i);
      c.flush();
      const exported = new Map<string, { packets: number; bytes: number }>();
      for (const f of out) {
        const k = `${f.ipVersion} ${f.srcPort}`;
        const e = exported.get(k) ?? { packets: 0, bytes: 0 };
        e.packets += f.packets;
        e.bytes += f.bytes;
        exported.set(k, e);
      }
      assert.equal(exported.size, n, `maxFlows ${maxFlows}: every flow`);
      for (let i = 0; i < n; i++) {
        const f = flowAt(i);
        assert.deepEqual(exported.get(`${f.ipVersion} ${i}`), { packets: 3, bytes: 3 * i });
      }
      if (maxFlows < n) assert.ok(out.some((f) => f.reason === 'pressure'));
      else assert.equal(out.length, n);
    }
  });

  it('bounded: the least recently active flow is exported early under pressure', () => {
    // Activity order is kept to within the scan interval (here 500 ms).
    const { c, out } = cache({ maxFlows: 2 });
    c.add(pkt({ srcPort: 1 }), 0);
    c.add(pkt({ srcPort: 2 }), 1000);
    c.add(pkt({ srcPort: 1 }), 2000); // 1 is now more recent than 2
    c.add(pkt({ srcPort: 3 }), 3000);
    assert.equal(c.size, 2);
    assert.deepEqual(
      out.map((f) => [f.srcPort, f.reason]),
      [[2, 'pressure']],
    );
  });
});

const flow = (i: number, ipVersion: 4 | 6 = 4): ExpiredFlow => ({
  ipVersion,
  srcAddr: ipVersion === 4 ? `10.0.${i >> 8}.${i & 255}` : `2001:db8::${i.toString(16)}`,
  dstAddr: ipVersion === 4 ? '10.9.9.9' : '2001:db8::99',
  srcPort: i,
  dstPort: 80,
  protocol: 6,
  tos: 0,
  tcpFlags: 0x10,
  packets: 1,
  bytes: 40,
  startMs: 10_000_500,
  endMs: 10_000_600,
  inIf: 1,
  outIf: 0,
  vlan: 0,
  innerVlan: 0,
  reason: 'flush',
});

describe('export encoder', () => {
  const base = {
    bootMs: 10_000_000,
    domain: 1,
    sampling: undefined,
    maxDatagramBytes: 1400,
    templateRefreshMs: 60_000,
    templateRefreshPackets: 1000,
  };

  it('v5: 30 records per datagram, sequence counts flows, IPv6 left out', () => {
    const e = new ExportEncoder({ ...base, version: 5 });
    const flows = [...Array.from({ length: 65 }, (_, i) => flow(i)), flow(1, 6)];
    const r = e.encode(flows, 10_001_000);
    assert.equal(r.ipv6Skipped, 1);
    assert.deepEqual(
      r.datagrams.map((d) => new DataView(d.buffer).getUint16(2)),
      [30, 30, 5],
    );
    assert.deepEqual(
      r.datagrams.map((d) => new DataView(d.buffer).getUint32(16)),
      [0, 30, 60],
    );
  });

  it('v9: sequence counts packets; templates again after the refresh time', () => {
    const e = new ExportEncoder({ ...base, version: 9, templateRefreshMs: 5000 });
    const store = new TemplateStore();
    const seen: [number, number][] = [];
    for (const now of [10_001_000, 10_002_000, 10_007_000]) {
      for (const d of e.encode([flow(1), flow(2, 6)], now).datagrams) {
        const res = decodeNetflowV9(d, { exporter: 'x', receivedMs: 0, store });
        assert.deepEqual(res.issues, []);
        seen.push([res.ctx?.sequence ?? -1, res.templatesLearned]);
        assert.equal(res.records.length, 2);
      }
    }
    assert.deepEqual(seen, [
      [0, 2],
      [1, 0],
      [2, 2],
    ]);
  });

  it('IPFIX: sequence counts data records; datagrams stay under the size bound', () => {
    const e = new ExportEncoder({ ...base, version: 10, maxDatagramBytes: 300 });
    const store = new TemplateStore();
    const out = e.encode(
      Array.from({ length: 20 }, (_, i) => flow(i)),
      10_001_000,
    );
    let expected = 0;
    let records = 0;
    for (const d of out.datagrams) {
      assert.ok(d.length <= 300, `${d.length} bytes`);
      const res = decodeIpfix(d, { exporter: 'x', receivedMs: 0, store });
      assert.deepEqual(res.issues, []);
      assert.equal(res.ctx?.sequence, expected);
      expected += res.records.length;
      records += res.records.length;
    }
    assert.equal(records, 20);
    assert.ok(out.datagrams.length > 2);
  });
});

describe('options', () => {
  it('--to', () => {
    assert.deepEqual(parseTarget('127.0.0.1:2055'), { host: '127.0.0.1', port: 2055, version: 9 });
    assert.deepEqual(parseTarget('[::1]:4739,version=10'), {
      host: '::1',
      port: 4739,
      version: 10,
    });
    assert.deepEqual(parseTarget('collector.example:9995,version=5'), {
      host: 'collector.example',
      port: 9995,
      version: 5,
    });
    assert.deepEqual(parseTarget('127.0.0.1:6343,version=sflow'), {
      host: '127.0.0.1',
      port: 6343,
      version: 'sflow',
    });
    assert.throws(() => parseTarget('::1:2055'), /\[ADDR\]:PORT/);
    assert.throws(() => parseTarget('h:0'), /port/);
    assert.throws(() => parseTarget('h:1,version=7'), /version must be 5, 9 or 10/);
    assert.throws(() => parseTarget('h:1,ttl=3'), /unknown parameter/);
  });
  it('--if-index', () => {
    assert.deepEqual(parseIfIndex('vlan'), { kind: 'vlan' });
    assert.deepEqual(parseIfIndex('7'), { kind: 'fixed', inIf: 7, outIf: 0 });
    assert.throws(() => parseIfIndex('x'), /vlan/);
  });
});

describe('packet fast path', () => {
  it('gives the same flow key and counters as the general parser, or declines', () => {
    const g = generateTraffic(mixedFlows(Date.UTC(2024, 0, 1)), { seed: 5 });
    const frames = new CaptureStreamParser().push(g.pcap);
    assert.equal(frames.length, g.frames);
    const fast = new PacketView();
    const slow = new PacketView();
    let taken = 0;
    let declined = 0;
    for (const mode of [
      { kind: 'fixed', inIf: 7, outIf: 9 },
      { kind: 'vlan' },
    ] as const satisfies readonly IfIndexMode[]) {
      for (const f of frames) {
        // Whole frames, and every cut of the first bytes (truncated headers).
        const cuts = [f.data.length, ...Array.from({ length: 80 }, (_, i) => i)];
        for (const cut of cuts) {
          const data = f.data.subarray(0, Math.min(cut, f.data.length));
          // In place, inside a larger buffer: nothing past `end` may be read.
          const padded = new Uint8Array(data.length + 200).fill(0x45);
          padded.set(data, 100);
          if (!fastFrame(f.linkType, padded, 100, 100 + data.length, mode, fast)) {
            declined += 1;
            continue;
          }
          taken += 1;
          const r = frameFacts(f.linkType, data, mode);
          assert.ok(r.facts && !r.fragment, `cut ${cut}: the general parser accounts it too`);
          slow.setFacts(r.facts);
          assert.equal(fast.keyText(), slow.keyText(), `cut ${cut}: key`);
          for (const k of ['tos', 'tcpFlags', 'bytes', 'ipVersion'] as const)
            assert.equal(fast[k], slow[k], `cut ${cut}: ${k}`);
        }
      }
    }
    assert.ok(taken >= 2 * g.frames, `whole frames take the fast path (${taken})`);
    assert.ok(declined > 0);
  });
});
