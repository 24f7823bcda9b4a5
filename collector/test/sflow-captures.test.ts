// Every sFlow capture in ../shared/pcaps decoded to documents by Sluice and compared
// with tshark's decoding of the same datagrams (the independent oracle), sample by sample.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { needServer, PCAPS_DIR, tsharkPackets, tsharkPath } from '@sluice/testkit';
import { FlowDecoder } from '../src/flow/decoder.js';
import { type FlowDocument, toDocument } from '../src/flow/document.js';
import { datagramsFromCaptures } from '../src/ingest/capture-source.js';

const DIR = join(PCAPS_DIR, 'akvorado', 'sflow');
type Obj = Record<string, unknown>;

function get(o: unknown, path: string): unknown {
  let cur = o;
  for (const p of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Obj)[p];
  }
  return cur;
}

/** First occurrence of a layer (tshark makes repeated layers an array: outer first). */
function first(o: unknown): Obj | undefined {
  if (Array.isArray(o)) return o[0] as Obj | undefined;
  return o as Obj | undefined;
}

/** Finds the first value of `key` anywhere below `o` (depth-first, in document order). */
function find(o: unknown, key: string): unknown {
  if (typeof o !== 'object' || o === null) return undefined;
  if (Array.isArray(o)) return o.length > 0 ? find(o[0], key) : undefined;
  for (const [k, v] of Object.entries(o as Obj)) {
    if (k === key) return Array.isArray(v) ? v[0] : v;
    const inner = find(v, key);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

for (const name of readdirSync(DIR).filter((f) => f.endsWith('.pcap'))) {
  test(`sFlow capture ${name} decodes like tshark`, async (t) => {
    if (!(await needServer(t, async () => tsharkPath()))) return;
    const file = join(DIR, name);
    const samples: Obj[] = [];
    for (const layers of tsharkPackets(file)) {
      const sflow = layers.sflow as Obj | undefined;
      if (!sflow) continue;
      for (const [k, v] of Object.entries(sflow))
        if (/flow sample, seq/i.test(k)) samples.push(v as Obj);
    }
    const decoder = new FlowDecoder();
    const docs: FlowDocument[] = [];
    for (const d of datagramsFromCaptures([file]))
      docs.push(...decoder.decode(d).records.map(toDocument));
    const flows = docs.filter((d) => get(d, 'netflow.type') === 'sflow_flow');
    assert.ok(samples.length > 0);
    assert.equal(flows.length, samples.length, 'one document per flow sample');

    for (let i = 0; i < samples.length; i++) {
      const s = samples[i] as Obj;
      const doc = flows[i] as FlowDocument;
      const where = `${name} sample ${i + 1}`;
      const rate = Number(find(s, 'sflow.flow_sample.sampling_rate'));
      assert.equal(get(doc, 'sluice.sampling.rate'), rate, `${where}: sampling rate`);
      assert.equal(
        get(doc, 'sflow.sample.sequence'),
        Number(find(s, 'sflow.flow_sample.sequence_number')),
        where,
      );
      assert.equal(
        get(doc, 'sflow.sample.sample_pool'),
        Number(find(s, 'sflow.flow_sample.sample_pool')),
        where,
      );
      const frame = find(s, 'sflow_245.header.frame_length');
      if (frame !== undefined) {
        assert.equal(get(doc, 'network.bytes'), Number(frame), `${where}: frame length`);
        assert.equal(
          get(doc, 'sluice.scaled.bytes'),
          Number(frame) * rate,
          `${where}: scaled bytes`,
        );
      }
      // Interfaces: compact samples give format/value subfields, expanded ones plain values.
      const inValue =
        find(s, 'sflow.flow_sample.input_interface_value') ??
        find(s, 'sflow_5.input_interface_value');
      const inFormat =
        find(s, 'sflow.flow_sample.input_interface_format') ??
        find(s, 'sflow_5.input_interface_format');
      if (inValue !== undefined) {
        assert.equal(
          get(doc, 'sflow.sample.input.value'),
          Number(inValue),
          `${where}: input value`,
        );
        if (Number(inFormat ?? 0) === 0 && Number(inValue) !== 0) {
          assert.equal(get(doc, 'observer.ingress.interface.id'), String(Number(inValue)), where);
        }
      }
      const outValue =
        find(s, 'sflow.flow_sample.output_interface_value') ??
        find(s, 'sflow_5.output_interface_value');
      const outFormat =
        find(s, 'sflow.flow_sample.output_interface_format') ??
        find(s, 'sflow_5.output_interface_format');
      if (outValue !== undefined) {
        assert.equal(
          get(doc, 'sflow.sample.output.value'),
          Number(outValue),
          `${where}: output value`,
        );
        const fmt = ['single', 'discard', 'multiple'][Number(outFormat ?? 0)];
        assert.equal(get(doc, 'sflow.sample.output.format'), fmt, `${where}: output format`);
      }
      // The sampled packet's outer headers.
      const tree = find(s, 'sflow_245.header_tree') as Obj | undefined;
      if (tree) {
        const ip = first(tree.ip) ?? first(tree.ipv6);
        const src = ip?.['ip.src'] ?? ip?.['ipv6.src'];
        const dst = ip?.['ip.dst'] ?? ip?.['ipv6.dst'];
        if (src !== undefined) assert.equal(get(doc, 'source.ip'), src, `${where}: source.ip`);
        if (dst !== undefined)
          assert.equal(get(doc, 'destination.ip'), dst, `${where}: destination.ip`);
        const proto = ip?.['ip.proto'] ?? ip?.['ipv6.nxt'];
        if (proto !== undefined && first(tree.ipv6)?.['ipv6.nxt'] !== '0') {
          assert.equal(get(doc, 'network.iana_number'), String(proto), `${where}: protocol`);
        }
        const l4 = first(tree.tcp) ?? first(tree.udp);
        const sport = l4?.['tcp.srcport'] ?? l4?.['udp.srcport'];
        if (sport !== undefined)
          assert.equal(get(doc, 'source.port'), Number(sport), `${where}: source.port`);
        const icmp = first(tree.icmp) ?? first(tree.icmpv6);
        const itype = icmp?.['icmp.type'] ?? icmp?.['icmpv6.type'];
        if (itype !== undefined)
          assert.equal(get(doc, 'icmp.type'), Number(itype), `${where}: icmp type`);
        const eth = first(tree.eth);
        if (eth?.['eth.src'] !== undefined) {
          assert.equal(
            get(doc, 'source.mac'),
            String(eth['eth.src']).toUpperCase().replaceAll(':', '-'),
            where,
          );
        }
        const vlan = first(tree.vlan);
        if (vlan?.['vlan.id'] !== undefined) {
          assert.equal(
            get(doc, 'network.vlan.id'),
            String(Number(vlan['vlan.id'])),
            `${where}: vlan`,
          );
        }
      }
    }
  });
}
