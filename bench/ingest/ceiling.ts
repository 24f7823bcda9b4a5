// Elasticsearch's own ceiling on this machine: the documents the collector would write
// for the benchmark's datagrams (the same FlowDecoder and documentText as its decode
// workers, ids shaped as its ids), bulk-loaded directly into a fresh data stream with
// Sluice's index template: `create` actions, batches cut by the collector's rule (5000
// documents or 5 MiB), the same request (path, filter_path), a few requests in flight.
// Bodies are built before the clock starts, so only Elasticsearch is measured.
import type { Client } from '@elastic/elasticsearch';
import { documentId } from '../../collector/src/collect/indexer.js';
import { FlowDecoder } from '../../collector/src/flow/decoder.js';
import { documentText } from '../../collector/src/flow/document.js';
import { installIndexTemplate } from '../../collector/src/sink/elasticsearch/template.js';
import type { Outgoing } from './stream.js';

const BULK_DOCS = 5000;
const BULK_BYTES = 5 * 1024 * 1024;
/** As the collector's runs poll the data stream's count. */
const SEARCHABLE_POLL_MS = 500;

/** Bulk bodies of the stream's documents, and how many documents they hold. */
export function bulkBodies(stream: readonly Outgoing[]): { bodies: string[]; documents: number } {
  const decoder = new FlowDecoder();
  const bodies: string[] = [];
  let parts: string[] = [];
  let bytes = 0;
  let documents = 0;
  const receivedMs = Date.now();
  stream.forEach((o, position) => {
    const out = decoder.decode({ bytes: o.bytes, exporter: o.exporter, receivedMs });
    out.records.forEach((r, k) => {
      // Shaped as the collector's ids: instance, journal byte position, record index.
      const id = documentId('0c0ffee0', position * 1700, k);
      const line = `{"create":{"_id":"${id}"}}\n${documentText(r)}\n`;
      const n = Buffer.byteLength(line);
      if (parts.length > 0 && (parts.length >= BULK_DOCS || bytes + n > BULK_BYTES)) {
        bodies.push(parts.join(''));
        parts = [];
        bytes = 0;
      }
      parts.push(line);
      bytes += n;
      documents += 1;
    });
  });
  if (parts.length > 0) bodies.push(parts.join(''));
  return { bodies, documents };
}

export interface CeilingResult {
  documents: number;
  /** From the first request to every document searchable: what the collector's runs time. */
  seconds: number;
  /** From the first request to the last bulk answer. */
  ackSeconds: number;
  perSecond: number;
  requests: number;
  concurrency: number;
  bodyBytes: number;
}

/** Loads `bodies`; `documents` (-1: do not check) must then be what the data stream holds. */
export async function measureCeiling(
  client: Client,
  dataStream: string,
  bodies: readonly string[],
  documents: number,
  concurrency: number,
): Promise<CeilingResult> {
  await installIndexTemplate(client, { dataStream });
  let next = 0;
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const body = bodies[next++];
        if (body === undefined) return;
        const answer = await client.transport.request<{ errors?: boolean }>(
          {
            method: 'POST',
            path: `/${dataStream}/_bulk`,
            querystring: { filter_path: 'errors,items.*.status,items.*.error' },
            bulkBody: body,
          },
          { requestTimeout: 120_000 },
        );
        if (answer.errors) failed += 1;
      }
    }),
  );
  const ackSeconds = (performance.now() - t0) / 1000;
  if (failed > 0) throw new Error(`ceiling: ${failed} bulk requests had item errors`);
  // Timed to the same end as the collector's runs: every document searchable, seen by
  // the count polled every 0.5 s under Elasticsearch's own 1 s refresh. Stopping the
  // clock at the last bulk answer instead would leave out the refresh wait that the
  // collector's figure includes, and flatter Elasticsearch by up to 1.5 s a run.
  let seconds = ackSeconds;
  if (documents >= 0) {
    for (;;) {
      const n = (await client.count({ index: dataStream })).count;
      seconds = (performance.now() - t0) / 1000;
      if (n >= documents) break;
      if (seconds - ackSeconds > 60) throw new Error(`ceiling: ${n} of ${documents} searchable`);
      await new Promise((r) => setTimeout(r, SEARCHABLE_POLL_MS));
    }
  }
  await client.indices.refresh({ index: dataStream });
  const stored = (await client.count({ index: dataStream })).count;
  if (documents >= 0 && stored !== documents)
    throw new Error(`ceiling: ${stored} stored of ${documents} documents`);
  return {
    documents,
    seconds,
    ackSeconds,
    perSecond: documents / seconds,
    requests: bodies.length,
    concurrency,
    bodyBytes: bodies.reduce((a, b) => a + Buffer.byteLength(b), 0),
  };
}
