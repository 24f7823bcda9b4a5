import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { needServer, PCAPS_DIR, type TsharkLayers, tsharkPath } from '@sluice/testkit';
import fc from 'fast-check';
import { fuzzRuns } from '../../../test/support/fuzz.js';
import type { PacketHeaders } from '../packet/index.js';
import {
  type PcapPacket,
  readPcap,
  udpDatagrams,
  udpFrame,
  writePcap,
} from '../packet/pcap.test-helpers.js';
import {
  compareLayers,
  isTruncated,
  ourLayers,
  tsharkLayers,
} from '../packet/tshark-compare.test-helpers.js';
import {
  decodeSflow,
  type SflowCounterRecord,
  type SflowDatagram,
  type SflowFlowRecord,
  type SflowInterfaceFormat,
  type SflowResult,
  type SflowSample,
} from './index.js';
import { xdr } from './xdr.test-helpers.js';

const SFLOW = join(PCAPS_DIR, 'akvorado', 'sflow');
const tmp = mkdtempSync(join(tmpdir(), 'sluice-sflow-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

type Json = Record<string, unknown>;

/**
 * tshark's layers for every packet of `file` (IP reassembly off, so sampled first
 * fragments show their transport header as the decoder reads them).
 */
function tshark(file: string, decodeAs: string[]): TsharkLayers[] {
  const args = ['-r', file, '-T', 'json', '--no-duplicate-keys'];
  args.push('-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE');
  for (const d of decodeAs) args.push('-d', d);
  const out = execFileSync(tsharkPath(), args, {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return (JSON.parse(out) as { _source: { layers: TsharkLayers } }[]).map((p) => p._source.layers);
}

function writeTemp(name: string, packets: readonly PcapPacket[]): string {
  const file = join(tmp, `${name}.pcap`);
  writeFileSync(file, writePcap(packets));
  return file;
}

/**
 * Decodes a datagram that must decode cleanly. Some of the captures were cut down from a
 * bigger one by lowering the sample count, leaving the other samples' bytes behind: those
 * are reported (tshark ignores them too) and allowed when `trailing` is set.
 */
function decodeOk(payload: Uint8Array, trailing = false): SflowDatagram {
  const res = decodeSflow(payload);
  assert.equal(res.ok, true, JSON.stringify(res.errors));
  const unexpected = res.errors.filter(
    (e) => !(trailing && e.reason === 'bad_length' && e.message.includes('after the last')),
  );
  assert.deepEqual(unexpected, []);
  assert.ok(res.datagram);
  return res.datagram;
}

// --- reading tshark's sFlow tree -------------------------------------------------------

const obj = (v: unknown): Json | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Child objects (arrays flattened, in key order) that have `key`. */
function children(o: Json, key: string): Json[] {
  const out: Json[] = [];
  for (const v of Object.values(o)) {
    for (const x of list(v)) {
      const c = obj(x);
      if (c !== undefined && key in c) out.push(c);
    }
  }
  return out;
}

const hexColons = (b: Uint8Array) =>
  Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');

const FORMAT_CODE: Record<SflowInterfaceFormat, number> = {
  single: 0,
  discard: 1,
  multiple: 2,
  unknown: 3,
};

/** Collects `tshark field = our value` mismatches. */
class Diff {
  readonly lines: string[] = [];
  eq(where: string, o: Json | undefined, field: string, ours: unknown): void {
    const theirs = o?.[field];
    const a = Array.isArray(ours) ? ours.map(String) : String(ours);
    const e = Array.isArray(ours) ? list(theirs).map(String) : theirs;
    if (JSON.stringify(e) !== JSON.stringify(a)) {
      this.lines.push(
        `${where} ${field}: tshark ${JSON.stringify(theirs)} vs ours ${JSON.stringify(a)}`,
      );
    }
  }
}

function compareDatagram(d: Diff, t: Json, dg: SflowDatagram): void {
  d.eq('header', t, 'sflow_245.version', dg.version);
  d.eq('header', t, 'sflow_245.agenttype', dg.agentAddressType);
  d.eq(
    'header',
    t,
    dg.agentAddressType === 2 ? 'sflow_245.agent.v6' : 'sflow_245.agent',
    dg.agentAddress,
  );
  if (dg.version === 5) d.eq('header', t, 'sflow_245.sub_agent_id', dg.subAgentId);
  d.eq('header', t, 'sflow_245.sequence_number', dg.sequenceNumber);
  d.eq('header', t, 'sflow_245.sysuptime', dg.uptimeMs);
  d.eq('header', t, 'sflow_245.numsamples', dg.sampleCount);
  const samples = children(t, 'sflow_245.sampletype');
  if (samples.length !== dg.samples.length) {
    d.lines.push(`samples: tshark ${samples.length} vs ours ${dg.samples.length}`);
  }
  dg.samples.forEach((s, i) => {
    const ts = samples[i];
    if (ts !== undefined) compareSample(d, `sample ${i}`, ts, s, dg.version);
  });
}

function compareSample(d: Diff, w: string, t: Json, s: SflowSample, version: number): void {
  if (s.kind === 'raw') {
    d.lines.push(`${w}: ours raw (${s.error?.message ?? 'unknown type'})`);
    return;
  }
  d.eq(w, t, 'sflow_245.sampletype', s.format);
  if (s.kind === 'flow') {
    d.eq(w, t, 'sflow.flow_sample.sequence_number', s.sequenceNumber);
    if (s.expanded) {
      d.eq(w, t, 'sflow.flow_sample.source_id_type', s.sourceIdType);
      d.eq(w, t, 'sflow.flow_sample.source_id_index', s.sourceIdIndex);
    } else {
      d.eq(w, t, 'sflow.flow_sample.source_id_class', s.sourceIdType);
      d.eq(w, t, 'sflow.flow_sample.index', s.sourceIdIndex);
    }
    d.eq(w, t, 'sflow.flow_sample.sampling_rate', s.samplingRate);
    d.eq(w, t, 'sflow.flow_sample.sample_pool', s.samplePool);
    d.eq(w, t, 'sflow.flow_sample.dropped_packets', s.drops);
    if (version !== 5) {
      d.eq(w, t, 'sflow.flow_sample.input_interface', s.inputValue);
      if (s.outputFormat === 'multiple')
        d.eq(w, t, 'sflow.flow_sample.multiple_outputs', s.outputValue);
      else d.eq(w, t, 'sflow.flow_sample.output_interface', s.outputValue);
      compareV24FlowRecords(d, w, t, s.records, version);
      return;
    }
    if (s.expanded) {
      d.eq(w, t, 'sflow.flow_sample.input_interface_format', FORMAT_CODE[s.inputFormat]);
      d.eq(w, t, 'sflow.flow_sample.input_interface_value', s.inputValue);
      d.eq(w, t, 'sflow.flow_sample.output_interface.format', FORMAT_CODE[s.outputFormat]);
      d.eq(w, t, 'sflow.flow_sample.output_interface_value', s.outputValue);
    } else {
      // tshark shows the compact input as one number: format << 30 | value.
      const input = (FORMAT_CODE[s.inputFormat] * 2 ** 30 + s.inputValue) >>> 0;
      d.eq(w, t, 'sflow.flow_sample.input_interface', input);
      const out = obj(t['sflow.flow_sample.output_interface_tree']);
      d.eq(w, out, 'sflow.flow_sample.output_interface_format', FORMAT_CODE[s.outputFormat]);
      d.eq(w, out, 'sflow.flow_sample.output_interface_value', s.outputValue);
    }
    d.eq(w, t, 'sflow.flow_sample.flow_record', s.recordCount);
    const theirs = children(t, 'sflow_245.flow_record_format');
    compareByFormat(d, w, theirs, s.records, 'sflow_245.flow_record_format', compareFlowRecord);
    return;
  }
  d.eq(w, t, 'sflow.counters_sample.sequence_number', s.sequenceNumber);
  if (version !== 5) {
    d.eq(w, t, 'sflow.counters_sample.source_id_class', s.sourceIdType);
    d.eq(w, t, 'sflow.counters_sample.index', s.sourceIdIndex);
    d.eq(w, t, 'sflow.counters_sample.sampling_interval', s.samplingInterval);
    d.eq(w, t, 'sflow.counters_sample.counters_type', s.countersType);
    // tshark 4.0 shows the generic block and VLAN counters of v2/v4 inline; the
    // Ethernet block of counters type 2 it skips without showing.
    for (const r of s.records) {
      if (r.type === 'generic_interface' || r.type === 'vlan') compareCounterRecord(d, w, t, r);
    }
    return;
  }
  d.eq(w, t, 'sflow.counters_sample.source_id_type', s.sourceIdType);
  d.eq(w, t, 'sflow.counters_sample.source_id_index', s.sourceIdIndex);
  d.eq(w, t, 'sflow.counters_sample.counters_records', s.recordCount);
  const theirs = children(t, 'sflow_245.counters_record_format');
  const known = s.records.filter((r) => r.type !== 'raw');
  compareByFormat(d, w, theirs, known, 'sflow_245.counters_record_format', compareCounterRecord);
  // Records of an unknown enterprise: tshark shows their bytes.
  const unknown = s.records.filter((r) => r.type === 'raw');
  const tu = children(t, 'sflow.enterprise.data');
  unknown.forEach((r, i) => {
    if (r.type === 'raw')
      d.eq(`${w} unknown record ${i}`, tu[i], 'sflow.enterprise.data', hexColons(r.raw));
  });
}

/** Pairs records by format, in order (tshark groups same-titled records into arrays). */
function compareByFormat<R extends { format: number }>(
  d: Diff,
  w: string,
  theirs: Json[],
  ours: R[],
  formatKey: string,
  cmp: (d: Diff, w: string, t: Json, r: R) => void,
): void {
  const formats = new Set([
    ...ours.map((r) => r.format),
    ...theirs.map((t) => Number(t[formatKey])),
  ]);
  for (const f of formats) {
    const a = ours.filter((r) => r.format === f);
    const e = theirs.filter((t) => Number(t[formatKey]) === f);
    if (a.length !== e.length)
      d.lines.push(`${w} format ${f}: tshark ${e.length} vs ours ${a.length}`);
    a.forEach((r, i) => {
      const t = e[i];
      if (t !== undefined) cmp(d, `${w} format ${f}#${i}`, t, r);
    });
  }
}

function compareFlowRecord(d: Diff, w: string, t: Json, r: SflowFlowRecord): void {
  switch (r.type) {
    case 'raw_header':
      d.eq(w, t, 'sflow_245.header_protocol', r.headerProtocol);
      d.eq(w, t, 'sflow_245.header.frame_length', r.frameLength);
      d.eq(w, t, 'sflow_245.header.payload_stripped', r.stripped);
      compareHeaderBytes(d, w, t, r.header);
      break;
    case 'ethernet_frame':
      d.eq(w, t, 'sflow_245.ethernet.length', r.length);
      d.eq(w, t, 'sflow_245.ethernet.source_mac_address', r.srcMac);
      d.eq(w, t, 'sflow_245.ethernet.destination_mac_address', r.dstMac);
      d.eq(w, t, 'sflow_245.ethernet.packet_type', r.etherType);
      break;
    case 'ipv4':
    case 'ipv6':
      // tcp_flags and tos/priority: tshark 4.0 reads the flag bits and the IPv4 TOS from
      // the most significant byte of these 32-bit words; the spec puts the value in the
      // low bits (XDR unsigned int). Only the IPv6 priority is compared.
      d.eq(w, t, 'sflow_245.ip.length', r.length);
      d.eq(w, t, 'sflow.ip_protocol', r.protocol);
      d.eq(w, t, `sflow_245.${r.type}_src`, r.srcAddr);
      d.eq(w, t, `sflow_245.${r.type}_dst`, r.dstAddr);
      d.eq(w, t, 'sflow_245.ip.source_port', r.srcPort);
      d.eq(w, t, 'sflow.ip.destination_port', r.dstPort);
      if (r.type === 'ipv6') d.eq(w, t, 'sflow_245.ipv6_priority', r.priority);
      break;
    default:
      compareExtended(d, w, t, r, 5);
  }
}

function compareHeaderBytes(d: Diff, w: string, t: Json, header: Uint8Array): void {
  d.eq(w, t, 'sflow_245.header.sampled_header_length', header.length);
  // tshark's header field runs to the 4-byte padding.
  const theirs = String(t['sflow_245.header'] ?? '').slice(0, header.length * 3 - 1);
  if (theirs !== hexColons(header)) d.lines.push(`${w} header bytes differ`);
}

function compareExtended(d: Diff, w: string, t: Json, r: SflowFlowRecord, version: number): void {
  switch (r.type) {
    case 'extended_switch':
      d.eq(w, t, 'sflow_245.vlan.in', r.srcVlan);
      d.eq(w, t, 'sflow_245.pri.in', r.srcPriority);
      d.eq(w, t, 'sflow_245.vlan.out', r.dstVlan);
      d.eq(w, t, 'sflow_245.pri.out', r.dstPriority);
      break;
    case 'extended_router':
      d.eq(
        w,
        t,
        r.nextHop?.includes(':') ? 'sflow_245.nexthop.v6' : 'sflow_245.nexthop',
        r.nextHop,
      );
      d.eq(w, t, 'sflow_245.nexthop.src_mask', r.srcMaskLen);
      d.eq(w, t, 'sflow_245.nexthop.dst_mask', r.dstMaskLen);
      break;
    case 'extended_gateway': {
      if (version === 5) d.eq(w, t, 'sflow_245.nexthop', r.nextHop);
      d.eq(w, t, 'sflow_245.as', r.as);
      d.eq(w, t, 'sflow_245.srcAS', r.srcAs);
      d.eq(w, t, 'sflow_245.peerAS', r.srcPeerAs);
      if (version === 2) {
        const only = r.asPath[0]?.asns ?? [];
        d.eq(w, t, 'sflow_245.dstASentries', only.length);
        d.eq(w, obj(t['sflow_245.dstASentries_tree']), 'sflow_245.dstAS', only);
        break;
      }
      d.eq(w, t, 'sflow_245.dstASentries', r.asPath.length);
      d.eq(
        w,
        t,
        'sflow.as_type',
        r.asPath.map((s) => s.type),
      );
      const trees = list(t['sflow.as_type_tree']);
      r.asPath.forEach((s, i) => {
        d.eq(`${w} segment ${i}`, obj(trees[i]), 'sflow_245.dstAS', s.asns);
      });
      d.eq(w, t, 'sflow_245.communityEntries', r.communities.length);
      if (r.communities.length > 0) {
        d.eq(w, obj(t['sflow_245.communityEntries_tree']), 'sflow_245.dstAS', r.communities);
      }
      d.eq(w, t, 'sflow_245.localpref', r.localPref);
      break;
    }
    default:
      d.lines.push(`${w}: no tshark comparison for ${r.type}`);
  }
}

/** v2/v4: packet data fields sit in the sample; extended records in parallel arrays. */
function compareV24FlowRecords(
  d: Diff,
  w: string,
  t: Json,
  records: SflowFlowRecord[],
  version: number,
): void {
  const [packet, ...extended] = records;
  if (packet?.type === 'raw_header') {
    d.eq(w, t, 'sflow_245.packet_information_type', 1);
    d.eq(w, t, 'sflow_245.header_protocol', packet.headerProtocol);
    d.eq(w, t, 'sflow_245.header.frame_length', packet.frameLength);
    compareHeaderBytes(d, w, t, packet.header);
  } else d.lines.push(`${w}: tshark 4.0 does not decode v2/v4 packet data type ${packet?.format}`);
  const V24_TYPE: Record<number, number> = { 1001: 1, 1002: 2, 1003: 3 };
  d.eq(
    w,
    t,
    'sflow_245.extended_information_type',
    extended.map((r) => V24_TYPE[r.format]),
  );
  const trees = list(t['sflow_245.extended_information_type_tree']);
  extended.forEach((r, i) => {
    compareExtended(d, `${w} extended ${i}`, obj(trees[i]) ?? {}, r, version);
  });
}

function compareCounterRecord(d: Diff, w: string, t: Json, r: SflowCounterRecord): void {
  switch (r.type) {
    case 'generic_interface':
      d.eq(w, t, 'sflow_245.ifindex', r.ifIndex);
      d.eq(w, t, 'sflow_245.iftype', r.ifType);
      d.eq(w, t, 'sflow_245.ifspeed', r.ifSpeed);
      d.eq(w, t, 'sflow_245.ifdirection', r.ifDirection);
      d.eq(w, t, 'sflow_245.ifadmin_status', r.ifStatus & 1);
      d.eq(w, t, 'sflow_245.ifoper_status', (r.ifStatus >> 1) & 1);
      d.eq(w, t, 'sflow_245.ifinoct', r.ifInOctets);
      d.eq(w, t, 'sflow_245.ifinpkt', r.ifInUcastPkts);
      d.eq(w, t, 'sflow_245.ifinmcast', r.ifInMulticastPkts);
      d.eq(w, t, 'sflow_245.ifinbcast', r.ifInBroadcastPkts);
      d.eq(w, t, 'sflow_245.ifindisc', r.ifInDiscards);
      d.eq(w, t, 'sflow_245.ifinerr', r.ifInErrors);
      d.eq(w, t, 'sflow_245.ifinunk', r.ifInUnknownProtos);
      d.eq(w, t, 'sflow_245.ifoutoct', r.ifOutOctets);
      d.eq(w, t, 'sflow_245.ifoutpkt', r.ifOutUcastPkts);
      d.eq(w, t, 'sflow_245.ifoutmcast', r.ifOutMulticastPkts);
      d.eq(w, t, 'sflow_245.ifoutbcast', r.ifOutBroadcastPkts);
      d.eq(w, t, 'sflow_245.ifoutdisc', r.ifOutDiscards);
      d.eq(w, t, 'sflow_245.ifouterr', r.ifOutErrors);
      d.eq(w, t, 'sflow_245.ifpromisc', r.ifPromiscuousMode);
      break;
    case 'ethernet_interface':
      for (const [k, v] of Object.entries(r)) {
        if (k.startsWith('dot3')) d.eq(w, t, `sflow_245.${k}`, v);
      }
      break;
    case 'processor':
      d.eq(w, t, 'sflow_5.cpu_5s', r.cpu5s);
      d.eq(w, t, 'sflow_5.cpu_1m', r.cpu1m);
      d.eq(w, t, 'sflow_5.cpu_5m', r.cpu5m);
      d.eq(w, t, 'sflow_5.total_memory', r.totalMemory);
      d.eq(w, t, 'sflow_5.free_memory', r.freeMemory);
      break;
    case 'vlan':
      d.eq(w, t, 'sflow_245.vlan_id', r.vlanId);
      d.eq(w, t, 'sflow_245.octets', r.octets);
      d.eq(w, t, 'sflow_245.ucastPkts', r.ucastPkts);
      d.eq(w, t, 'sflow_245.multicastPkts', r.multicastPkts);
      d.eq(w, t, 'sflow_245.broadcastPkts', r.broadcastPkts);
      d.eq(w, t, 'sflow_245.discards', r.discards);
      break;
    case 'raw':
      d.lines.push(`${w}: raw record ${r.format}`);
  }
}

/**
 * Every sampled Ethernet header, written to a pcap as a frame cut at the header length
 * (original length = frame length - stripped), decoded by tshark and compared with the
 * `packet` our decoder attached.
 */
function compareHeadersLikeTshark(name: string, datagrams: SflowDatagram[]): number {
  const headers: { data: Uint8Array; origLen: number; packet: PacketHeaders }[] = [];
  for (const dg of datagrams) {
    for (const s of dg.samples) {
      if (s.kind !== 'flow') continue;
      for (const r of s.records) {
        if (r.type !== 'raw_header' || r.headerProtocol !== 1) continue;
        assert.ok(r.packet, 'Ethernet headers are decoded');
        headers.push({ data: r.header, origLen: r.frameLength - r.stripped, packet: r.packet });
      }
    }
  }
  const layers = tshark(writeTemp(`${name}-headers`, headers), []);
  assert.equal(layers.length, headers.length);
  headers.forEach((h, i) => {
    const expected = tsharkLayers(layers[i] as TsharkLayers);
    const diff = compareLayers(expected, ourLayers(h.packet), isTruncated(h.packet));
    assert.deepEqual(diff, [], `${name} header ${i}: ${diff.join('; ')}`);
  });
  return headers.length;
}

// --- tests against the real captures -----------------------------------------------------

function captureFiles(): string[] {
  return readdirSync(SFLOW)
    .filter((f) => f.endsWith('.pcap'))
    .sort();
}

test('every sFlow capture decodes like tshark, field by field', async (t) => {
  const files = captureFiles();
  assert.ok(files.length >= 11);
  let samples = 0;
  for (const file of files) {
    const path = join(SFLOW, file);
    const packets = await needServer(t, async () => tshark(path, ['udp.port==6343,sflow']));
    if (packets === undefined) return;
    const datagrams = udpDatagrams(readPcap(readFileSync(path))).filter((u) => u.dstPort === 6343);
    assert.equal(datagrams.length, packets.length, file);
    const decoded = datagrams.map((u) => decodeOk(u.payload, true));
    decoded.forEach((dg, i) => {
      const d = new Diff();
      compareDatagram(d, obj((packets[i] as Json).sflow) ?? {}, dg);
      assert.deepEqual(d.lines, [], `${file}#${i}:\n${d.lines.join('\n')}`);
      samples += dg.samples.length;
    });
    compareHeadersLikeTshark(file, decoded);
  }
  assert.ok(samples >= 15, `${samples} samples compared`);
});

test('the interface encodings of the captures decode to their formats', () => {
  const first = (file: string) => {
    const u = udpDatagrams(readPcap(readFileSync(join(SFLOW, file))))[0];
    assert.ok(u);
    const s = decodeOk(u.payload, true).samples[0];
    assert.ok(s?.kind === 'flow');
    return s;
  };
  // tshark shows these as format/value; the comparison above checked them. This pins
  // the names the lead maps to documents.
  assert.deepEqual(
    [
      first('data-discard-interface.pcap').outputFormat,
      first('data-discard-interface.pcap').outputValue,
    ],
    ['discard', 1],
  );
  assert.deepEqual(
    [
      first('data-multiple-interfaces.pcap').outputFormat,
      first('data-multiple-interfaces.pcap').outputValue,
    ],
    ['multiple', 7],
  );
  assert.deepEqual(
    [
      first('data-local-interface.pcap').outputFormat,
      first('data-local-interface.pcap').outputValue,
    ],
    ['single', 0x3fffffff],
  );
  const vxlan = first('data-encap-vxlan.pcap').records.find((r) => r.type === 'raw_header');
  assert.ok(vxlan?.type === 'raw_header');
  assert.equal(vxlan.packet?.vxlanVni, 100);
  assert.equal(vxlan.packet?.inner?.ipVersion, 6);
});

// --- synthetic datagrams: counter samples, rare records, v2 and v4 ---------------------------

const HEADER = Uint8Array.from(
  Buffer.from(
    '0200000000010200000000020800450000281234400040060000c0000201c6336402d4310050000000010000000050120fff00000000',
    'hex',
  ),
);

function generic(b = xdr(), ifIndex = 7) {
  return b
    .u32(ifIndex, 6)
    .u64(10_000_000_000n)
    .u32(1, 3)
    .u64(123_456_789_012n)
    .u32(11, 12, 13, 14, 15, 16)
    .u64(2n ** 60n + 5n)
    .u32(21, 22, 23, 24, 25, 26);
}

/** v5: counters (compact + expanded, all decoded formats + an unknown one) and rare flow records. */
function v5Synthetic(): Uint8Array {
  return xdr()
    .u32(5)
    .ipv6('2001:0db8:0000:0000:0000:0000:0000:0005')
    .u32(3, 77, 1000, 3)
    .record(
      0,
      2,
      xdr()
        .u32(9, (2 << 24) | 7, 4)
        .record(0, 1, generic())
        .record(0, 2, xdr().u32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13))
        .record(0, 1001, xdr().u32(5000, 2500, 1234).u64(8_000_000_000n).u64(1000n))
        .record(0, 5, xdr().u32(42).u64(555n).u32(1, 2, 3, 4)),
    )
    .record(0, 4, xdr().u32(10, 0, 99, 2).record(0, 1, generic()).record(9, 9, xdr().u32(1, 2)))
    .record(
      0,
      1,
      xdr()
        .u32(11, 5, 512, 5120, 1, 0x40000000 | 258, 0x80000000 | 3, 6)
        .record(
          0,
          3,
          xdr().u32(1500, 6).opaque([10, 0, 0, 1]).opaque([10, 0, 0, 2]).u32(1234, 80, 0x12, 0xb8),
        )
        .record(
          0,
          4,
          xdr()
            .u32(1400, 17)
            .opaque([...Array(15).fill(0), 1])
            .opaque([0x20, 1, 0xd, 0xb8, ...Array(11).fill(0), 2])
            .u32(53, 5353, 0x18, 0x2e),
        )
        .record(
          0,
          2,
          xdr().u32(1518).opaque([0, 1, 2, 3, 4, 5]).opaque([6, 7, 8, 9, 10, 11]).u32(0x86dd),
        )
        .record(0, 1002, xdr().ipv6('2001:0db8:0000:0000:0000:0000:0000:00fe').u32(48, 64))
        .record(
          0,
          1003,
          xdr()
            .ipv4('192.0.2.254')
            .u32(
              65000,
              64500,
              64501,
              2,
              1,
              2,
              100,
              200,
              2,
              3,
              300,
              400,
              500,
              2,
              0x12345678,
              0xfde80064,
              250,
            ),
        )
        .record(0, 1, xdr().u32(1, 64, 4).vopaque(HEADER)),
    )
    .bytes();
}

/** v4 (RFC 3176): flow sample with header + switch/router/gateway; counters 2, 7, 1. */
function v4Synthetic(): Uint8Array {
  const b = xdr()
    .u32(4)
    .ipv4('192.0.2.9')
    .u32(55, 123456, 4)
    .u32(1)
    .u32(21, 4, 256, 2560, 3, 17, 0x80000002, 1)
    .u32(1, 60)
    .vopaque(HEADER)
    .u32(3)
    .u32(1, 10, 3, 20, 5)
    .u32(2)
    .ipv4('192.0.2.1')
    .u32(24, 16)
    .u32(3)
    .u32(65001, 65002, 65003, 1, 2, 2, 65004, 65005, 1, 0xfde80001, 120)
    .u32(2)
    .u32(31, 5, 30, 2);
  generic(b);
  b.u32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)
    .u32(2)
    .u32(32, 6, 60, 7)
    .u32(7)
    .u64(999n)
    .u32(1, 2, 3, 4);
  b.u32(2).u32(33, 8, 60, 1);
  return generic(b, 8).bytes();
}

/** v2: flow sample with header, v2 gateway (plain AS list) and switch; generic counters. */
function v2Synthetic(): Uint8Array {
  const b = xdr()
    .u32(2)
    .ipv4('192.0.2.10')
    .u32(56, 654321, 2)
    .u32(1)
    .u32(22, 6, 128, 1280, 0, 18, 19, 1)
    .u32(1, 60)
    .vopaque(HEADER)
    .u32(2)
    .u32(3)
    .u32(65010, 65011, 65012, 3, 1, 2, 3)
    .u32(1)
    .u32(1, 2, 3, 4)
    .u32(2)
    .u32(33, 8, 60, 1);
  return generic(b).bytes();
}

test('synthetic v5 counters and rare records, v4 and v2 datagrams decode like tshark', async (t) => {
  const cases = [
    ['v5', v5Synthetic()],
    ['v4', v4Synthetic()],
    ['v2', v2Synthetic()],
  ] as const;
  const file = writeTemp(
    'synthetic',
    cases.map(([, b]) => ({ data: udpFrame(b, 40000, 6343) })),
  );
  const packets = await needServer(t, async () => tshark(file, ['udp.port==6343,sflow']));
  if (packets === undefined) return;
  const decoded: SflowDatagram[] = [];
  cases.forEach(([name, bytes], i) => {
    const dg = decodeOk(bytes);
    decoded.push(dg);
    const d = new Diff();
    compareDatagram(d, obj((packets[i] as Json).sflow) ?? {}, dg);
    assert.deepEqual(d.lines, [], `${name}:\n${d.lines.join('\n')}`);
  });
  assert.equal(compareHeadersLikeTshark('synthetic', decoded), 3);
  // What tshark cannot check (see compareFlowRecord), checked against the bytes written.
  const v5 = decoded[0];
  const flow = v5?.samples[2];
  assert.ok(flow?.kind === 'flow');
  assert.deepEqual([flow.inputFormat, flow.inputValue], ['discard', 258]);
  const ip4 = flow.records.find((r) => r.type === 'ipv4');
  assert.deepEqual(
    [ip4?.type === 'ipv4' && ip4.tcpFlags, ip4?.type === 'ipv4' && ip4.tos],
    [0x12, 0xb8],
  );
  const ip6 = flow.records.find((r) => r.type === 'ipv6');
  assert.equal(ip6?.type === 'ipv6' && ip6.tcpFlags, 0x18);
  assert.equal(v5?.unknownRecords, 1);
  const v4counters = decoded[1]?.samples[1];
  assert.ok(v4counters?.kind === 'counters');
  assert.deepEqual(
    v4counters.records.map((r) => r.type),
    ['generic_interface', 'ethernet_interface'],
  );
  const eth = v4counters.records[1];
  assert.equal(eth?.type === 'ethernet_interface' && eth.dot3StatsSymbolErrors, 13);
  const big = v4counters.records[0];
  assert.equal(big?.type === 'generic_interface' && big.ifOutOctets, 2n ** 60n + 5n);
});

test('v2/v4 packet data IPv4/IPv6, user and URL records, token ring counters (RFC 3176 layout)', () => {
  // tshark 4.0 does not decode these v2/v4 structures, so the oracle is the RFC layout
  // as written by the builder.
  const b = xdr()
    .u32(4)
    .ipv4('192.0.2.11')
    .u32(57, 1, 3)
    .u32(1)
    .u32(1, 3, 100, 1000, 0, 5, 6, 2)
    .u32(1500, 6)
    .opaque([10, 1, 1, 1])
    .opaque([10, 1, 1, 2])
    .u32(443, 50000, 0x18, 0x28)
    .u32(2)
    .u32(4)
    .string('alice')
    .string('bob@example')
    .u32(5, 2)
    .string('http://example.com/x')
    .u32(1)
    .u32(2, 3, 100, 1000, 0, 5, 6, 3)
    .u32(9000, 17)
    .opaque([0x20, 1, 0xd, 0xb8, ...Array(11).fill(0), 1])
    .opaque([0x20, 1, 0xd, 0xb8, ...Array(11).fill(0), 2])
    .u32(53, 53, 0, 7)
    .u32(0)
    .u32(2)
    .u32(3, 9, 30, 3);
  generic(b).opaque(Array(72).fill(1));
  const dg = decodeOk(b.bytes());
  const [a, c, tr] = dg.samples;
  assert.ok(a?.kind === 'flow' && c?.kind === 'flow' && tr?.kind === 'counters');
  assert.deepEqual(a.records, [
    {
      type: 'ipv4',
      enterprise: 0,
      format: 3,
      length: 1500,
      protocol: 6,
      srcAddr: '10.1.1.1',
      dstAddr: '10.1.1.2',
      srcPort: 443,
      dstPort: 50000,
      tcpFlags: 0x18,
      tos: 0x28,
    },
    {
      type: 'extended_user',
      enterprise: 0,
      format: 1004,
      srcUser: 'alice',
      dstUser: 'bob@example',
    },
    {
      type: 'extended_url',
      enterprise: 0,
      format: 1005,
      direction: 2,
      url: 'http://example.com/x',
    },
  ]);
  assert.deepEqual([a.outputFormat, a.outputValue, a.recordCount], ['single', 6, 3]);
  assert.equal(c.records[0]?.type === 'ipv6' && c.records[0].dstAddr, '2001:db8::2');
  assert.equal(c.records[0]?.type === 'ipv6' && c.records[0].priority, 7);
  assert.deepEqual(
    tr.records.map((r) => [r.type, r.format]),
    [
      ['generic_interface', 1],
      ['raw', 3],
    ],
  );
});

test('bad parts are reported and kept raw; the other samples survive', () => {
  // Sample 1 of 3 is a flow sample whose record claims more bytes than the sample has,
  // sample 2 is of an unknown enterprise, sample 3 is fine.
  const dg = xdr()
    .u32(5)
    .ipv4('192.0.2.1')
    .u32(0, 1, 2, 3)
    .record(0, 1, xdr().u32(1, 2, 3, 4, 5, 6, 7, 1).u32(1001, 400).u32(1, 2, 3, 4))
    .record(4413, 7, xdr().u32(1, 2, 3))
    .record(0, 2, xdr().u32(9, 7, 1).record(0, 1001, xdr().u32(1, 2)))
    .bytes();
  const res = decodeSflow(dg);
  assert.equal(res.ok, true);
  const [bad, unknown, counters] = res.datagram?.samples ?? [];
  assert.ok(bad?.kind === 'flow');
  assert.deepEqual(bad.records, []);
  assert.deepEqual(unknown && [unknown.kind, unknown.enterprise, unknown.format], ['raw', 4413, 7]);
  assert.ok(counters?.kind === 'counters');
  const rec = counters.records[0];
  assert.ok(rec?.type === 'raw');
  assert.equal(rec.error?.reason, 'truncated');
  assert.equal(res.datagram?.unknownSamples, 1);
  assert.deepEqual(
    res.errors.map((e) => [e.reason, e.sample]),
    [
      ['truncated', 0],
      ['truncated', 2],
    ],
  );
  assert.equal(decodeSflow(new Uint8Array([0, 0, 0, 3])).errors[0]?.reason, 'unknown_version');
  assert.equal(decodeSflow(new Uint8Array(6)).ok, false);
});

// --- robustness ---------------------------------------------------------------------------

function assertSane(res: SflowResult): void {
  for (const e of res.errors) assert.ok(!e.message.startsWith('internal'), e.message);
  if (!res.ok) {
    assert.equal(res.datagram, undefined);
    assert.equal(res.errors.length, 1);
  }
}

function seeds(): Uint8Array[] {
  const out = captureFiles().flatMap((f) =>
    udpDatagrams(readPcap(readFileSync(join(SFLOW, f)))).map((u) => u.payload),
  );
  return [...out, v5Synthetic(), v4Synthetic(), v2Synthetic()];
}

test('every datagram cut at every byte decodes without throwing', () => {
  for (const seed of seeds()) {
    for (let n = 0; n < seed.length; n++) assertSane(decodeSflow(seed.subarray(0, n)));
  }
});

test('random bytes, with and without a valid header, never throw', () => {
  const head = xdr().u32(5).ipv4('192.0.2.1').u32(0, 1, 2, 4).bytes();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), fc.constantFrom(0, 2, 4, 5), (body, v) => {
      assertSane(decodeSflow(body));
      const withHead = new Uint8Array(head.length + body.length);
      withHead.set(head);
      withHead[3] = v;
      withHead.set(body, head.length);
      assertSane(decodeSflow(withHead));
    }),
    { numRuns: fuzzRuns(2000) },
  );
});

test('mutated real datagrams (bit flips, lying lengths and counts) never throw', () => {
  const all = seeds();
  fc.assert(
    fc.property(
      fc.constantFrom(...all),
      fc.array(fc.tuple(fc.nat(), fc.nat({ max: 7 })), { maxLength: 6 }),
      fc.array(
        fc.tuple(
          fc.nat(),
          fc.oneof(fc.constantFrom(0, 1, 3, 4, 0x7fffffff, 0xffffffff), fc.nat({ max: 4096 })),
        ),
        { maxLength: 4 },
      ),
      (seed, flips, words) => {
        const bytes = seed.slice();
        for (const [at, bit] of flips) {
          const i = at % bytes.length;
          bytes[i] = (bytes[i] as number) ^ (1 << bit);
        }
        const view = new DataView(bytes.buffer);
        for (const [at, value] of words) {
          const i = (at % (bytes.length >>> 2)) * 4;
          view.setUint32(i, value);
        }
        assertSane(decodeSflow(bytes));
      },
    ),
    { numRuns: fuzzRuns(3000) },
  );
});
