/** What one observed sequence number means for its stream. */
export type SequenceEvent = 'first' | 'ok' | 'gap' | 'reset' | 'duplicate' | 'unknown';

export interface SequenceObservation {
  readonly event: SequenceEvent;
  /** Missing units (flows, packets, records or datagrams, per format) for a gap. */
  readonly missing: number;
}

export interface StreamStats {
  received: number;
  gaps: number;
  missing: number;
  resets: number;
  duplicates: number;
}

const U32 = 0x100000000;
/** A jump forward larger than this is a restart, not a gap. */
const RESET_WINDOW = 0x10000000;
/** How far back a late or duplicated datagram may be. */
const REORDER_WINDOW = 0x10000;

/** `x % U32` for the sums here: a subtraction when x is in [0, 2^33), `%` (fmod) otherwise. */
function mod32(x: number): number {
  if (x >= 0 && x < U32) return x;
  if (x >= U32 && x < 2 * U32) return x - U32;
  return x % U32;
}

// The observations without a count, shared: one is returned per datagram.
const FIRST: SequenceObservation = Object.freeze({ event: 'first', missing: 0 });
const OK: SequenceObservation = Object.freeze({ event: 'ok', missing: 0 });
const UNKNOWN: SequenceObservation = Object.freeze({ event: 'unknown', missing: 0 });
const DUPLICATE: SequenceObservation = Object.freeze({ event: 'duplicate', missing: 0 });
const RESET: SequenceObservation = Object.freeze({ event: 'reset', missing: 0 });

interface StreamState {
  /** Next sequence number expected, or undefined after a datagram of unknown size. */
  expected: number | undefined;
  readonly stats: StreamStats;
}

/**
 * Tracks sequence numbers per stream (exporter + domain / source id / sub-agent), each
 * format by its own rule: the caller passes the increment (v5/v7 flows, v9 one per
 * packet, IPFIX data records, sFlow one per datagram). 32-bit wraparound is handled; a
 * large backwards jump counts as a reset (exporter restart), a small one as a late or
 * duplicate datagram.
 */
export class SequenceTracker {
  private readonly streams = new Map<string, StreamState>();

  constructor(private readonly maxStreams = 100_000) {}

  observe(stream: string, sequence: number, increment: number | undefined): SequenceObservation {
    let s = this.streams.get(stream);
    if (!s) {
      if (this.streams.size >= this.maxStreams) return UNKNOWN;
      s = {
        expected: undefined,
        stats: { received: 0, gaps: 0, missing: 0, resets: 0, duplicates: 0 },
      };
      this.streams.set(stream, s);
      s.stats.received += 1;
      s.expected = increment === undefined ? undefined : mod32(sequence + increment);
      return FIRST;
    }
    s.stats.received += 1;
    const expected = s.expected;
    s.expected = increment === undefined ? undefined : mod32(sequence + increment);
    if (expected === undefined) return UNKNOWN;
    const ahead = mod32(sequence - expected + U32);
    if (ahead === 0) return OK;
    if (ahead < RESET_WINDOW) {
      s.stats.gaps += 1;
      s.stats.missing += ahead;
      return { event: 'gap', missing: ahead };
    }
    // Behind the expectation: a restart starts over near zero (the new number is closer
    // to zero than to the expectation); anything else within the window is a late or
    // duplicated datagram, which does not move the expectation back.
    const behind = U32 - ahead;
    if (sequence >= behind && behind <= REORDER_WINDOW) {
      s.stats.duplicates += 1;
      s.expected = expected;
      return DUPLICATE;
    }
    s.stats.resets += 1;
    return RESET;
  }

  stats(stream: string): StreamStats | undefined {
    return this.streams.get(stream)?.stats;
  }

  *entries(): IterableIterator<[string, StreamStats]> {
    for (const [k, v] of this.streams) yield [k, v.stats];
  }
}
