// `sluice export --to HOST:PORT,version=sflow --sample N`: sFlow v5 packet samples of a
// generated capture, decoded by tshark (the oracle) and by Sluice's own sFlow decoder.
// The sampler is deterministic (the 1st, N+1th, 2N+1th... frame), so the expected samples
// are the capture's frames at those positions, as tshark reads them from the capture:
// their first 128 bytes, length on the wire, addresses, ports and VLAN ids.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  mixedFlows,
  needServer,
  tsharkFields,
  tsharkPackets,
  tsharkPath,
  UdpCollector,
  writeDatagramsPcap,
  writeTraffic,
} from '@sluice/testkit';
import { SoftwareExporter } from '../src/exporter/exporter.js';
import { captureFile, feedCapture } from '../src/exporter/source.js';
import { FlowDecoder } from '../src/flow/decoder.js';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0) + 500.25;
const BOOT_MS = Math.floor(T0 / 1000) * 1000;
const N = 3;
const IN_IF = 3;
const OUT_IF = 5;
const DIR = mkdtempSync(join(tmpdir(), 'sluice-export-sflow-'));
after(() => rmSync(DIR, { recursive: true, force: true }));
const TRAFFIC = join(DIR, 'traffic.pcap');
const GENERATED = writeTraffic(TRAFFIC, mixedFlows(T0, { qinq: true }), { seed: 20261201 });

/** One frame of the capture as tshark reads it. */
interface Frame {
  raw: string;
  len: number;
  src: string;
  dst: string;
  srcPort: number | undefined;
  dstPort: number | undefined;
  vlans: number[];
}

function captureFrames(): Frame[] {
  const raw = tsharkPackets(TRAFFIC, { extraArgs: ['-x'] }).map((l) => {
    const r = l.frame_raw;
    return String(Array.isArray(r) ? r[0] : r);
  });
  const rows = tsharkFields(TRAFFIC, [
    'frame.len',
    'ip.src',
    'ip.dst',
    'ipv6.src',
    'ipv6.dst',
    'tcp.srcport',
    'tcp.dstport',
    'udp.srcport',
    'udp.dstport',
    'ieee8021ad.id',
    'vlan.id',
  ]);
  const n = (s: string | undefined) => (s ? Number(s) : undefined);
  return rows.map((r, i) => ({
    raw: raw[i] as string,
    len: Number(r[0]),
    src: (r[1] || r[3]) as string,
    dst: (r[2] || r[4]) as string,
    srcPort: n(r[5] || r[7]),
    dstPort: n(r[6] || r[8]),
    // An 802.1ad S-tag (QinQ) first, then the 802.1Q tags.
    vlans: [r[9], r[10]].flatMap((v) => (v ? v.split(',').map(Number) : [])),
  }));
}

describe('sluice export: sFlow v5 packet samples', () => {
  it('1-in-N samples decoded by tshark and by Sluice match the sampled frames', async (t) => {
    if (!(await needServer(t, async () => tsharkPath()))) return;
    const frames = captureFrames();
    assert.equal(frames.length, GENERATED.frames);
    assert.equal(
      frames.reduce((s, f) => s + f.len, 0),
      GENERATED.flows.reduce((s, f) => s + f.frameBytes, 0),
      'tshark and the generator agree on the capture',
    );
    const sampled = frames.filter((_, i) => i % N === 0);
    const pools = frames.map((_, i) => i + 1).filter((_, i) => i % N === 0);

    const rx = await UdpCollector.open();
    let file: string;
    try {
      const exporter = new SoftwareExporter({
        targets: [{ host: '127.0.0.1', port: rx.port, version: 'sflow' }],
        sampleEvery: N,
        ifIndex: { kind: 'fixed', inIf: IN_IF, outIf: OUT_IF },
        maxDatagramBytes: 1400,
      });
      const end = await feedCapture(exporter, captureFile(TRAFFIC));
      assert.equal(end.error, undefined);
      await exporter.finish();
      await rx.settle();
      const d = exporter.stats().destinations[0];
      assert.equal(d?.flows, sampled.length, 'samples counted');
      assert.equal(rx.datagrams.length, d?.datagrams, 'every datagram arrived');
      assert.ok(rx.datagrams.length >= 3, 'several datagrams');
      file = writeDatagramsPcap(join(DIR, 'sflow.pcap'), rx.datagrams, rx);
    } finally {
      rx.close();
    }

    // tshark: datagram by datagram, the samples in order.
    const rows = tsharkFields(
      file,
      [
        'sflow_245.version',
        'sflow_245.agent',
        'sflow_245.sequence_number',
        'sflow_245.sysuptime',
        'sflow.flow_sample.sequence_number',
        'sflow.flow_sample.sampling_rate',
        'sflow.flow_sample.sample_pool',
        'sflow.flow_sample.input_interface',
        'sflow.flow_sample.output_interface',
        'sflow_245.header_protocol',
        'sflow_245.header.frame_length',
        'sflow_245.header',
        'sflow_245.header.sampled_header_length',
      ],
      { decodeAs: [`udp.port==${rx.port},sflow`] },
    );
    assert.equal(rows.length, rx.datagrams.length, 'tshark sees every datagram');
    const list = (s: string | undefined) => (s ? s.split(',') : []);
    let k = 0;
    rows.forEach((r, i) => {
      const at = `datagram ${i + 1}`;
      assert.deepEqual([r[0], r[1], Number(r[2])], ['5', '127.0.0.1', i], `${at}: header`);
      const uptime = Number(r[3]);
      assert.ok(uptime >= 0 && uptime < 2000, `${at}: uptime ${uptime} ms from the first packet`);
      const seqs = list(r[4]);
      assert.ok(seqs.length > 0, `${at}: samples`);
      seqs.forEach((seq, j) => {
        const f = sampled[k] as Frame;
        const where = `${at} sample ${k}`;
        assert.equal(Number(seq), k, `${where}: sequence`);
        assert.equal(Number(list(r[5])[j]), N, `${where}: sampling rate`);
        assert.equal(Number(list(r[6])[j]), pools[k], `${where}: sample pool`);
        assert.equal(Number(list(r[7])[j]), IN_IF, `${where}: input`);
        assert.equal(Number(list(r[8])[j]), OUT_IF, `${where}: output`);
        assert.equal(Number(list(r[9])[j]), 1, `${where}: Ethernet header`);
        assert.equal(Number(list(r[10])[j]), f.len, `${where}: frame length`);
        const kept = Math.min(128, f.len);
        assert.equal(Number(list(r[12])[j]), kept, `${where}: header length`);
        // tshark shows the header with its XDR padding to 4 bytes.
        assert.equal(
          list(r[11])[j]?.slice(0, 2 * kept),
          f.raw.slice(0, 2 * kept),
          `${where}: the first 128 bytes`,
        );
        k += 1;
      });
    });
    assert.equal(k, sampled.length, 'every sampled frame, once');

    // Sluice's decoder: one flow record per sample, in order.
    const decoder = new FlowDecoder();
    const records = rx.datagrams.flatMap(
      (d) =>
        decoder.decode({ bytes: d.bytes, exporter: d.address, receivedMs: d.receivedMs }).records,
    );
    assert.equal(records.length, sampled.length);
    records.forEach((rec, i) => {
      const f = sampled[i] as Frame;
      const where = `record ${i}`;
      assert.equal(rec.kind, 'flow');
      assert.equal(rec.samplingRate, N, `${where}: sampling rate`);
      assert.deepEqual([rec.packets, rec.bytes], [1, f.len], `${where}: one packet, its length`);
      assert.deepEqual([rec.srcAddr, rec.dstAddr], [f.src, f.dst], `${where}: addresses`);
      if (f.srcPort !== undefined)
        assert.deepEqual([rec.srcPort, rec.dstPort], [f.srcPort, f.dstPort], `${where}: ports`);
      assert.equal(rec.vlan ?? 0, f.vlans[0] ?? 0, `${where}: VLAN`);
      assert.equal(rec.inInterface, IN_IF, `${where}: input`);
      assert.equal(rec.outInterface, OUT_IF, `${where}: output`);
      assert.equal(rec.exporter?.uptimeMs !== undefined, true);
    });
    const q = records.find((r) => r.srcAddr === '10.9.0.1');
    assert.ok(q, 'a QinQ frame was sampled');
    assert.equal(q.vlan, 300, 'QinQ: the outer VLAN id');
    assert.ok(
      sampled.some((f) => f.vlans.join() === '300,12'),
      'tshark sees both tags of a sampled QinQ frame',
    );
    assert.ok(BOOT_MS > 0);
  });
});
