import type { PacketContext, Template, TemplateField } from './types.js';

/** Bounds that keep one exporter from taking the collector's memory. */
export interface TemplateLimits {
  /** Distinct exporters tracked; new ones beyond this are refused (never evicting others). */
  maxExporters: number;
  /** Templates per exporter, over all its domains. */
  maxTemplatesPerExporter: number;
  /** Data sets held per exporter while their template has not arrived. */
  maxPendingSetsPerExporter: number;
  /** Bytes of data sets held per exporter. */
  maxPendingBytesPerExporter: number;
  /** How long a held data set waits for its template (arrival-time clock). */
  pendingTtlMs: number;
}

export const DEFAULT_TEMPLATE_LIMITS: TemplateLimits = {
  maxExporters: 10_000,
  maxTemplatesPerExporter: 4_096,
  maxPendingSetsPerExporter: 512,
  maxPendingBytesPerExporter: 1 << 20,
  pendingTtlMs: 60_000,
};

/** A data set that arrived before its template. */
export interface PendingSet {
  readonly ctx: PacketContext;
  readonly templateId: number;
  /** A copy: the datagram buffer may be reused once its decode returns. */
  readonly bytes: Uint8Array;
}

interface ExporterState {
  /** (version, domain) key -> template id -> template. */
  readonly domains: Map<number, Map<number, Template>>;
  templateCount: number;
  pending: PendingSet[];
  pendingBytes: number;
}

/** Template store key of a (version, domain) pair: domains of v9 and IPFIX never mix. */
export function domainKey(version: number, domain: number): number {
  return version * 0x100000000 + domain;
}

export type StoreOutcome = 'ok' | 'limit_exceeded';

/**
 * Templates and early data per exporter and per observation domain / source id, so two
 * devices (or two line cards) reusing a template id never collide. Limits are per
 * exporter: a flood from one exporter is refused at its own bound and never evicts
 * another exporter's templates. Pure state: persistence is done by the caller through
 * snapshot()/restore().
 */
export class TemplateStore {
  private readonly exporters = new Map<string, ExporterState>();
  readonly limits: TemplateLimits;

  constructor(limits: Partial<TemplateLimits> = {}) {
    this.limits = { ...DEFAULT_TEMPLATE_LIMITS, ...limits };
  }

  private state(exporter: string, create: boolean): ExporterState | undefined {
    let s = this.exporters.get(exporter);
    if (s === undefined && create) {
      if (this.exporters.size >= this.limits.maxExporters) return undefined;
      s = { domains: new Map(), templateCount: 0, pending: [], pendingBytes: 0 };
      this.exporters.set(exporter, s);
    }
    return s;
  }

  get(exporter: string, version: number, domain: number, id: number): Template | undefined {
    return this.exporters.get(exporter)?.domains.get(domainKey(version, domain))?.get(id);
  }

  /** Learns (or replaces) a template. Refused past the exporter's template limit. */
  put(exporter: string, version: number, domain: number, t: Template): StoreOutcome {
    const s = this.state(exporter, true);
    if (!s) return 'limit_exceeded';
    const key = domainKey(version, domain);
    let byId = s.domains.get(key);
    if (!byId) {
      byId = new Map();
      s.domains.set(key, byId);
    }
    const old = byId.get(t.id);
    if (old === undefined) {
      if (s.templateCount >= this.limits.maxTemplatesPerExporter) return 'limit_exceeded';
      s.templateCount += 1;
    } else if (sameTemplate(old, t)) {
      // Exporters send their templates again every few seconds or packets: the object
      // already held keeps what was worked out for it (readers, generated code, found
      // by its identity).
      return 'ok';
    }
    byId.set(t.id, t);
    return 'ok';
  }

  /** IPFIX template withdrawal: one id, or every template of the domain when id is undefined. */
  withdraw(exporter: string, version: number, domain: number, id?: number): number {
    const s = this.exporters.get(exporter);
    const byId = s?.domains.get(domainKey(version, domain));
    if (!s || !byId) return 0;
    if (id === undefined) {
      const n = byId.size;
      s.templateCount -= n;
      byId.clear();
      return n;
    }
    if (byId.delete(id)) {
      s.templateCount -= 1;
      return 1;
    }
    return 0;
  }

  /** Holds a data set until its template arrives. Refused past the exporter's bounds. */
  hold(set: PendingSet): StoreOutcome {
    const s = this.state(set.ctx.exporter, true);
    if (!s) return 'limit_exceeded';
    if (
      s.pending.length >= this.limits.maxPendingSetsPerExporter ||
      s.pendingBytes + set.bytes.length > this.limits.maxPendingBytesPerExporter
    ) {
      return 'limit_exceeded';
    }
    s.pending.push(set);
    s.pendingBytes += set.bytes.length;
    return 'ok';
  }

  /** Takes the held sets that a newly learned template can now decode. */
  takePending(exporter: string, version: number, domain: number, id: number): PendingSet[] {
    const s = this.exporters.get(exporter);
    if (!s || s.pending.length === 0) return [];
    const taken: PendingSet[] = [];
    const kept: PendingSet[] = [];
    for (const p of s.pending) {
      if (p.ctx.version === version && p.ctx.domain === domain && p.templateId === id)
        taken.push(p);
      else kept.push(p);
    }
    if (taken.length > 0) {
      s.pending = kept;
      for (const p of taken) s.pendingBytes -= p.bytes.length;
    }
    return taken;
  }

  /** Removes and returns held sets older than the TTL (they count as template_missing). */
  expire(nowMs: number): PendingSet[] {
    const expired: PendingSet[] = [];
    for (const s of this.exporters.values()) {
      if (s.pending.length === 0) continue;
      const kept: PendingSet[] = [];
      for (const p of s.pending) {
        if (nowMs - p.ctx.receivedMs > this.limits.pendingTtlMs) {
          expired.push(p);
          s.pendingBytes -= p.bytes.length;
        } else {
          kept.push(p);
        }
      }
      s.pending = kept;
    }
    return expired;
  }

  /** Every held set, removed (end of a `sluice decode` run: they are reported, not lost). */
  drainPending(): PendingSet[] {
    const all: PendingSet[] = [];
    for (const s of this.exporters.values()) {
      all.push(...s.pending);
      s.pending = [];
      s.pendingBytes = 0;
    }
    return all;
  }

  get exporterCount(): number {
    return this.exporters.size;
  }

  templateCount(exporter: string): number {
    return this.exporters.get(exporter)?.templateCount ?? 0;
  }

  pendingCount(exporter?: string): number {
    if (exporter !== undefined) return this.exporters.get(exporter)?.pending.length ?? 0;
    let n = 0;
    for (const s of this.exporters.values()) n += s.pending.length;
    return n;
  }

  /** A JSON-serializable copy of every template, for persisting across restarts. */
  snapshot(): TemplateSnapshot {
    const exporters: TemplateSnapshot['exporters'] = [];
    for (const [exporter, s] of this.exporters) {
      for (const [key, byId] of s.domains) {
        const version = Math.floor(key / 0x100000000);
        const domain = key % 0x100000000;
        for (const t of byId.values()) {
          exporters.push({
            exporter,
            version,
            domain,
            id: t.id,
            options: t.options,
            scopeCount: t.scopeCount,
            fields: t.fields.map((f) => [f.enterprise, f.id, f.length, f.scope ? 1 : 0]),
          });
        }
      }
    }
    return { format: 1, exporters };
  }

  /**
   * Restores templates from a snapshot. `build` turns stored field specs back into a
   * Template (element lookups live with the decoders). Returns how many were restored.
   */
  restore(
    snap: TemplateSnapshot,
    build: (
      version: number,
      id: number,
      fields: readonly SnapshotField[],
      scopeCount: number,
      options: boolean,
    ) => Template,
  ): number {
    if (snap.format !== 1)
      throw new Error(`unknown template snapshot format ${String(snap.format)}`);
    let n = 0;
    for (const e of snap.exporters) {
      const t = build(e.version, e.id, e.fields, e.scopeCount, e.options);
      if (this.put(e.exporter, e.version, e.domain, t) === 'ok') n += 1;
    }
    return n;
  }
}

/** Whether two templates define the same records (id, kind, scope and every field). */
function sameTemplate(a: Template, b: Template): boolean {
  if (a.id !== b.id || a.options !== b.options || a.scopeCount !== b.scopeCount) return false;
  if (a.fields.length !== b.fields.length) return false;
  for (let i = 0; i < a.fields.length; i++) {
    const x = a.fields[i] as TemplateField;
    const y = b.fields[i] as TemplateField;
    if (x.enterprise !== y.enterprise || x.id !== y.id || x.length !== y.length) return false;
    if (x.scope !== y.scope || x.info !== y.info) return false;
  }
  return true;
}

/** [enterprise, id, length, scope(0|1)] */
export type SnapshotField = readonly [number, number, number, number];

export interface TemplateSnapshot {
  format: number;
  exporters: {
    exporter: string;
    version: number;
    domain: number;
    id: number;
    options: boolean;
    scopeCount: number;
    fields: SnapshotField[];
  }[];
}

/** Computes the derived lengths of a template from its fields. */
export function makeTemplate(
  id: number,
  fields: readonly TemplateField[],
  scopeCount: number,
  options: boolean,
): Template {
  let minLength = 0;
  let fixed = true;
  for (const f of fields) {
    if (f.length === 0xffff) {
      fixed = false;
      minLength += 1;
    } else {
      minLength += f.length;
    }
  }
  return { id, fields, scopeCount, options, minLength, fixed };
}
