import type { ExporterStats } from '../flow/decoder.js';
import type { SelfMetrics } from '../metrics/self.js';

/**
 * Workers report cumulative per-exporter stats; metrics want increments. Keeps the last
 * cumulative value per exporter (bounded) and turns each report into increments.
 */
export class StatsDeltas {
  private readonly last = new Map<string, ExporterStats>();

  constructor(
    private readonly self: SelfMetrics,
    private readonly maxExporters = 10_000,
  ) {}

  apply(stats: readonly [string, ExporterStats][]): void {
    for (const [exporter, now] of stats) {
      const before = this.last.get(exporter);
      for (const [reason, n] of Object.entries(now.errors)) {
        const d = (n ?? 0) - (before?.errors[reason as keyof ExporterStats['errors']] ?? 0);
        if (d <= 0) continue;
        this.self.decodeError(exporter, reason, d);
        if (reason === 'template_missing') this.self.templateMiss(exporter, d);
      }
      this.self.sequenceCounts(exporter, {
        gaps: now.sequenceGaps - (before?.sequenceGaps ?? 0),
        missing: now.sequenceMissing - (before?.sequenceMissing ?? 0),
        resets: now.sequenceResets - (before?.sequenceResets ?? 0),
      });
      if (before || this.last.size < this.maxExporters) {
        this.last.set(exporter, { ...now, errors: { ...now.errors } });
      }
    }
  }

  /** Latest cumulative stats per exporter (for logs and status). */
  get exporters(): ReadonlyMap<string, ExporterStats> {
    return this.last;
  }
}
