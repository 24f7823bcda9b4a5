// The Kibana saved objects (dashboards/kibana/sluice.ndjson) against a data stream a real
// collector filled: Kibana builds a data view's field list from `_field_caps`, so every
// field the data view formats and the saved search shows or sorts by must be there, with
// a type its formatter takes, and the data view's pattern must match the data stream.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_DATA_STREAM } from '../src/sink/elasticsearch/template.js';
import { REPO } from './support/grafana-files.js';
import { startFilledCollector } from './support/live-collector.js';

interface SavedObject {
  id: string;
  type: string;
  attributes: Record<string, unknown>;
  references: { id: string; name: string; type: string }[];
  coreMigrationVersion?: string;
  typeMigrationVersion?: string;
}

function savedObjects(): SavedObject[] {
  return readFileSync(join(REPO, 'dashboards', 'kibana', 'sluice.ndjson'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as SavedObject);
}

/** `*` of an index pattern as a regular expression. */
function patternRegExp(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}

test('Kibana objects: an 8.x data view and a saved search that refers to it', () => {
  const objects = savedObjects();
  const view = objects.find((o) => o.type === 'index-pattern');
  const search = objects.find((o) => o.type === 'search');
  assert.ok(view && search);
  assert.equal(objects.length, 2);
  for (const o of objects) {
    // Versions Kibana 8.x migrates from (a newer one than the running Kibana is refused).
    assert.match(o.coreMigrationVersion ?? '', /^8\.\d+\.\d+$/);
    assert.match(o.typeMigrationVersion ?? '', /^8\.\d+\.\d+$/);
  }
  assert.equal(view.attributes.timeFieldName, '@timestamp');
  // JSON-in-a-string attributes, as Kibana stores them.
  assert.equal(typeof view.attributes.fieldFormatMap, 'string');
  JSON.parse(String(view.attributes.fieldFormatMap));
  // The default data stream, and every namespace of it, match the data view's title.
  const title = String(view.attributes.title);
  assert.match(DEFAULT_DATA_STREAM, patternRegExp(title));
  assert.match('logs-netflow.sluice-site2', patternRegExp(title));
  assert.doesNotMatch('logs-netflow.log-default', patternRegExp(title));

  const source = JSON.parse(
    String(
      (search.attributes.kibanaSavedObjectMeta as { searchSourceJSON: string }).searchSourceJSON,
    ),
  ) as { indexRefName: string; query: { language: string } };
  const ref = search.references.find((r) => r.name === source.indexRefName);
  assert.deepEqual(ref, { id: view.id, name: source.indexRefName, type: 'index-pattern' });
  assert.equal(source.query.language, 'kuery');
});

test('Kibana objects: every field they use is in _field_caps of a data stream the collector filled', async (t) => {
  // A namespace of Sluice's dataset: a name the data view's pattern covers.
  const fc = await startFilledCollector(t, {
    dataStream: `logs-netflow.sluice-kibana${process.pid}`,
  });
  if (!fc) return;
  const objects = savedObjects();
  const view = objects.find((o) => o.type === 'index-pattern') as SavedObject;
  const search = objects.find((o) => o.type === 'search') as SavedObject;
  const formats = JSON.parse(String(view.attributes.fieldFormatMap)) as Record<
    string,
    { id: string }
  >;
  const columns = search.attributes.columns as string[];
  const sort = (search.attributes.sort as [string, string][]).map(([f]) => f);
  const used = new Set([
    String(view.attributes.timeFieldName),
    ...Object.keys(formats),
    ...columns,
    ...sort,
  ]);

  // The collector's data stream, as a data view with this title would see it.
  assert.match(fc.dataStream, patternRegExp(String(view.attributes.title)));
  const caps = await fc.client.fieldCaps({ index: fc.dataStream, fields: [...used] });
  for (const f of used) {
    const types = Object.keys(caps.fields[f] ?? {});
    assert.equal(types.length, 1, `${f}: ${types.join(', ') || 'missing'} in _field_caps`);
  }
  const type = (f: string) => Object.keys(caps.fields[f] ?? {})[0];
  assert.equal(type('@timestamp'), 'date');
  for (const [f, format] of Object.entries(formats)) {
    // The bytes and duration formatters apply to numbers.
    if (format.id === 'bytes' || format.id === 'duration') assert.equal(type(f), 'long', f);
  }
  for (const f of sort) assert.equal(caps.fields[f]?.[type(f) as string]?.aggregatable, true, f);

  // Not just mapped: the records the collector indexed carry the columns the search shows.
  for (const f of [...columns, ...Object.keys(formats)]) {
    const n = await fc.client.count({ index: fc.dataStream, query: { exists: { field: f } } });
    if (['source.bytes', 'destination.bytes', 'netflow.octet_total_count'].includes(f)) continue;
    assert.ok(n.count > 0, `no indexed record has ${f}`);
  }
});
