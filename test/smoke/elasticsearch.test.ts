import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import { ELASTICSEARCH_VERSION, elasticsearchForTests, needServer } from '@sluice/testkit';

test('Elasticsearch: a document indexed with the v8 client reads back from the real node', async (t) => {
  const es = await needServer(t, elasticsearchForTests);
  if (!es) return;
  const client = new Client({ node: es.url });

  // The server identifies itself as Elasticsearch (the header the v8 client's product
  // check relies on) and runs the version the harness pinned.
  const info = await client.nodes.info({ node_id: '_local' }, { meta: true });
  assert.equal(info.headers['x-elastic-product'], 'Elasticsearch');
  const node = Object.values(info.body.nodes)[0];
  assert.ok(node, 'the node describes itself');
  if (es.external) {
    assert.match(node.version, /^(8|9)\./, 'an external cluster must be Elasticsearch 8 or 9');
  } else {
    assert.equal(node.version, ELASTICSEARCH_VERSION);
    assert.equal(es.version, ELASTICSEARCH_VERSION);
  }

  const index = `sluice-smoke-${process.pid}-${Date.now()}`;
  // after-hooks run in the order they are added: delete the index, then close the client.
  t.after(() => client.indices.delete({ index }, { ignore: [404] }));
  t.after(() => client.close());
  await client.indices.create({
    index,
    mappings: {
      properties: {
        '@timestamp': { type: 'date' },
        source: { properties: { ip: { type: 'ip' }, bytes: { type: 'long' } } },
      },
    },
  });
  const doc = {
    '@timestamp': '2026-01-02T03:04:05.678Z',
    source: { ip: '192.0.2.7', bytes: 1500 },
  };
  const created = await client.index({ index, id: 'flow-1', document: doc, refresh: 'wait_for' });
  assert.equal(created.result, 'created');

  const got = await client.get<typeof doc>({ index, id: 'flow-1' });
  assert.deepEqual(got._source, doc);

  // Searching through the ip mapping proves the node indexed the document, not just stored it.
  const hit = await client.search({ index, query: { term: { 'source.ip': '192.0.2.0/24' } } });
  const total = typeof hit.hits.total === 'number' ? hit.hits.total : hit.hits.total?.value;
  assert.equal(total, 1);
  const miss = await client.search({ index, query: { term: { 'source.ip': '198.51.100.0/24' } } });
  const none = typeof miss.hits.total === 'number' ? miss.hits.total : miss.hits.total?.value;
  assert.equal(none, 0);
});
