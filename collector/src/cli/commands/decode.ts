import { Command, Option } from 'commander';
import { type ExporterStats, FlowDecoder } from '../../flow/decoder.js';
import { documentText } from '../../flow/document.js';
import { type CaptureReadStats, datagramsFromCaptures } from '../../ingest/capture-source.js';

interface DecodeOptions {
  port?: number;
  stats: boolean;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new Error(`not a UDP port (1-65535): ${value}`);
  return n;
}

/** Writes lines to stdout in large chunks; stops quietly when the reader goes away (| head). */
class LineWriter {
  private buf: string[] = [];
  private size = 0;
  closed = false;

  constructor() {
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') this.closed = true;
      else throw err;
    });
  }

  line(s: string): void {
    if (this.closed) return;
    this.buf.push(s);
    this.size += s.length + 1;
    if (this.size > 1 << 16) this.flush();
  }

  flush(): void {
    if (this.buf.length === 0 || this.closed) return;
    process.stdout.write(`${this.buf.join('\n')}\n`);
    this.buf = [];
    this.size = 0;
  }
}

function formatStats(stats: ReadonlyMap<string, ExporterStats>, files: CaptureReadStats[]): string {
  const lines: string[] = [];
  for (const f of files) {
    const skipped = Object.entries(f.skipped)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    lines.push(
      `file ${f.file}: ${f.frames} frames, ${f.datagrams} datagrams${skipped ? `, skipped ${skipped}` : ''}${f.error ? `, ERROR ${f.error.reason}: ${f.error.message}` : ''}`,
    );
  }
  for (const [exporter, s] of stats) {
    const formats = Object.entries(s.byFormat)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    const errors = Object.entries(s.errors)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    lines.push(
      `exporter ${exporter}: ${s.datagrams} datagrams (${formats}), ${s.records} records, ` +
        `sequence gaps ${s.sequenceGaps} (${s.sequenceMissing} missing), resets ${s.sequenceResets}, ` +
        `errors ${errors || 'none'}`,
    );
    for (const [reason, msg] of Object.entries(s.firstError))
      lines.push(`  first ${reason}: ${msg}`);
  }
  return lines.join('\n');
}

export function decodeCommand(): Command {
  return new Command('decode')
    .description(
      'Decode captures (pcap, pcapng) of NetFlow/IPFIX/sFlow export packets and print one JSON ' +
        'document per flow record, exactly as it would be indexed, in packet order.',
    )
    .argument('<file...>', 'capture files, read in the order given; templates carry over')
    .addOption(
      new Option('--port <port>', 'only datagrams sent to this UDP port (default: all)').argParser(
        port,
      ),
    )
    .option('--stats', 'print per-exporter counts, sequence gaps and errors to stderr', false)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  sluice decode template.pcap data.pcap          templates first, then data\n' +
        '  sluice decode --port 2055 --stats export.pcapng\n' +
        '\nFormats are detected from each datagram, whatever the port. Data that arrives before\n' +
        'its template is held and printed when the template comes; held data whose template\n' +
        'never comes is counted as template_missing.',
    )
    .action((files: string[], opts: DecodeOptions) => {
      const decoder = new FlowDecoder();
      const out = new LineWriter();
      const fileStats: CaptureReadStats[] = [];
      for (const d of datagramsFromCaptures(files, { port: opts.port }, fileStats)) {
        const res = decoder.decode(d);
        for (const r of res.records) out.line(documentText(r));
        if (out.closed) break;
      }
      decoder.drain();
      out.flush();
      if (opts.stats) process.stderr.write(`${formatStats(decoder.exporterStats(), fileStats)}\n`);
      const failed = fileStats.find((f) => f.error !== undefined);
      if (failed?.error) {
        process.stderr.write(`sluice decode: ${failed.file}: ${failed.error.message}\n`);
        process.exitCode = 1;
      }
    });
}
