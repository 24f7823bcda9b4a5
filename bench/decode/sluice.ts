// Sluice's side of the benchmark: the decode loop (a), the decode + bulk-document loop
// (b), and (b') the same bulk bodies written as bytes into one buffer, run in-process on
// the calling thread.
import { BulkLineWriter } from '../../collector/src/collect/bulk-lines.js';
import { type Datagram, FlowDecoder } from '../../collector/src/flow/decoder.js';
import { documentText } from '../../collector/src/flow/document.js';
import { JsonOut } from '../../collector/src/flow/json-out.js';

export type Mode = 'decode' | 'document' | 'buffer';

/** A collector instance id (8 hex digits, collect/collector.ts) for (b')'s document ids. */
const ID_PREFIX = '5a1ce0b2';

/** Documents per bulk body, about what a bulk sink sends in one request. */
const DOCS_PER_BULK = 1000;

/**
 * One exporter's stream through one decoder, looped. In 'document' mode every record
 * becomes an Elasticsearch bulk pair (action line + `documentText`, the strings `sluice
 * decode` prints) appended to the current bulk body, which is joined into one string
 * every DOCS_PER_BULK documents, with a counter for the id; in 'buffer' mode each
 * datagram's pairs are written as bytes into one reusable buffer, which is the body, by
 * the decode workers' writer (BulkLineWriter: the deterministic ids of the journal
 * position and record index, the Community IDs hashed four at a time).
 */
export class Workload {
  private readonly decoder: FlowDecoder;
  private next = 0;
  private id = 0;
  private lines: string[] = [];
  private readonly out = new JsonOut(4 << 20);
  private readonly bulk = new BulkLineWriter(this.out);
  private docsInBody = 0;
  /** Bulk body characters produced so far; also keeps the work observable. */
  bodyChars = 0;
  documents = 0;

  constructor(
    readonly mode: Mode,
    private readonly datagrams: readonly Datagram[],
  ) {
    // (a) and (b') as the collector's decode worker runs them: each datagram's records
    // are done with before the next is decoded, so they are recycled. (b)'s strings are
    // `sluice decode`'s path, which keeps the default.
    this.decoder = new FlowDecoder({ recycleRecords: mode !== 'document' });
  }

  /** Feeds `packets` datagrams; returns the records decoded. */
  run(packets: number): number {
    const dgs = this.datagrams;
    let records = 0;
    for (let p = 0; p < packets; p++) {
      const d = dgs[this.next] as Datagram;
      this.next = this.next + 1 === dgs.length ? 0 : this.next + 1;
      const out = this.decoder.decode(d);
      records += out.records.length;
      if (this.mode === 'document') {
        for (const r of out.records) {
          this.id += 1;
          this.lines.push(`{"create":{"_id":"${this.id}"}}`, documentText(r));
          if (++this.docsInBody === DOCS_PER_BULK) this.flush();
        }
      } else if (this.mode === 'buffer') {
        // The decode worker's writer: ids from the datagram's position and record index.
        this.bulk.datagram(out.records, ID_PREFIX, this.id++);
        this.docsInBody += out.records.length;
        if (this.docsInBody >= DOCS_PER_BULK) this.flush();
      }
    }
    return records;
  }

  /** Ends the current bulk body (the allocation child aligns its windows with this). */
  flush(): void {
    if (this.docsInBody === 0) return;
    if (this.mode === 'buffer') {
      // The body is the buffer's first `pos` bytes, ready for a request as it is.
      this.bodyChars += this.out.buf.subarray(0, this.out.pos).length;
      this.out.reset();
      this.bulk.begin();
    } else {
      const body = `${this.lines.join('\n')}\n`;
      this.bodyChars += body.length;
    }
    this.documents += this.docsInBody;
    this.lines = [];
    this.docsInBody = 0;
  }
}

/**
 * Decodes one cycle with a fresh decoder: the records each datagram yields (templates
 * come first in every cycle, so this is also the steady state) and the issues reported.
 */
export function checkCycle(datagrams: readonly Datagram[]): {
  records: number;
  recordsAt: number[];
  issues: Map<string, number>;
} {
  const decoder = new FlowDecoder();
  const issues = new Map<string, number>();
  const recordsAt: number[] = [];
  for (const d of datagrams) {
    const out = decoder.decode(d);
    recordsAt.push(out.records.length);
    for (const i of out.issues) issues.set(i.reason, (issues.get(i.reason) ?? 0) + 1);
  }
  return { records: recordsAt.reduce((a, b) => a + b, 0), recordsAt, issues };
}

export interface Rate {
  records: number;
  wallS: number;
  cpuS: number;
  perWallS: number;
  perCpuS: number;
}

const CHUNK = 20;

function timedRun(w: Workload, seconds: number): Rate {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  let records = 0;
  let now = t0;
  do {
    records += w.run(CHUNK);
    now = performance.now();
  } while (now < until);
  const c = process.cpuUsage(c0);
  const wallS = (now - t0) / 1000;
  const cpuS = (c.user + c.system) / 1e6;
  return { records, wallS, cpuS, perWallS: records / wallS, perCpuS: records / cpuS };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Warm-up, then `reps` timed runs of `seconds` each; the median run by CPU rate. */
export function measure(
  mode: Mode,
  datagrams: readonly Datagram[],
  seconds: number,
  reps: number,
  warmupS: number,
): { median: Rate; runs: Rate[]; bytesPerDoc: number } {
  const w = new Workload(mode, datagrams);
  timedRun(w, warmupS);
  const runs: Rate[] = [];
  for (let i = 0; i < reps; i++) runs.push(timedRun(w, seconds));
  const mid = median(runs.map((r) => r.perCpuS));
  const pick = runs.find((r) => r.perCpuS === mid) ?? (runs[0] as Rate);
  return { median: pick, runs, bytesPerDoc: w.documents ? w.bodyChars / w.documents : 0 };
}
