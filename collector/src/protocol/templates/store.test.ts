import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bytes, set, v9Packet, v9TemplateRecord } from '../../../test/support/wire.js';
import type { DecodeInput } from '../netflow/result.js';
import { decodeNetflowV9 } from '../netflow/v9.js';
import { TemplateStore } from './store.js';

// Exporters send their templates again every few seconds or packets. The store keeps
// the object it holds when the definition is the same (what was worked out for it is
// found by its identity: readers, generated code), and takes the new one when anything
// about the records changed.

const EXPORTER = '198.51.100.9';
const input = (store: TemplateStore): DecodeInput => ({ exporter: EXPORTER, receivedMs: 0, store });
const FIELDS = [
  { id: 8, length: 4 },
  { id: 2, length: 4 },
];

function packetWith(fields: { id: number; length: number }[], data: Uint8Array): Uint8Array {
  return v9Packet([set(0, v9TemplateRecord(300, fields)), set(300, data)], { sourceId: 3 });
}

test('a template sent again unchanged stays the object the store holds; a changed one replaces it', () => {
  const store = new TemplateStore();
  const first = decodeNetflowV9(
    packetWith(FIELDS, new Bytes().ip4('10.0.0.1').u32(5).bytes()),
    input(store),
  );
  assert.equal(first.templatesLearned, 1);
  const held = store.get(EXPORTER, 9, 3, 300);
  assert.ok(held);

  const again = decodeNetflowV9(
    packetWith(FIELDS, new Bytes().ip4('10.0.0.2').u32(6).bytes()),
    input(store),
  );
  assert.equal(again.templatesLearned, 1, 'still counted as learned');
  assert.equal(store.get(EXPORTER, 9, 3, 300), held, 'the same object');
  assert.deepEqual(
    again.records.map((r) => r.fields.map((f) => f.value)),
    [['10.0.0.2', 6]],
  );

  // The packet counter now 2 bytes: records change, so the template is replaced.
  const changed = [FIELDS[0] as { id: number; length: number }, { id: 2, length: 2 }];
  const third = decodeNetflowV9(
    packetWith(changed, new Bytes().ip4('10.0.0.3').u16(7).bytes()),
    input(store),
  );
  const now = store.get(EXPORTER, 9, 3, 300);
  assert.notEqual(now, held);
  assert.deepEqual(
    now?.fields.map((f) => f.length),
    [4, 2],
  );
  assert.deepEqual(
    third.records.map((r) => r.fields.map((f) => f.value)),
    [['10.0.0.3', 7]],
  );
  // Another element in the same place replaces it too.
  decodeNetflowV9(
    packetWith(
      [
        { id: 12, length: 4 },
        { id: 2, length: 2 },
      ],
      new Bytes().ip4('10.0.0.4').u16(8).bytes(),
    ),
    input(store),
  );
  assert.equal(store.get(EXPORTER, 9, 3, 300)?.fields[0]?.id, 12);
});
