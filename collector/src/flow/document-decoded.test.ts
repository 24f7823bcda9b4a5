import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  Bytes,
  type FieldSpec,
  ipfixMessage,
  ipfixTemplateRecord,
  set,
  v9Packet,
  v9TemplateRecord,
} from '../../test/support/wire.js';
import { ipv6ToString } from '../protocol/address.js';
import { type Datagram, FlowDecoder } from './decoder.js';
import { documentText } from './document.js';
import {
  serializeDocumentReference,
  toDocumentReference,
} from './document-reference.test-helpers.js';
import type { FlowRecord } from './record.js';

// The decoder's fast paths against the original document builder, on records the
// decoder itself made from generated packets: addresses kept as numbers beside their
// text (FlowField.ipv4, FlowRecord.srcIpv4/dstIpv4) and written from the number, the
// Community ID hashed from them, the generated record readers (fixed-length templates)
// and the generic loop (a variable-length field), the generated `netflow.*` writer
// (after 64 records of a layout). The reference builder reads only the text, so a
// number that disagreed with its text would fail here.

const RECEIVED_MS = 1_700_000_100_000;

/** Elements a template may hold: addresses of both families, ports, counters, times. */
const ELEMENTS: readonly FieldSpec[] = [
  { id: 8, length: 4 }, // sourceIPv4Address
  { id: 12, length: 4 }, // destinationIPv4Address
  { id: 15, length: 4 }, // ipNextHopIPv4Address
  { id: 18, length: 4 }, // bgpNextHopIPv4Address
  { id: 225, length: 4 }, // postNATSourceIPv4Address
  { id: 27, length: 16 }, // sourceIPv6Address
  { id: 28, length: 16 }, // destinationIPv6Address
  { id: 7, length: 2 }, // sourceTransportPort
  { id: 11, length: 2 }, // destinationTransportPort
  { id: 4, length: 1 }, // protocolIdentifier
  { id: 6, length: 1 }, // tcpControlBits
  { id: 10, length: 2 }, // ingressInterface
  { id: 14, length: 4 }, // egressInterface
  { id: 1, length: 4 }, // octetDeltaCount
  { id: 2, length: 8 }, // packetDeltaCount
  { id: 22, length: 4 }, // flowStartSysUpTime
  { id: 21, length: 4 }, // flowEndSysUpTime
  { id: 32, length: 2 }, // icmpTypeCodeIPv4
  { id: 61, length: 1 }, // flowDirection
  // Repeated elements (a JSON array in the document; the address rule across fields).
  { id: 8, length: 4 },
  { id: 12, length: 4 },
];

/** IPv4 values exporters send, the unspecified address among them. */
const ipv4Arb = fc.oneof(
  { weight: 4, arbitrary: fc.nat(0xffffffff) },
  { weight: 2, arbitrary: fc.constantFrom(0, 0xffffffff, 0x7f000001) },
);

const protocolArb = fc.constantFrom(1, 6, 17, 58, 132, 47);

/** A field's bytes: addresses, protocols and the rest drawn so the lifted facts vary. */
function valueArb(f: FieldSpec): fc.Arbitrary<number[]> {
  if (f.length === 4 && [8, 12, 15, 18, 225].includes(f.id)) {
    return ipv4Arb.map((n) => [...new Bytes().u32(n).bytes()]);
  }
  if (f.id === 4) return protocolArb.map((p) => [p]);
  return fc.array(fc.nat(255), { minLength: f.length, maxLength: f.length });
}

const layoutArb = fc.uniqueArray(fc.constantFrom(...ELEMENTS), {
  minLength: 1,
  maxLength: ELEMENTS.length,
});

/** A layout and `rows` records of it, each record's bytes. */
function recordsArb(rows: number) {
  return layoutArb.chain((layout) =>
    fc.tuple(
      fc.constant(layout),
      fc.array(fc.tuple(...layout.map(valueArb)), { minLength: rows, maxLength: rows }),
    ),
  );
}

function assertReference(records: readonly FlowRecord[], where: string): void {
  for (const [i, r] of records.entries()) {
    const want = serializeDocumentReference(toDocumentReference(r));
    assert.equal(documentText(r), want, `${where} record ${i}`);
  }
}

function datagram(bytes: Uint8Array): Datagram {
  return { bytes, exporter: '192.0.2.9', exporterPort: 2055, receivedMs: RECEIVED_MS };
}

/** Splits rows into packets of `perPacket` records. */
function chunks<T>(rows: readonly T[], perPacket: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += perPacket) out.push(rows.slice(i, i + perPacket));
  return out;
}

test('documents of decoded NetFlow v9 records equal the reference text', () => {
  fc.assert(
    fc.property(recordsArb(100), ([layout, rows]) => {
      const decoder = new FlowDecoder();
      const tpl = set(0, v9TemplateRecord(300, layout));
      let n = 0;
      for (const [p, part] of chunks(rows, 25).entries()) {
        const data = new Bytes();
        for (const row of part) for (const v of row) data.raw(v);
        const sets = p === 0 ? [tpl, set(300, data.bytes())] : [set(300, data.bytes())];
        const out = decoder.decode(datagram(v9Packet(sets, { sequence: p })));
        assert.deepEqual(out.issues, []);
        assert.equal(out.records.length, part.length);
        assertReference(out.records, `v9 packet ${p}`);
        n += out.records.length;
      }
      assert.equal(n, rows.length);
    }),
    { numRuns: 40 },
  );
});

test('documents of decoded IPFIX records equal the reference text, with and without a variable-length field', () => {
  fc.assert(
    fc.property(recordsArb(80), fc.boolean(), ([layout, rows], varlen) => {
      const decoder = new FlowDecoder();
      // interfaceName (82) as a variable-length field: the template is read by the
      // generic loop instead of a generated reader.
      const fields = varlen ? [...layout, { id: 82, length: 0xffff }] : layout;
      const tpl = set(2, ipfixTemplateRecord(400, fields));
      for (const [p, part] of chunks(rows, 20).entries()) {
        const data = new Bytes();
        for (const row of part) {
          for (const v of row) data.raw(v);
          if (varlen) data.u8(3).text('et0');
        }
        const sets = p === 0 ? [tpl, set(400, data.bytes())] : [set(400, data.bytes())];
        const out = decoder.decode(datagram(ipfixMessage(sets, { sequence: p * 20 })));
        assert.deepEqual(out.issues, []);
        assert.equal(out.records.length, part.length);
        assertReference(out.records, `IPFIX packet ${p}`);
      }
    }),
    { numRuns: 40 },
  );
});

test('documents of decoded NetFlow v5 records equal the reference text', () => {
  const row = fc.tuple(
    ipv4Arb,
    ipv4Arb,
    ipv4Arb,
    fc.nat(0xffff),
    fc.nat(0xffff),
    fc.nat(0xffff),
    protocolArb,
  );
  fc.assert(
    fc.property(fc.array(row, { minLength: 90, maxLength: 90 }), (rows) => {
      const decoder = new FlowDecoder();
      for (const [p, part] of chunks(rows, 30).entries()) {
        const b = new Bytes().u16(5).u16(part.length).u32(500_000).u32(1_700_000_000).u32(0);
        b.u32(p * 30)
          .u8(0)
          .u8(0)
          .u16(0);
        for (const [src, dst, hop, sport, dport, ifx, proto] of part) {
          b.u32(src)
            .u32(dst)
            .u32(hop)
            .u16(ifx)
            .u16(ifx ^ 1);
          b.u32(10).u32(1000).u32(400_000).u32(450_000);
          b.u16(sport).u16(dport).u8(0).u8(0x12).u8(proto).u8(0);
          b.u16(64512).u16(65000).u8(24).u8(16).u16(0);
        }
        const out = decoder.decode(datagram(b.bytes()));
        assert.deepEqual(out.issues, []);
        assert.equal(out.records.length, part.length);
        assertReference(out.records, `v5 packet ${p}`);
        // The lifted facts against the generated bytes themselves.
        const dotted = (n: number) =>
          [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
        part.forEach(([src, dst, hop, sport, dport, , proto], i) => {
          const r = out.records[i];
          assert.equal(r?.srcAddr, dotted(src));
          assert.equal(r?.dstAddr, dotted(dst));
          assert.equal(r?.nextHop, dotted(hop));
          assert.equal(r?.protocol, proto);
          assert.equal(r?.srcPort, sport);
          assert.equal(r?.dstPort, dport);
        });
      }
    }),
    { numRuns: 30 },
  );
});

test('decoded records name the addresses their fields say, numbers and text agreeing', () => {
  // The rule the producer applies, worked out here from the bytes: fields in template
  // order, each address replacing the current one unless only the new one is the
  // unspecified address (templates with both families fill one).
  const SRC = new Set([8, 27]);
  const DST = new Set([12, 28]);
  const text = (b: number[]) => (b.length === 4 ? b.join('.') : ipv6ToString(Uint8Array.from(b)));
  const unspecified = (t: string | undefined) => t === '0.0.0.0' || t === '::';
  fc.assert(
    fc.property(recordsArb(3), ([layout, rows]) => {
      const decoder = new FlowDecoder();
      const data = new Bytes();
      for (const row of rows) for (const v of row) data.raw(v);
      const pkt = v9Packet([set(0, v9TemplateRecord(300, layout)), set(300, data.bytes())]);
      const records = decoder.decode(datagram(pkt)).records;
      assert.equal(records.length, rows.length);
      for (const [i, r] of records.entries()) {
        let src: string | undefined;
        let dst: string | undefined;
        let version: number | undefined;
        layout.forEach((f, j) => {
          const t = text((rows[i] as number[][])[j] as number[]);
          const take = (cur: string | undefined) =>
            cur === undefined || unspecified(cur) || !unspecified(t);
          if (SRC.has(f.id) && take(src)) {
            src = t;
            version = f.length === 4 ? 4 : 6;
          } else if (DST.has(f.id) && take(dst)) {
            dst = t;
            version = f.length === 4 ? 4 : 6;
          }
        });
        assert.equal(r.srcAddr, src, `record ${i} source`);
        assert.equal(r.dstAddr, dst, `record ${i} destination`);
        assert.equal(r.ipVersion, version, `record ${i} ipVersion`);
        const asText = (n: number) =>
          [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
        if (r.srcIpv4 !== undefined) assert.equal(r.srcAddr, asText(r.srcIpv4));
        if (r.dstIpv4 !== undefined) assert.equal(r.dstAddr, asText(r.dstIpv4));
        for (const f of r.fields) if (f.ipv4 !== undefined) assert.equal(f.value, asText(f.ipv4));
      }
    }),
    { numRuns: 500 },
  );
});
