import type { SamplingSource } from './record.js';

/** Sampling settings from the configuration, for exporters that never say (or lie). */
export interface SamplingConfig {
  /** Rate for exporters that send none. Undefined: counts stay as sent. */
  readonly defaultRate?: number;
  /** Per exporter address: a rate that wins over whatever the exporter sends. */
  readonly overrides?: ReadonlyMap<string, number>;
}

export interface SamplingDecision {
  rate: number | undefined;
  source: SamplingSource | undefined;
}

const MAX_SAMPLERS_PER_EXPORTER = 1024;

/**
 * Sampling rates learned from options data, per exporter, domain and sampler id: one
 * router can run several samplers (one per interface or direction), and a data record
 * names its sampler (flowSamplerId, selectorId). Bounded per exporter.
 */
export class SamplingRates {
  private readonly byExporter = new Map<string, Map<string, number>>();

  constructor(private readonly config: SamplingConfig = {}) {}

  private static key(domain: number, sampler: number | undefined): string {
    return sampler === undefined ? `${domain}` : `${domain}/${sampler}`;
  }

  /** Records a rate an exporter announced (options data). */
  learn(exporter: string, domain: number, sampler: number | undefined, rate: number): void {
    if (!(rate >= 1) || !Number.isFinite(rate)) return;
    let m = this.byExporter.get(exporter);
    if (!m) {
      m = new Map();
      this.byExporter.set(exporter, m);
    }
    const k = SamplingRates.key(domain, sampler);
    if (!m.has(k) && m.size >= MAX_SAMPLERS_PER_EXPORTER) return;
    m.set(k, rate);
    // A rate without a sampler id, or the only one of its domain, also serves records
    // that name no sampler.
    m.set(SamplingRates.key(domain, undefined), rate);
  }

  /**
   * The rate for a record: a configured override first, then what the record or its
   * packet carries, then what options data announced for its sampler (or domain),
   * then the configured default.
   */
  decide(
    exporter: string,
    domain: number,
    sampler: number | undefined,
    carried: number | undefined,
    carriedSource: 'header' | 'record' | 'sample' = 'record',
  ): SamplingDecision {
    const override = this.config.overrides?.get(exporter);
    if (override !== undefined) return { rate: override, source: 'config-override' };
    if (carried !== undefined && carried >= 1) return { rate: carried, source: carriedSource };
    const m = this.byExporter.get(exporter);
    if (m) {
      const r =
        (sampler !== undefined ? m.get(SamplingRates.key(domain, sampler)) : undefined) ??
        m.get(SamplingRates.key(domain, undefined));
      if (r !== undefined) return { rate: r, source: 'options' };
    }
    if (this.config.defaultRate !== undefined) {
      return { rate: this.config.defaultRate, source: 'config-default' };
    }
    return { rate: undefined, source: undefined };
  }
}
