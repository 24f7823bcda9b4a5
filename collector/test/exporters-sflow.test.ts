// pmacct's sfprobe (sFlow v5, sampling 1/1: one flow sample per packet) over generated
// traffic with known packets. For now the datagrams are checked with tshark only: every
// generated packet appears in exactly one flow sample with its addresses, ports, VLAN,
// TCP flags, IP length and frame length; then Sluice decodes the same datagrams and must
// find the same samples, per flow, with no issue and no sequence gap.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  type ExpectedFlow,
  type ExportCapture,
  fillerFlow,
  mixedFlows,
  needServer,
  pmacctSfprobeExport,
  tsharkPackets,
  tsharkPath,
  writeTraffic,
} from '@sluice/testkit';
import { FlowDecoder } from '../src/flow/decoder.js';
import { toDocument } from '../src/flow/document.js';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const DIR = mkdtempSync(join(tmpdir(), 'sluice-sflow-'));
after(() => rmSync(DIR, { recursive: true, force: true }));
const TRAFFIC = join(DIR, 'traffic.pcap');
// sfprobe keeps its last partly filled datagram (quirk 6): filler packets come last.
const FILLER = fillerFlow(T0 + 2000, 40);
const GENERATED = writeTraffic(TRAFFIC, [...mixedFlows(T0, { bulk: 20 }), FILLER], { seed: 11 });
const REAL = GENERATED.flows.filter((f) => f.src !== FILLER.src);

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {});

/** One flow sample as tshark decodes it, with the sampled packet's headers. */
interface Sample {
  seq: number;
  rate: number;
  pool: number;
  vlanIn: number;
  frameLength: number;
  stripped: number;
  key: string;
  ipLength: number;
  tcpFlags: number | undefined;
}

function sampleOf(s: Obj): Sample {
  const raw = obj(s['Raw packet header']);
  const h = obj(raw['sflow_245.header_tree']);
  const ip = obj(h.ip);
  const ip6 = obj(h.ipv6);
  const v6 = h.ipv6 !== undefined;
  const l4 = obj(h.tcp ?? h.udp ?? h.icmp ?? h.icmpv6);
  const proto = Number(v6 ? ip6['ipv6.nxt'] : ip['ip.proto']);
  const src = v6 ? ip6['ipv6.src'] : ip['ip.src'];
  const dst = v6 ? ip6['ipv6.dst'] : ip['ip.dst'];
  let a: unknown;
  let b: unknown;
  if (h.tcp) [a, b] = [l4['tcp.srcport'], l4['tcp.dstport']];
  else if (h.udp) [a, b] = [l4['udp.srcport'], l4['udp.dstport']];
  else if (h.icmp) [a, b] = [`type ${l4['icmp.type']}`, `code ${l4['icmp.code']}`];
  else [a, b] = [`type ${l4['icmpv6.type']}`, `code ${l4['icmpv6.code']}`];
  return {
    seq: Number(s['sflow.flow_sample.sequence_number']),
    rate: Number(s['sflow.flow_sample.sampling_rate']),
    pool: Number(s['sflow.flow_sample.sample_pool']),
    vlanIn: Number(obj(s['Extended switch data'])['sflow_245.vlan.in']),
    frameLength: Number(raw['sflow_245.header.frame_length']),
    stripped: Number(raw['sflow_245.header.payload_stripped']),
    key: `${src} ${a} > ${dst} ${b} proto ${proto}`,
    ipLength: v6 ? 40 + Number(ip6['ipv6.plen']) : Number(ip['ip.len']),
    tcpFlags: h.tcp ? Number(l4['tcp.flags']) : undefined,
  };
}

function keyOf(f: ExpectedFlow): string {
  const icmp = f.protocol === 1 || f.protocol === 58;
  const a = icmp ? `type ${f.icmpType}` : f.srcPort;
  const b = icmp ? `code ${f.icmpCode}` : f.dstPort;
  return `${f.src} ${a} > ${f.dst} ${b} proto ${f.protocol}`;
}

/** One sfprobe run, shared by both tests. */
let run: Promise<ExportCapture> | undefined;
const capture = () => {
  run ??= pmacctSfprobeExport({ pcap: TRAFFIC, dir: DIR });
  return run;
};

describe('pmacct sfprobe (sFlow v5)', () => {
  it('every generated packet in one flow sample, as tshark decodes it', async (t) => {
    if (!(await needServer(t, async () => tsharkPath()))) return;
    const cap = await needServer(t, capture);
    if (!cap) return;
    const packets = tsharkPackets(cap.pcap, {
      decodeAs: [`udp.port==${cap.collector.port},sflow`],
    });
    assert.equal(packets.length, cap.datagrams.length, 'tshark sees every datagram');
    const samples: Sample[] = [];
    let counters = 0;
    packets.forEach((layers, i) => {
      const sf = obj(layers.sflow);
      const where = `datagram ${i + 1}`;
      assert.equal(sf['sflow_245.version'], '5', where);
      assert.equal(sf['sflow_245.agent'], '127.0.0.1', `${where}: agent`);
      assert.equal(Number(sf['sflow_245.sequence_number']), i + 1, `${where}: no datagram lost`);
      const keys = Object.keys(sf).filter((k) => / sample, seq \d+$/.test(k));
      assert.equal(keys.length, Number(sf['sflow_245.numsamples']), `${where}: numsamples`);
      for (const k of keys) {
        if (k.startsWith('Counters sample')) counters += 1;
        else samples.push(sampleOf(obj(sf[k])));
      }
    });
    // Sampling 1/1: sample n saw n packets; none were dropped or skipped.
    samples.forEach((s, i) => {
      assert.equal(s.seq, i + 1, 'flow sample sequence');
      assert.equal(s.rate, 1, 'sampling rate');
      assert.equal(s.pool, i + 1, 'sample pool');
    });
    const byKey = new Map<string, Sample[]>();
    for (const s of samples) byKey.set(s.key, [...(byKey.get(s.key) ?? []), s]);
    for (const f of REAL) {
      const key = keyOf(f);
      const got = byKey.get(key) ?? [];
      assert.equal(got.length, f.packets, `${key}: one sample per packet`);
      const sum = (pick: (s: Sample) => number) => got.reduce((n, s) => n + pick(s), 0);
      assert.equal(
        sum((s) => s.ipLength),
        f.bytes,
        `${key}: IP bytes`,
      );
      // Frame length as sent on the wire: with the 4-byte FCS the header leaves out.
      assert.equal(
        sum((s) => s.frameLength - s.stripped),
        f.frameBytes,
        `${key}: frame bytes`,
      );
      for (const s of got) assert.equal(s.vlanIn, f.vlan ?? 0, `${key}: VLAN`);
      if (f.tcpFlags !== undefined) {
        const or = got.reduce((n, s) => n | (s.tcpFlags ?? 0), 0);
        assert.equal(or, f.tcpFlags, `${key}: TCP flags`);
      }
      byKey.delete(key);
    }
    // Only filler is left: every sample of real traffic belongs to a generated flow.
    for (const [key, got] of byKey) {
      assert.ok(key.startsWith(`${FILLER.src} `), `unexpected samples: ${key}`);
      assert.ok(got.length <= FILLER.packets, 'filler samples');
    }
    t.diagnostic(
      `${samples.length} flow samples and ${counters} counter samples in ${cap.datagrams.length} datagrams; ${REAL.length} flows checked`,
    );
  });

  it('Sluice decodes the same samples, per flow, with no issue and no gap', async (t) => {
    const cap = await needServer(t, capture);
    if (!cap) return;
    const decoder = new FlowDecoder();
    type Doc = {
      source?: { ip?: string; port?: number };
      destination?: { ip?: string; port?: number };
      network?: { iana_number?: string; bytes?: number; vlan?: { id?: string } };
      icmp?: { type?: number; code?: number };
      sflow?: { sample?: { sampling_rate?: number }; header?: { stripped?: number } };
      netflow?: { type?: string };
    };
    const docs: Doc[] = [];
    for (const d of cap.datagrams) {
      const res = decoder.decode({
        bytes: d.bytes,
        exporter: d.address,
        exporterPort: d.port,
        receivedMs: d.receivedMs,
      });
      assert.equal(res.format, 'sflow');
      docs.push(...res.records.map((r) => toDocument(r) as Doc));
    }
    const stats = decoder.exporterStats().get('127.0.0.1');
    assert.ok(stats);
    assert.deepEqual(stats.errors, {}, 'no decode issues');
    assert.equal(stats.sequenceGaps, 0);
    const flows = docs.filter((d) => d.netflow?.type === 'sflow_flow');
    const byKey = new Map<string, Doc[]>();
    for (const d of flows) {
      const icmp = d.icmp !== undefined;
      const a = icmp ? `type ${d.icmp?.type}` : d.source?.port;
      const b = icmp ? `code ${d.icmp?.code}` : d.destination?.port;
      const key = `${d.source?.ip} ${a} > ${d.destination?.ip} ${b} proto ${d.network?.iana_number}`;
      byKey.set(key, [...(byKey.get(key) ?? []), d]);
    }
    for (const f of REAL) {
      const key = keyOf(f);
      const got = byKey.get(key) ?? [];
      assert.equal(got.length, f.packets, `${key}: one document per sampled packet`);
      const frame = got.reduce(
        (n, d) => n + (d.network?.bytes ?? 0) - (d.sflow?.header?.stripped ?? 0),
        0,
      );
      assert.equal(frame, f.frameBytes, `${key}: frame bytes`);
      for (const d of got) {
        assert.equal(d.sflow?.sample?.sampling_rate, 1, `${key}: sampling rate`);
        if (f.vlan !== undefined) assert.equal(d.network?.vlan?.id, String(f.vlan), `${key}: VLAN`);
      }
      byKey.delete(key);
    }
    for (const key of byKey.keys())
      assert.ok(key.startsWith(`${FILLER.src} `), `unexpected documents: ${key}`);
  });
});
