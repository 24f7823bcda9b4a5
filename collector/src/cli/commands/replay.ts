import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { createLogger } from '../../api/logging.js';
import { BulkLineWriter } from '../../collect/bulk-lines.js';
import { FlowDecoder } from '../../flow/decoder.js';
import { JsonOut } from '../../flow/json-out.js';
import { datagramsFromCaptures } from '../../ingest/capture-source.js';
import type { JournalDatagram } from '../../ingest/journal/format.js';
import { JournalReader } from '../../ingest/journal/reader.js';
import { listSegments, segmentSize } from '../../ingest/journal/segments.js';
import { BulkIndexer } from '../../sink/elasticsearch/bulk.js';
import { createElasticsearchClient } from '../../sink/elasticsearch/client.js';
import { installIndexTemplate } from '../../sink/elasticsearch/template.js';

interface ReplayFlags {
  pcap?: string[];
  journal?: string;
  from?: string;
  to?: string;
  elasticsearch: string;
  dataStream: string;
}

/** A one-line progress bar on a terminal (stderr); silent otherwise. */
class Progress {
  private last = 0;
  constructor(
    private readonly total: number,
    private readonly unit: string,
  ) {}
  update(done: number, docs: number): void {
    if (!process.stderr.isTTY) return;
    const now = Date.now();
    if (now - this.last < 100 && done < this.total) return;
    this.last = now;
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const width = 30;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
    process.stderr.write(
      `\r[${bar}] ${(frac * 100).toFixed(1)}% ${done}/${this.total} ${this.unit}, ${docs} documents`,
    );
  }
  done(): void {
    if (process.stderr.isTTY) process.stderr.write('\n');
  }
}

/** The collector's instance id of a data dir, so replayed journal ids match the originals. */
function instanceOf(journalDir: string): string {
  try {
    return readFileSync(join(journalDir, '..', 'instance-id'), 'utf8').trim();
  } catch {
    return createHash('sha1').update(journalDir).digest('hex').slice(0, 8);
  }
}

export function replayCommand(): Command {
  return new Command('replay')
    .description(
      'Feed a range of a collector journal, or captures of export packets, through the pipeline into Elasticsearch.',
    )
    .option(
      '--pcap <files...>',
      'pcap/pcapng captures of export packets, in order (templates first)',
    )
    .option('--journal <dir>', "a collector's journal directory (DATA_DIR/journal)")
    .option('--from <position>', 'first journal position (default: the start)')
    .option('--to <position>', 'stop before this journal position (default: the end)')
    .option(
      '--elasticsearch <url>',
      'Elasticsearch URL',
      process.env.SLUICE_ELASTICSEARCH_URL ?? 'http://localhost:9200',
    )
    .option('--data-stream <name>', 'data stream for the records', 'logs-netflow.sluice-default')
    .addHelpText(
      'after',
      '\nDocument ids are deterministic (journal: the same ids the collector used; captures: the\n' +
        'file contents and frame), so replaying what is already indexed adds nothing twice.\n' +
        '\nExamples:\n' +
        '  sluice replay --journal ./sluice-data/journal --from 0\n' +
        '  sluice replay --pcap template.pcap data.pcap --elasticsearch http://localhost:9200',
    )
    .action(async (flags: ReplayFlags, cmd: Command) => {
      if ((flags.pcap === undefined) === (flags.journal === undefined)) {
        cmd.error('sluice replay: give either --pcap FILE... or --journal DIR', { exitCode: 2 });
      }
      const log = createLogger({ level: 'warn' });
      const client = createElasticsearchClient({ url: flags.elasticsearch });
      await installIndexTemplate(client, { dataStream: flags.dataStream });
      let docs = 0;
      const bulk = new BulkIndexer({
        client,
        dataStream: flags.dataStream,
        deadLetter: { path: join(process.cwd(), 'sluice-replay-dead-letter.ndjson') },
        logger: log,
      });
      const decoder = new FlowDecoder();
      // The bulk indexer wants increasing positions; ids come from where the datagram was.
      let seq = 0;
      // Written as the collector's decode workers write them: whole bulk lines, their ids
      // documentId(idPrefix, idPosition, k), in a buffer of the datagram's own (the
      // indexer keeps ranges of it until they are indexed).
      const lines = new BulkLineWriter(new JsonOut(64));
      const push = async (d: JournalDatagram, idPrefix: string, idPosition: number) => {
        const records = decoder.decode(d).records;
        seq += 1;
        if (records.length === 0) return;
        lines.out.adopt(new ArrayBuffer(records.length * 2048 + 64));
        lines.begin();
        lines.datagram(records, idPrefix, idPosition);
        docs += records.length;
        if (!bulk.addLines(lines.out.bytes, lines.takeOffsets(), BigInt(seq))) {
          await bulk.waitForCapacity();
        }
      };
      if (flags.journal !== undefined) {
        const dir = flags.journal;
        const segs = listSegments(dir);
        const last = segs.at(-1);
        const end =
          flags.to !== undefined ? Number(flags.to) : last ? last.start + segmentSize(last) : 0;
        const start = flags.from !== undefined ? Number(flags.from) : (segs[0]?.start ?? 0);
        const instance = instanceOf(dir);
        const reader = new JournalReader(dir, start);
        const progress = new Progress(end - start, 'bytes');
        for (;;) {
          const entries = reader.read(end);
          if (entries.length === 0) break;
          for (const e of entries) await push(e, instance, e.position);
          progress.update(reader.position - start, docs);
        }
        reader.close();
        progress.done();
      } else {
        const files = flags.pcap ?? [];
        const progress = new Progress(files.length, 'files');
        let n = 0;
        for (const file of files) {
          const prefix = createHash('sha1').update(readFileSync(file)).digest('hex').slice(0, 8);
          for (const d of datagramsFromCaptures([file])) {
            await push(
              { ...d, exporterPort: d.exporterPort ?? 0, localPort: d.dstPort },
              prefix,
              d.frame,
            );
          }
          n += 1;
          progress.update(n, docs);
        }
        progress.done();
      }
      decoder.drain();
      await bulk.close({ timeoutMs: 60_000 });
      const s = bulk.stats();
      process.stdout.write(
        `replayed ${docs} documents: ${s.indexed} indexed, ${s.duplicates} already there, ${s.deadLettered} dead-lettered\n`,
      );
      await client.close();
    });
}
