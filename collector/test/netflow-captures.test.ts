// Every NetFlow/IPFIX capture in ../shared/pcaps decoded by Sluice and by tshark (the
// independent oracle), compared record by record and field by field.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { needServer, PCAPS_DIR, tsharkFields, tsharkPath } from '@sluice/testkit';
import { FlowDecoder } from '../src/flow/decoder.js';
import { type FlowDocument, toDocument } from '../src/flow/document.js';
import { datagramsFromCaptures } from '../src/ingest/capture-source.js';
import { elementFor } from '../src/protocol/ipfix/registry/index.js';
import { flatten, mergeCaptures, tsharkExports, tsharkTimeMs } from './support/oracle.js';

const DIR = join(PCAPS_DIR, 'akvorado', 'netflow');

/** Each case: captures fed in order (templates first), as a user would to `sluice decode`. */
interface Case {
  files: readonly string[];
  /** Compare only the last export packet (see the data+templates case). */
  lastPacketOnly?: boolean;
}

const CASES: readonly (readonly string[] | Case)[] = [
  ['nfv5.pcap'],
  ['template.pcap', 'data.pcap'],
  // Data before its template in the same packet: tshark gives up on that set ("no
  // template found"); Sluice holds it and decodes it when the template arrives. The
  // oracle here is tshark on the packet seen twice (the second time it knows the template).
  { files: ['data+templates.pcap', 'data+templates.pcap'], lastPacketOnly: true },
  ['options-template.pcap', 'options-data.pcap'],
  ['icmp-template.pcap', 'icmp-data.pcap'],
  ['ipfixprobe-templates.pcap', 'ipfixprobe-data.pcap'],
  ['samplingrate-template.pcap', 'samplingrate-data.pcap'],
  [
    'multiplesamplingrates-options-template.pcap',
    'multiplesamplingrates-options-data.pcap',
    'multiplesamplingrates-template.pcap',
    'multiplesamplingrates-data.pcap',
  ],
  ['datalink-template.pcap', 'datalink-data.pcap'],
  ['ipfix-srv6-template.pcap', 'ipfix-srv6-data.pcap'],
  ['juniper-cpid-template.pcap', 'juniper-cpid-data.pcap'],
  [
    'ethernet-over-mpls-with-control-word-template.pcap',
    'ethernet-over-mpls-with-control-word-data.pcap',
  ],
  ['mpls.pcap'],
  ['nat.pcap'],
  ['physicalinterfaces.pcap'],
];

type Norm = 'num' | 'str' | 'mac' | 'fwd';
/** tshark cflow field -> IANA element id (the element our document stores it under). */
const FIELDS: readonly [string, number, Norm][] = [
  ['cflow.octets', 1, 'num'],
  ['cflow.packets', 2, 'num'],
  ['cflow.protocol', 4, 'num'],
  ['cflow.tos', 5, 'num'],
  ['cflow.tcpflags', 6, 'num'],
  ['cflow.srcport', 7, 'num'],
  ['cflow.srcaddr', 8, 'str'],
  ['cflow.srcmask', 9, 'num'],
  ['cflow.inputint', 10, 'num'],
  ['cflow.dstport', 11, 'num'],
  ['cflow.dstaddr', 12, 'str'],
  ['cflow.dstmask', 13, 'num'],
  ['cflow.outputint', 14, 'num'],
  ['cflow.nexthop', 15, 'str'],
  ['cflow.srcas', 16, 'num'],
  ['cflow.dstas', 17, 'num'],
  ['cflow.bgpnexthop', 18, 'str'],
  ['cflow.srcaddrv6', 27, 'str'],
  ['cflow.dstaddrv6', 28, 'str'],
  ['cflow.srcmaskv6', 29, 'num'],
  ['cflow.dstmaskv6', 30, 'num'],
  ['cflow.ipv6flowlabel', 31, 'num'],
  ['cflow.sampling_interval', 34, 'num'],
  ['cflow.sampling_algorithm', 35, 'num'],
  ['cflow.sampler_id', 48, 'num'],
  ['cflow.sampler_mode', 49, 'num'],
  ['cflow.sampler_random_interval', 50, 'num'],
  ['cflow.ttl_min', 52, 'num'],
  ['cflow.ttl_max', 53, 'num'],
  ['cflow.srcmac', 56, 'mac'],
  ['cflow.vlanid', 58, 'num'],
  ['cflow.post_vlanid', 59, 'num'],
  ['cflow.ip_version', 60, 'num'],
  ['cflow.direction', 61, 'num'],
  ['cflow.bgpnexthopv6', 63, 'str'],
  ['cflow.dstmac', 80, 'mac'],
  ['cflow.sampler_name', 84, 'str'],
  // tshark shows the 2-bit status of forwardingStatus (RFC 7270), we keep the byte.
  ['cflow.forwarding_status', 89, 'fwd'],
  ['cflow.peer_dstas', 128, 'num'],
  ['cflow.peer_srcas', 129, 'num'],
  ['cflow.flow_end_reason', 136, 'num'],
  ['cflow.ingress_vrfid', 234, 'num'],
  ['cflow.egress_vrfid', 235, 'num'],
  ['cflow.data_link_frame_size', 312, 'num'],
];

function norm(v: unknown, how: Norm): unknown {
  if (how === 'num') return Number(v);
  if (how === 'fwd') return Number(v) > 3 ? Number(v) >> 6 : Number(v);
  if (how === 'mac') return String(v).toLowerCase();
  return String(v);
}

/** Our documents, per export datagram. */
function ours(files: readonly string[]): FlowDocument[][] {
  const decoder = new FlowDecoder();
  const docs: FlowDocument[][] = [];
  for (const d of datagramsFromCaptures(files))
    docs.push(decoder.decode(d).records.map(toDocument));
  return docs;
}

function get(doc: FlowDocument, path: string): unknown {
  let cur: unknown = doc;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

for (const c of CASES) {
  const { files: names, lastPacketOnly = false } = 'files' in c ? c : { files: c };
  test(`NetFlow/IPFIX capture ${names.join(' + ')} decodes like tshark`, async (t) => {
    if (!(await needServer(t, async () => tsharkPath()))) return;
    const files = names.map((n) => join(DIR, n));
    const merged = mergeCaptures(files);
    const port = Number(tsharkFields(merged, ['udp.dstport'])[0]?.[0]);
    let exports = tsharkExports(merged, port);
    let perDatagram = ours(files);
    assert.equal(perDatagram.length, exports.length, 'as many export packets as tshark');
    if (lastPacketOnly) {
      // Every datagram, the first included (held data), yields the same records.
      for (const d of perDatagram) assert.equal(d.length, perDatagram.at(-1)?.length);
      exports = exports.slice(-1);
      perDatagram = perDatagram.slice(-1);
    }
    const expected = exports.flatMap((e) =>
      e.flows.map((f) => ({ header: e.header, options: f.options, flow: flatten(f.fields) })),
    );
    const docs = perDatagram.flat();
    assert.ok(expected.length > 0, 'tshark found records');
    assert.equal(docs.length, expected.length, 'as many records as tshark');

    // Sampling rates as tshark shows them in options data: per sampler id, and the
    // exporter's last announced rate for records that name no sampler.
    const samplerRates = new Map<number, number>();
    let domainRate: number | undefined;
    for (const { flow, options } of expected) {
      const rate = flow['cflow.sampler_random_interval'] ?? flow['cflow.sampling_interval'];
      if (options && rate !== undefined) {
        if (flow['cflow.sampler_id'] !== undefined)
          samplerRates.set(Number(flow['cflow.sampler_id']), Number(rate));
        domainRate = Number(rate);
      }
    }

    let compared = 0;
    for (let i = 0; i < expected.length; i++) {
      const { header, flow, options } = expected[i] as (typeof expected)[number];
      const doc = docs[i] as FlowDocument;
      const where = `record ${i + 1}`;
      for (const [tsField, id, how] of FIELDS) {
        const value = flow[tsField];
        if (value === undefined) continue;
        // A biflow (RFC 5103) has the element twice: forward, then reverse (PEN 29305).
        const values = Array.isArray(value) ? value : [value];
        const keys = [
          `netflow.${elementFor(0, id).field}`,
          `netflow.${elementFor(29305, id).field}`,
        ];
        values.forEach((v, k) => {
          const key = keys[k] as string;
          assert.deepEqual(
            norm(get(doc, key), how),
            norm(v, how),
            `${where}: ${key} vs ${tsField}`,
          );
          compared += 1;
        });
      }
      if (options) {
        assert.equal(get(doc, 'netflow.type'), 'netflow_options', where);
        continue;
      }
      // ECS fields carry the same facts.
      const src = flow['cflow.srcaddr'] ?? flow['cflow.srcaddrv6'];
      if (src !== undefined) assert.equal(get(doc, 'source.ip'), src, `${where}: source.ip`);
      const dst = flow['cflow.dstaddr'] ?? flow['cflow.dstaddrv6'];
      if (dst !== undefined)
        assert.equal(get(doc, 'destination.ip'), dst, `${where}: destination.ip`);
      if (flow['cflow.protocol'] !== undefined) {
        assert.equal(get(doc, 'network.iana_number'), String(flow['cflow.protocol']), where);
      }
      const octets = flow['cflow.octets'];
      if (octets !== undefined) {
        const total = (Array.isArray(octets) ? octets : [octets]).reduce(
          (a: number, b) => a + Number(b),
          0,
        );
        assert.equal(get(doc, 'network.bytes'), total, `${where}: network.bytes (both directions)`);
      }
      if (flow['cflow.inputint'] !== undefined) {
        assert.equal(
          get(doc, 'observer.ingress.interface.id'),
          String(flow['cflow.inputint']),
          where,
        );
      }
      // Timestamps: sysUptime-relative (v5/v9) anchored on the header, or absolute (IPFIX).
      if (flow['cflow.timestart'] !== undefined) {
        const anchor =
          Number(
            header['cflow.unix_secs'] ??
              (header['cflow.timestamp_tree'] as Record<string, unknown>)?.['cflow.unix_secs'],
          ) *
            1000 +
          Number(
            (header['cflow.timestamp_tree'] as Record<string, unknown> | undefined)?.[
              'cflow.unix_nsecs'
            ] ?? 0,
          ) /
            1e6 -
          Number(header['cflow.sysuptime']) * 1000;
        const start = anchor + Number(flow['cflow.timestart']) * 1000;
        const end = anchor + Number(flow['cflow.timeend']) * 1000;
        assert.equal(
          Date.parse(String(get(doc, 'event.start'))),
          Math.round(start),
          `${where}: event.start`,
        );
        assert.equal(
          Date.parse(String(get(doc, 'event.end'))),
          Math.round(end),
          `${where}: event.end`,
        );
      }
      if (flow['cflow.abstimestart'] !== undefined) {
        const start = tsharkTimeMs(String(flow['cflow.abstimestart']));
        assert.equal(
          Date.parse(String(get(doc, 'event.start'))),
          Math.floor(start),
          `${where}: event.start`,
        );
      }
      if (flow['cflow.abstimeend'] !== undefined) {
        const end = tsharkTimeMs(String(flow['cflow.abstimeend']));
        assert.equal(
          Date.parse(String(get(doc, '@timestamp'))),
          Math.floor(end),
          `${where}: @timestamp`,
        );
      }
      // Sampling: the record's own rate, else its sampler's from options data.
      const rate =
        flow['cflow.sampling_interval'] !== undefined
          ? Number(flow['cflow.sampling_interval'])
          : ((flow['cflow.sampler_id'] !== undefined
              ? samplerRates.get(Number(flow['cflow.sampler_id']))
              : undefined) ?? domainRate);
      if (rate !== undefined && rate > 0) {
        assert.equal(get(doc, 'sluice.sampling.rate'), rate, `${where}: sampling rate`);
        if (typeof octets === 'string') {
          assert.equal(get(doc, 'sluice.scaled.bytes'), Number(octets) * rate, where);
        }
      }
    }
    assert.ok(compared > 0, 'fields were compared');
  });
}
