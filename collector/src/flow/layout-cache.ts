import type { ElementInfo } from '../protocol/ipfix/registry/index.js';
import type { FlowField, RecordLayout } from '../protocol/templates/types.js';

interface Entry<P> {
  readonly infos: readonly ElementInfo[];
  readonly plan: P;
}

function sameLayout(infos: readonly ElementInfo[], fields: readonly FlowField[]): boolean {
  if (infos.length !== fields.length) return false;
  for (let i = 0; i < infos.length; i++) {
    if (infos[i] !== (fields[i] as FlowField).info) return false;
  }
  return true;
}

/**
 * Per-layout plans for records' fields. Every record of one template has the same
 * sequence of elements, so work that depends only on the elements (what the producer
 * lifts, the document keys) is done once per layout. A record carries no template
 * reference, so the layout is recognised by comparing element identities: first against
 * the previous record's layout (records of a template come in runs), then among the
 * layouts starting with the same element. Bounded: past `max` layouts (a hostile
 * exporter churning templates) the cache starts over.
 */
export class LayoutCache<P> {
  private readonly byFirst = new Map<ElementInfo, Entry<P>[]>();
  private count = 0;
  private last: Entry<P> | undefined;
  private empty: P | undefined;
  /** Plans by the decoder's layout object (one per template): found by identity. */
  private readonly byLayout = new WeakMap<RecordLayout, P>();
  private lastLayout: RecordLayout | undefined;
  private lastLayoutPlan: P | undefined;

  constructor(
    private readonly build: (infos: readonly ElementInfo[]) => P,
    private readonly max = 1024,
  ) {}

  /**
   * The plan of a decoded record's layout (DataRecord.layout): by identity, the same
   * plan `get` gives for fields of these elements. A template re-sent is a new layout
   * object; it finds its plan by comparing elements once.
   */
  getLayout(layout: RecordLayout): P {
    if (layout === this.lastLayout) return this.lastLayoutPlan as P;
    let plan = this.byLayout.get(layout);
    if (plan === undefined) {
      plan = this.get(layout.infos.map((info) => ({ info, value: 0 })));
      this.byLayout.set(layout, plan);
    }
    this.lastLayout = layout;
    this.lastLayoutPlan = plan;
    return plan;
  }

  get(fields: readonly FlowField[]): P {
    const last = this.last;
    if (last !== undefined && sameLayout(last.infos, fields)) return last.plan;
    const first = fields[0];
    if (first === undefined) {
      this.empty ??= this.build([]);
      return this.empty;
    }
    let entries = this.byFirst.get(first.info);
    if (entries !== undefined) {
      for (const e of entries) {
        if (sameLayout(e.infos, fields)) {
          this.last = e;
          return e.plan;
        }
      }
    }
    const infos = fields.map((f) => f.info);
    const entry: Entry<P> = { infos, plan: this.build(infos) };
    if (this.count >= this.max) {
      this.byFirst.clear();
      this.count = 0;
      entries = undefined;
    }
    if (entries === undefined) {
      entries = [];
      this.byFirst.set(first.info, entries);
    }
    entries.push(entry);
    this.count++;
    this.last = entry;
    return entry.plan;
  }
}
