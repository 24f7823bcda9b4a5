import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errors, Serializer } from '@elastic/elasticsearch';
import { createElasticsearchClient } from './client.js';
import { CollectorSerializer } from './serializer.js';

const s = new CollectorSerializer();
const plain = new Serializer();

test('a bulk answer with no failed item is not parsed past errors:false', () => {
  const answer = `{"errors":false,"items":[${'{"create":{"status":201}},'.repeat(999)}{"create":{"status":201}}]}`;
  assert.deepEqual(s.deserialize(answer), { errors: false });
});

test('every other answer is parsed in full, as the client parses it', () => {
  const answers = [
    '{"errors":true,"items":[{"create":{"status":201}},{"create":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"x"}}}]}',
    '{"items":[{"create":{"status":201}}],"errors":false}',
    '{"took":3,"errors":false,"items":[{"create":{"status":201}}]}',
    '{"acknowledged":true}',
    '{"hits":{"total":{"value":2}}}',
    '[1,2,3]',
  ];
  for (const a of answers) assert.deepEqual(s.deserialize(a), plain.deserialize(a), a);
});

test('malformed answers are refused and poisoned ones handled as the client does', () => {
  for (const bad of ['{"errors":tru', '{"errors":false,']) {
    assert.throws(() => plain.deserialize(bad), errors.DeserializationError, bad);
    if (bad === '{"errors":tru')
      assert.throws(() => s.deserialize(bad), errors.DeserializationError);
  }
  const poisoned = '{"errors":true,"__proto__":{"polluted":1},"items":[]}';
  const got = s.deserialize<Record<string, unknown>>(poisoned);
  assert.deepEqual(got, plain.deserialize(poisoned));
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('the collector client uses it', () => {
  const client = createElasticsearchClient({ url: 'http://127.0.0.1:9' });
  assert.ok(client.serializer instanceof CollectorSerializer);
});
