import { AllowList } from '../config/cidr.js';

export type GateVerdict = 'accepted' | 'not_allowed' | 'rate_limited' | 'too_many_exporters';

interface Bucket {
  tokens: number;
  last: number;
}

/**
 * The door every datagram passes before anything is stored: the allow-list, a
 * per-exporter packet rate (token bucket, one second of burst), and a bound on the
 * number of exporters tracked, so a flood of spoofed sources cannot grow memory.
 */
export class ExporterGate {
  private readonly allow: AllowList;
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    allow: readonly string[],
    private readonly ratePerSecond: number,
    private readonly maxExporters: number,
  ) {
    this.allow = new AllowList(allow);
  }

  check(exporter: string, nowMs: number): GateVerdict {
    if (!this.allow.allows(exporter)) return 'not_allowed';
    let b = this.buckets.get(exporter);
    if (!b) {
      if (this.buckets.size >= this.maxExporters) return 'too_many_exporters';
      b = { tokens: this.ratePerSecond, last: nowMs };
      this.buckets.set(exporter, b);
    }
    b.tokens = Math.min(
      this.ratePerSecond,
      b.tokens + ((nowMs - b.last) / 1000) * this.ratePerSecond,
    );
    b.last = nowMs;
    if (b.tokens < 1) return 'rate_limited';
    b.tokens -= 1;
    return 'accepted';
  }

  get exporters(): number {
    return this.buckets.size;
  }
}
