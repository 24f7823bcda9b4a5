// Test-only documents for the Elasticsearch sink: every shared NetFlow/IPFIX and sFlow
// capture decoded by Sluice (the documents it really produces), plus two small exports
// built here for kinds and edge values the captures lack: an sFlow counter sample, and
// an IPFIX record with unknown elements and a counter of 2^64 - 1. Inputs only; the
// expected values of the tests come from Elasticsearch itself.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PCAPS_DIR } from '@sluice/testkit';
import { Bytes } from '../../../test/support/wire.js';
import { type Datagram, FlowDecoder } from '../../flow/decoder.js';
import { serializeDocument, toDocument } from '../../flow/document.js';
import { datagramsFromCaptures } from '../../ingest/capture-source.js';
import type { BulkItem } from './bulk.js';

/** sFlow v5 datagram with one counter sample: generic interface, processor, one unknown record. */
export function sflowCountersDatagram(): Uint8Array {
  const generic = new Bytes()
    .u32(3) // ifIndex
    .u32(6) // ifType ethernetCsmacd
    .u64(10_000_000_000n) // ifSpeed
    .u32(1) // ifDirection full duplex
    .u32(3) // ifStatus up/up
    .u64(2n ** 60n) // ifInOctets: beyond 2^53, serialized as a decimal string
    .u32(100)
    .u32(2)
    .u32(1)
    .u32(0)
    .u32(0)
    .u32(0)
    .u64(123_456_789n) // ifOutOctets
    .u32(90)
    .u32(0)
    .u32(0)
    .u32(0)
    .u32(0)
    .u32(0);
  const processor = new Bytes()
    .u32(5)
    .u32(7)
    .u32(9)
    .u64(8n * 2n ** 30n)
    .u64(2n ** 30n);
  const unknown = new Bytes().u32(0x01020304).u32(0x05060708);
  const records = new Bytes()
    .u32(1)
    .u32(generic.length)
    .raw([...generic.bytes()])
    .u32(1001)
    .u32(processor.length)
    .raw([...processor.bytes()])
    .u32(7777)
    .u32(unknown.length)
    .raw([...unknown.bytes()]);
  const sample = new Bytes()
    .u32(42) // sequence
    .u32(3) // source id: type 0, index 3
    .u32(3) // records
    .raw([...records.bytes()]);
  return new Bytes()
    .u32(5)
    .u32(1)
    .raw([192, 0, 2, 1])
    .u32(0) // sub-agent
    .u32(7) // sequence
    .u32(123_456) // uptime
    .u32(1) // samples
    .u32(2) // counters sample
    .u32(sample.length)
    .raw([...sample.bytes()])
    .bytes();
}

/** IPFIX message: a template and one record with unknown elements and a 2^64 - 1 counter. */
export function ipfixEdgeMessage(exportTimeS: number): Uint8Array {
  const fields: [id: number, length: number, pen?: number][] = [
    [8, 4], // sourceIPv4Address
    [12, 4], // destinationIPv4Address
    [4, 1], // protocolIdentifier
    [7, 2], // sourceTransportPort
    [11, 2], // destinationTransportPort
    [1, 8], // octetDeltaCount
    [2, 8], // packetDeltaCount
    [152, 8], // flowStartMilliseconds
    [153, 8], // flowEndMilliseconds
    [10, 3], // ingressInterface, reduced-size encoding
    [7, 4, 99999], // unknown enterprise element -> netflow.enterprise_99999_7
    [32000, 2], // unknown IANA element -> netflow.element_32000
  ];
  const template = new Bytes().u16(256).u16(fields.length);
  for (const [id, length, pen] of fields) {
    template.u16(pen === undefined ? id : id | 0x8000).u16(length);
    if (pen !== undefined) template.u32(pen);
  }
  const endMs = BigInt(exportTimeS) * 1000n - 1000n;
  const record = new Bytes()
    .raw([192, 0, 2, 10])
    .raw([198, 51, 100, 20])
    .u8(17)
    .u16(5353)
    .u16(53)
    .u64(2n ** 64n - 1n)
    .u64(3n)
    .u64(endMs - 4000n)
    .u64(endMs)
    .raw([0, 1, 2])
    .raw([0xde, 0xad, 0xbe, 0xef])
    .raw([0x20, 0x24]);
  const templateSet = new Bytes()
    .u16(2)
    .u16(4 + template.length)
    .raw([...template.bytes()]);
  const dataSet = new Bytes()
    .u16(256)
    .u16(4 + record.length)
    .raw([...record.bytes()]);
  const body = [...templateSet.bytes(), ...dataSet.bytes()];
  return new Bytes()
    .u16(10)
    .u16(16 + body.length)
    .u32(exportTimeS)
    .u32(1)
    .u32(5)
    .raw(body)
    .bytes();
}

function captureFiles(sub: string): string[] {
  const dir = join(PCAPS_DIR, 'akvorado', sub);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.pcap'))
    .sort()
    .map((f) => join(dir, f));
}

export interface FixtureDocument {
  /** `netflow.type` of the document. */
  kind: string;
  /** Where it came from: a capture file name, or `synthetic`. */
  origin: string;
  source: string;
}

/** Every document Sluice makes of the shared captures, then the synthetic ones. */
export function fixtureDocuments(): FixtureDocument[] {
  const out: FixtureDocument[] = [];
  const push = (decoder: FlowDecoder, d: Datagram, origin: string): void => {
    for (const r of decoder.decode(d).records) {
      const doc = toDocument(r);
      const kind = String((doc.netflow as { type?: unknown } | undefined)?.type);
      out.push({ kind, origin, source: serializeDocument(doc) });
    }
  };
  for (const sub of ['netflow', 'sflow']) {
    // One decoder per directory: template captures come before their data captures.
    const decoder = new FlowDecoder();
    for (const d of datagramsFromCaptures(captureFiles(sub))) push(decoder, d, d.file);
  }
  const decoder = new FlowDecoder();
  const now = Date.now();
  const exporter = { exporter: '192.0.2.1', exporterPort: 50000, receivedMs: now };
  push(decoder, { ...exporter, bytes: sflowCountersDatagram() }, 'synthetic');
  push(decoder, { ...exporter, bytes: ipfixEdgeMessage(Math.floor(now / 1000)) }, 'synthetic');
  return out;
}

/** Bulk items of documents, positions 0.. in order, ids `<prefix><position>`. */
export function itemsOf(sources: readonly string[], prefix = 'p', first = 0): BulkItem[] {
  return sources.map((source, i) => ({
    id: `${prefix}${first + i}`,
    source,
    position: BigInt(first + i),
  }));
}

/** A lowercase suffix unique to this test process, for data stream names. */
export function runSuffix(): string {
  return `${process.pid.toString(36)}${Date.now().toString(36)}`;
}
