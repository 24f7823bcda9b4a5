// The index template against the real Elasticsearch: installs, is idempotent, updates
// when its content changes; every kind of document Sluice makes indexes with zero
// rejections, and `_field_caps` (what Kibana reads) reports the intended types.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import { elasticsearchForTests, needServer } from '@sluice/testkit';
import { BulkIndexer } from '../src/sink/elasticsearch/bulk.js';
import {
  fixtureDocuments,
  itemsOf,
  runSuffix,
} from '../src/sink/elasticsearch/fixtures.test-helpers.js';
import { elasticsearchType, elementProperties } from '../src/sink/elasticsearch/mappings.js';
import {
  buildIndexTemplate,
  dataStreamParts,
  installIndexTemplate,
  TEMPLATE_SCHEMA_VERSION,
} from '../src/sink/elasticsearch/template.js';

const RUN = runSuffix();

test('template body: data stream pattern, priority above logs, explicit registry mappings', () => {
  assert.deepEqual(dataStreamParts('logs-netflow.sluice-default'), {
    prefix: 'logs-netflow.sluice',
    pattern: 'logs-netflow.sluice-*',
  });
  assert.throws(() => dataStreamParts('netflow'), /type.*dataset.*namespace/);
  assert.throws(() => dataStreamParts('logs-Netflow-default'), /lowercase/);

  const body = buildIndexTemplate();
  assert.deepEqual(body.index_patterns, ['logs-netflow.sluice-*']);
  assert.deepEqual(body.data_stream, {});
  assert.ok(body.priority > 100, 'above the built-in logs template');
  assert.match(body._meta.sluice_template_version, /^\d+-[0-9a-f]{16}$/);
  assert.equal(
    buildIndexTemplate()._meta.sluice_template_version,
    body._meta.sluice_template_version,
  );
  const netflow = (
    body.template.mappings.properties.netflow as { properties: Record<string, { type?: string }> }
  ).properties;
  assert.equal(netflow.octet_delta_count?.type, 'long');
  assert.equal(netflow.source_ipv4_address?.type, 'ip');
  assert.equal(netflow.flow_start_milliseconds?.type, 'date');
  assert.equal(netflow.sampler_name?.type, 'keyword');
  assert.equal(elasticsearchType('unsigned64'), 'long');
  assert.equal(elasticsearchType('float32'), 'double');
  assert.equal(elasticsearchType('subTemplateList'), 'keyword');
  assert.deepEqual(elementProperties().conflicts, []);
  // Two registry entries that disagree fall back to keyword.
  const clash = elementProperties([
    { enterprise: 1, id: 1, name: 'x', field: 'x', type: 'unsigned32' },
    { enterprise: 2, id: 1, name: 'x', field: 'x', type: 'ipv4Address' },
  ]);
  assert.deepEqual(clash.conflicts, ['x']);
  assert.equal((clash.properties.x as { type: string }).type, 'keyword');
  const limit = body.template.settings['index.mapping.total_fields.limit'] as number;
  assert.ok(limit > Object.keys(netflow).length + 1000, `field limit ${limit} leaves room`);
});

/** Field, expected type: ip, long, date, keyword, boolean across ECS, netflow.*, sflow.*. */
const KEY_FIELDS: [string, string][] = [
  ['@timestamp', 'date'],
  ['event.start', 'date'],
  ['event.end', 'date'],
  ['event.created', 'date'],
  ['event.duration', 'long'],
  ['event.action', 'keyword'],
  ['source.ip', 'ip'],
  ['destination.ip', 'ip'],
  ['observer.ip', 'ip'],
  ['related.ip', 'ip'],
  ['source.port', 'long'],
  ['destination.port', 'long'],
  ['source.mac', 'keyword'],
  ['source.bytes', 'long'],
  ['source.packets', 'long'],
  ['source.as.number', 'long'],
  ['network.bytes', 'long'],
  ['network.packets', 'long'],
  ['network.transport', 'keyword'],
  ['network.iana_number', 'keyword'],
  ['network.community_id', 'keyword'],
  ['network.vlan.id', 'keyword'],
  ['observer.ingress.interface.id', 'keyword'],
  ['observer.egress.interface.id', 'keyword'],
  ['icmp.type', 'long'],
  ['sluice.sampling.rate', 'long'],
  ['sluice.sampling.source', 'keyword'],
  ['sluice.scaled.bytes', 'long'],
  ['netflow.type', 'keyword'],
  ['netflow.exporter.address', 'keyword'],
  ['netflow.exporter.ip', 'ip'],
  ['netflow.exporter.version', 'long'],
  ['netflow.exporter.timestamp', 'date'],
  ['netflow.octet_delta_count', 'long'],
  ['netflow.source_ipv4_address', 'ip'],
  ['netflow.destination_ipv6_address', 'ip'],
  ['netflow.flow_start_milliseconds', 'date'],
  ['netflow.source_mac_address', 'keyword'],
  ['netflow.sampler_name', 'keyword'],
  ['netflow.mpls_label_stack_section2', 'keyword'],
  ['netflow.scope_system', 'keyword'],
  ['netflow.enterprise_99999_7', 'keyword'],
  ['netflow.element_32000', 'keyword'],
  ['sflow.sample.sequence', 'long'],
  ['sflow.sample.input.format', 'keyword'],
  ['sflow.sample.expanded', 'boolean'],
  ['sflow.inner.src_ip', 'ip'],
  ['sflow.counters.generic_interface.if_in_octets', 'long'],
  ['sflow.counters.processor.cpu5s', 'long'],
];

test('template: installs, is idempotent, updates; every kind of document indexes, field caps as intended', async (t) => {
  const es = await needServer(t, elasticsearchForTests);
  if (!es) return;
  const client = new Client({ node: es.url });
  const dir = mkdtempSync(join(tmpdir(), 'sluice-sink-template-'));
  const dataset = `netflow.sluicetpl${RUN}`;
  const dataStream = `logs-${dataset}-default`;
  const name = `logs-${dataset}`;
  t.after(async () => {
    // Best effort: the test node lacks the _data_stream endpoints; a full cluster has them.
    await client.indices.deleteDataStream({ name: dataStream }).catch(() => {});
    await client.indices.deleteIndexTemplate({ name }).catch(() => {});
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const first = await installIndexTemplate(client, { dataStream });
  assert.equal(first.action, 'created');
  assert.equal(first.name, name);
  assert.equal(first.rolledOver, false);
  const again = await installIndexTemplate(client, { dataStream });
  assert.equal(again.action, 'unchanged');
  assert.equal(again.version, first.version);

  const installed = await client.indices.getIndexTemplate({ name });
  const tpl = installed.index_templates[0]?.index_template;
  assert.deepEqual(tpl?.index_patterns, [`logs-${dataset}-*`]);
  assert.equal(tpl?._meta?.sluice_template_version, first.version);
  assert.ok((tpl?.priority ?? 0) > 100);

  // Every kind of document Sluice produces, through the bulk indexer.
  const fixtures = fixtureDocuments();
  const kinds = new Set(fixtures.map((f) => f.kind));
  assert.deepEqual([...kinds].sort(), [
    'netflow_flow',
    'netflow_options',
    'sflow_counters',
    'sflow_flow',
  ]);
  const indexer = new BulkIndexer({
    client,
    dataStream,
    deadLetter: { path: join(dir, 'dead-letter.ndjson') },
    flushCount: 50,
  });
  for (const item of itemsOf(fixtures.map((f) => f.source))) indexer.add(item);
  await indexer.close();
  const stats = indexer.stats();
  assert.equal(stats.deadLettered, 0, 'no document rejected');
  assert.equal(stats.indexed, fixtures.length);
  assert.equal(indexer.indexedUpTo(), BigInt(fixtures.length - 1));

  await client.indices.refresh({ index: dataStream });
  const { count } = await client.count({ index: dataStream });
  assert.equal(count, fixtures.length);
  for (const kind of kinds) {
    const n = await client.count({ index: dataStream, query: { term: { 'netflow.type': kind } } });
    assert.equal(n.count, fixtures.filter((f) => f.kind === kind).length, kind);
  }
  // Only the synthetic record with a 2^64 - 1 counter has values kept out of the index.
  const ignored = await client.search({
    index: dataStream,
    query: { exists: { field: '_ignored' } },
    size: 10,
  });
  const ignoredFields = new Set(ignored.hits.hits.flatMap((h) => h._ignored ?? []));
  assert.equal(ignored.hits.hits.length, 1);
  assert.deepEqual([...ignoredFields].sort(), [
    'netflow.octet_delta_count',
    'network.bytes',
    'sluice.scaled.bytes',
    'source.bytes',
  ]);
  // The exact value is still in _source.
  const edge = ignored.hits.hits[0]?._source as { netflow: { octet_delta_count: unknown } };
  assert.equal(edge.netflow.octet_delta_count, '18446744073709551615');

  // What Kibana sees.
  const caps = await client.fieldCaps({ index: dataStream, fields: KEY_FIELDS.map(([f]) => f) });
  for (const [field, type] of KEY_FIELDS) {
    const got = Object.keys(caps.fields[field] ?? {});
    assert.deepEqual(got, [type], `${field}: ${got.join(',') || 'absent'}`);
  }
  // No dynamic `text` anywhere: every string is keyword.
  const all = await client.fieldCaps({ index: dataStream, fields: ['*'] });
  const text = Object.entries(all.fields)
    .filter(([, types]) => 'text' in types)
    .map(([f]) => f);
  assert.deepEqual(text, []);
  // Searches use the types: CIDR on ip, range on long.
  const cidr = await client.count({
    index: dataStream,
    query: { term: { 'source.ip': '192.0.2.0/24' } },
  });
  assert.ok(cidr.count >= 1);

  // A changed template (different settings) replaces the installed one and rolls the
  // data stream over so the new mappings apply to the next documents.
  const updated = await installIndexTemplate(client, {
    dataStream,
    settings: { 'index.refresh_interval': '2s' },
  });
  assert.equal(updated.action, 'updated');
  assert.equal(updated.previousVersion, first.version);
  assert.notEqual(updated.version, first.version);
  assert.equal(updated.rolledOver, true);
  const resolved = await client.indices.resolveIndex({ name: dataStream });
  assert.equal(resolved.data_streams[0]?.backing_indices.length, 2);
  const same = await installIndexTemplate(client, {
    dataStream,
    settings: { 'index.refresh_interval': '2s' },
  });
  assert.equal(same.action, 'unchanged');
});

test('template: a newer schema generation installed by a newer Sluice is not downgraded', async (t) => {
  const es = await needServer(t, elasticsearchForTests);
  if (!es) return;
  const client = new Client({ node: es.url });
  const dataStream = `logs-netflow.sluicenewer${RUN}-default`;
  const name = `logs-netflow.sluicenewer${RUN}`;
  t.after(async () => {
    await client.indices.deleteIndexTemplate({ name }).catch(() => {});
    await client.close();
  });
  await client.indices.putIndexTemplate({
    name,
    index_patterns: [`${name}-*`],
    data_stream: {},
    priority: 200,
    version: TEMPLATE_SCHEMA_VERSION + 1,
    _meta: { sluice_template_version: `${TEMPLATE_SCHEMA_VERSION + 1}-from-the-future` },
  });
  const res = await installIndexTemplate(client, { dataStream });
  assert.equal(res.action, 'newer-installed');
  assert.equal(res.version, `${TEMPLATE_SCHEMA_VERSION + 1}-from-the-future`);
  const kept = await client.indices.getIndexTemplate({ name });
  assert.equal(kept.index_templates[0]?.index_template.version, TEMPLATE_SCHEMA_VERSION + 1);
});
