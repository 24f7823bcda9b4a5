import type { ResourceLimits } from 'node:worker_threads';

/**
 * The V8 heap limits of a decode worker (decode-pool.ts), also used by bench/decode so
 * that its figures are the collector's.
 *
 * A worker's garbage is the records of one datagram, dead once their documents are
 * written, so a small young generation holds everything live: 3 MB (semi-spaces of 1 MB)
 * keeps the memory new records are written into in the CPU's cache, where V8's default
 * (16 MB semi-spaces) walks through cold memory between two scavenges. Decoding and
 * writing documents in a worker with these limits (bench/decode, one core, six
 * alternating runs of 3 s, 2026-11-30): NetFlow v9 826-880k records/s at 3 MB against
 * 759-866k at 12 MB and 716-772k at V8's default; no case slower. Decoding alone (no
 * documents, which the collector never does) is about 7 % slower with it. The
 * collector's peak RSS at 50,000 records/s (bench/ingest/alone.ts, alternating runs):
 * 207-214 MiB at 3 MB, 207-211 at 12 MB, the size before.
 */
export const DECODE_WORKER_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 3 };
