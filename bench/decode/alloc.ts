// Child process (started by main.ts as `taskset -c 0 node --expose-gc --import tsx
// bench/decode/alloc.ts CASE SECONDS`): bytes allocated per record and peak RSS for one
// case, printed as one JSON line on stdout.
//
// Method. Node 20's V8 has no running "bytes allocated" counter, but between two garbage
// collections every allocation stays in the heap, so with no GC in between, the growth of
// used heap (plus external memory, for ArrayBuffers) across a run IS what the run
// allocated. So: warm up (JIT settled), force a full GC, read the heap, run K packets,
// read the heap again, and ask a PerformanceObserver whether any GC ran in that window.
// If one did, the number is void: halve K and retry. The work per packet is nearly
// constant, so a few dozen packets give a stable per-record figure; the median of three
// clean windows is reported. In 'document' mode each window joins its own bulk body, so
// the join is paid in proportion to the records (a 1000-document body otherwise lands in
// some windows and not in others). Peak RSS is this process's getrusage maxrss after running the
// case's workload for a while in both modes, next to the RSS of the bare process (node +
// tsx + Sluice's modules) before the packets were built.
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { buildCase, isCaseName } from './cases.js';
import { type Mode, median, Workload } from './sluice.js';

export interface AllocResult {
  case: string;
  /** Bytes allocated per record, per mode. */
  bytesPerRecord: Record<Mode, number>;
  /** Packets in the clean measurement windows, per mode. */
  windowPackets: Record<Mode, number>;
  baseRssKiB: number;
  peakRssKiB: number;
}

const gcStarts: number[] = [];
const observer = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcStarts.push(e.startTime);
});
observer.observe({ entryTypes: ['gc'] });

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 5));

function heapBytes(): number {
  const h = getHeapStatistics();
  return h.used_heap_size + h.external_memory;
}

async function allocWindow(
  w: Workload,
  startPackets: number,
): Promise<{ bytes: number; records: number; packets: number }> {
  const gc = globalThis.gc;
  if (!gc) throw new Error('run with node --expose-gc');
  let packets = startPackets;
  for (;;) {
    gc();
    gc();
    w.flush();
    await tick(); // deliver the forced GCs' entries before the window opens
    const t0 = performance.now();
    const h0 = heapBytes();
    const records = w.run(packets);
    w.flush(); // every window pays for joining its own bulk body, no more, no less
    const h1 = heapBytes();
    const t1 = performance.now();
    await tick();
    const dirty = gcStarts.some((s) => s >= t0 && s <= t1);
    if (!dirty) return { bytes: h1 - h0, records, packets };
    if (packets === 1) throw new Error('a GC ran inside every window, even of one packet');
    packets = Math.max(1, packets >> 1);
  }
}

function spin(w: Workload, seconds: number): void {
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) w.run(20);
}

async function main(): Promise<void> {
  const name = process.argv[2] ?? '';
  const seconds = Number(process.argv[3] ?? '1');
  if (!isCaseName(name)) throw new Error(`unknown case ${name}`);
  const baseRssKiB = process.resourceUsage().maxRSS;
  const c = buildCase(name);
  const bytesPerRecord: Record<Mode, number> = { decode: 0, document: 0, buffer: 0 };
  const windowPackets: Record<Mode, number> = { decode: 0, document: 0, buffer: 0 };
  for (const mode of ['decode', 'document', 'buffer'] as const) {
    const w = new Workload(mode, c.datagrams);
    spin(w, seconds);
    const per: number[] = [];
    let start = 200;
    // The first window after the warm-up is consistently ~1 KiB/record heavier (a one-off
    // after the first forced GCs), so it is discarded; the median of the next three counts.
    for (let i = 0; i < 4; i++) {
      const r = await allocWindow(w, start);
      start = r.packets;
      if (i > 0 && r.records > 0) per.push(r.bytes / r.records);
      if (process.env.ALLOC_DEBUG) process.stderr.write(`${mode} ${JSON.stringify(r)}\n`);
    }
    bytesPerRecord[mode] = median(per);
    windowPackets[mode] = start;
  }
  observer.disconnect();
  const out: AllocResult = {
    case: name,
    bytesPerRecord,
    windowPackets,
    baseRssKiB,
    peakRssKiB: process.resourceUsage().maxRSS,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

await main();
