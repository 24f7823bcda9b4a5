import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Bytes, set, v9Packet, v9TemplateRecord } from '../../test/support/wire.js';
import { FlowDecoder } from '../flow/decoder.js';
import { documentText } from '../flow/document.js';
import { JsonOut } from '../flow/json-out.js';
import { BulkLineWriter } from './bulk-lines.js';
import { documentId } from './indexer.js';

// The decode workers' bulk lines: action lines with documentId's ids (the prefix written
// once per datagram and copied for its other records, the position in base 36 digit by
// digit) and the documents documentText writes, in order.

const FIELDS = [
  { id: 8, length: 4 },
  { id: 12, length: 4 },
  { id: 7, length: 2 },
  { id: 11, length: 2 },
  { id: 4, length: 1 },
  { id: 1, length: 4 },
  { id: 2, length: 4 },
];

function datagram(rows: number, sequence: number) {
  const data = new Bytes();
  for (let i = 0; i < rows; i++) {
    data
      .u32(0x0a000001 + i)
      .u32(0xc0000201 + sequence)
      .u16(1000 + i)
      .u16(443)
      .u8(6)
      .u32(100 * i + 1)
      .u32(i + 1);
  }
  const sets = [set(0, v9TemplateRecord(300, FIELDS)), set(300, data.bytes())];
  return {
    bytes: v9Packet(sets, { sequence }),
    exporter: '192.0.2.7',
    exporterPort: 2055,
    receivedMs: Date.UTC(2024, 0, 15, 12),
  };
}

test('bulk lines: ids as documentId makes them, any prefix and position, documents as documentText', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.constantFrom('5a1ce0b2', 'test'),
        fc.string({ maxLength: 12 }),
        fc.string({ unit: 'grapheme', maxLength: 6 }),
      ),
      fc.array(
        fc.record({
          position: fc.oneof(
            fc.nat(),
            fc.constantFrom(0, 35, 36, 2 ** 31, 2 ** 32 + 7, Number.MAX_SAFE_INTEGER),
          ),
          rows: fc.integer({ min: 1, max: 40 }),
        }),
        { minLength: 1, maxLength: 5 },
      ),
      (prefix, datagrams) => {
        const out = new JsonOut(64);
        const writer = new BulkLineWriter(out);
        writer.begin();
        const want: string[] = [];
        const decoder = new FlowDecoder();
        for (const [i, d] of datagrams.entries()) {
          const records = decoder.decode(datagram(d.rows, i)).records;
          assert.equal(records.length, d.rows);
          // The texts before writing: the writer must not change what documentText says.
          records.forEach((r, k) => {
            want.push(
              JSON.stringify({ create: { _id: documentId(prefix, d.position, k) } }),
              documentText(r),
            );
          });
          writer.datagram(records, prefix, d.position);
        }
        assert.equal(out.text(), `${want.join('\n')}\n`);
        const offsets = writer.takeOffsets();
        assert.equal(offsets.length, want.length / 2 + 1);
        assert.equal(offsets[offsets.length - 1], out.pos);
      },
    ),
    { numRuns: 150 },
  );
});
