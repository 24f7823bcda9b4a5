import type { ExportFlow } from '../protocol/netflow/encode-flow.js';

/**
 * The flow cache of the software exporter: packets are accounted to flows keyed by
 * ifIndex, VLAN ids and the 5-tuple (ICMP type/code in place of the destination port).
 * A flow ends when it was idle for the inactive timeout, when it has lasted the active
 * timeout (a long flow is then reported in parts), shortly after a TCP FIN or RST (the
 * closing ACK still counts), or early when the cache is full (the least recently active
 * flow goes first). Time is whatever clock the caller passes: packet timestamps when
 * reading a capture, so flows time out in capture time.
 */

/** The facts of one packet the cache needs. */
export interface PacketFacts {
  readonly ipVersion: 4 | 6;
  readonly srcAddr: string;
  readonly dstAddr: string;
  readonly protocol: number;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly tos: number;
  readonly tcpFlags: number;
  /** IP total length (IPv6: 40 + payload length). */
  readonly bytes: number;
  readonly vlan: number;
  readonly innerVlan: number;
  readonly inIf: number;
  readonly outIf: number;
}

export type ExpiryReason = 'inactive' | 'active' | 'tcp_end' | 'pressure' | 'flush';

export interface CacheOptions {
  /** A flow that lasted this long is exported (and restarts). */
  activeTimeoutMs: number;
  /** A flow idle this long is exported. */
  inactiveTimeoutMs: number;
  /** How long after a FIN or RST the flow waits for the closing packets. */
  tcpEndGraceMs: number;
  /** Flows held at most; at the bound the least recently active one is exported early. */
  maxFlows: number;
}

export const DEFAULT_CACHE_OPTIONS: CacheOptions = {
  activeTimeoutMs: 1_800_000,
  inactiveTimeoutMs: 15_000,
  tcpEndGraceMs: 1_000,
  maxFlows: 65_536,
};

interface Entry {
  ipVersion: 4 | 6;
  srcAddr: string;
  dstAddr: string;
  srcPort: number;
  dstPort: number;
  protocol: number;
  tos: number;
  tcpFlags: number;
  packets: number;
  bytes: number;
  startMs: number;
  endMs: number;
  inIf: number;
  outIf: number;
  vlan: number;
  innerVlan: number;
  /** Time of the FIN/RST that ends this flow, if one was seen. */
  endedMs: number | undefined;
}

const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;

export type ExpiredFlow = ExportFlow & { readonly reason: ExpiryReason };

export class FlowCache {
  readonly options: CacheOptions;
  /** Map order is least recently active first (an entry is re-inserted on each packet). */
  private readonly flows = new Map<string, Entry>();
  private lastScanMs = -Infinity;
  private readonly scanEveryMs: number;
  readonly expired: Record<ExpiryReason, number> = {
    inactive: 0,
    active: 0,
    tcp_end: 0,
    pressure: 0,
    flush: 0,
  };
  created = 0;

  constructor(
    opts: Partial<CacheOptions>,
    /** Receives the flows as they end. */
    private readonly sink: (flows: ExpiredFlow[]) => void,
  ) {
    this.options = { ...DEFAULT_CACHE_OPTIONS, ...opts };
    if (this.options.maxFlows < 1) throw new Error('the flow cache needs room for 1 flow');
    const o = this.options;
    this.scanEveryMs = Math.min(
      1000,
      o.inactiveTimeoutMs / 2,
      o.tcpEndGraceMs / 2,
      o.activeTimeoutMs / 2,
    );
  }

  get size(): number {
    return this.flows.size;
  }

  /** Accounts one packet seen at `timeMs` (ms since the epoch, µs fractions kept). */
  add(p: PacketFacts, timeMs: number): void {
    const key = `${p.inIf}|${p.outIf}|${p.vlan}|${p.innerVlan}|${p.protocol}|${p.srcAddr}|${p.srcPort}|${p.dstAddr}|${p.dstPort}`;
    let e = this.flows.get(key);
    if (e !== undefined && e.endedMs !== undefined && p.protocol === 6 && p.tcpFlags & TCP_SYN) {
      // A new connection on the same 5-tuple after the old one closed.
      this.flows.delete(key);
      this.emit([e], 'tcp_end');
      e = undefined;
    }
    if (e === undefined) {
      if (this.flows.size >= this.options.maxFlows) this.evictOldest();
      e = {
        ipVersion: p.ipVersion,
        srcAddr: p.srcAddr,
        dstAddr: p.dstAddr,
        srcPort: p.srcPort,
        dstPort: p.dstPort,
        protocol: p.protocol,
        tos: p.tos,
        tcpFlags: 0,
        packets: 0,
        bytes: 0,
        startMs: timeMs,
        endMs: timeMs,
        inIf: p.inIf,
        outIf: p.outIf,
        vlan: p.vlan,
        innerVlan: p.innerVlan,
        endedMs: undefined,
      };
      this.created += 1;
    } else this.flows.delete(key);
    this.flows.set(key, e);
    e.packets += 1;
    e.bytes += p.bytes;
    e.tcpFlags |= p.tcpFlags;
    if (timeMs > e.endMs) e.endMs = timeMs;
    if (timeMs < e.startMs) e.startMs = timeMs;
    if (p.protocol === 6 && p.tcpFlags & (TCP_FIN | TCP_RST) && e.endedMs === undefined)
      e.endedMs = timeMs;
  }

  /**
   * Exports the flows whose time is up at `nowMs`. Cheap when called often: the scan
   * runs at most once per second of the clock (more often for timeouts under 2 s).
   */
  expire(nowMs: number): void {
    if (nowMs - this.lastScanMs < this.scanEveryMs) return;
    this.lastScanMs = nowMs;
    const { activeTimeoutMs, inactiveTimeoutMs, tcpEndGraceMs } = this.options;
    const out: ExpiredFlow[] = [];
    for (const [key, e] of this.flows) {
      let reason: ExpiryReason | undefined;
      if (nowMs - e.endMs >= inactiveTimeoutMs) reason = 'inactive';
      else if (e.endedMs !== undefined && nowMs - e.endedMs >= tcpEndGraceMs) reason = 'tcp_end';
      else if (nowMs - e.startMs >= activeTimeoutMs) reason = 'active';
      if (reason === undefined) continue;
      this.flows.delete(key);
      out.push(freeze(e, reason));
      this.expired[reason] += 1;
    }
    if (out.length > 0) this.sink(out);
  }

  /** Exports every flow (end of the capture, shutdown). */
  flush(): void {
    const all = [...this.flows.values()];
    this.flows.clear();
    this.emit(all, 'flush');
  }

  private evictOldest(): void {
    const first = this.flows.entries().next();
    if (first.done) return;
    const [key, e] = first.value;
    this.flows.delete(key);
    this.emit([e], 'pressure');
  }

  private emit(entries: Entry[], reason: ExpiryReason): void {
    if (entries.length === 0) return;
    this.expired[reason] += entries.length;
    this.sink(entries.map((e) => freeze(e, reason)));
  }
}

function freeze(e: Entry, reason: ExpiryReason): ExpiredFlow {
  return {
    ipVersion: e.ipVersion,
    srcAddr: e.srcAddr,
    dstAddr: e.dstAddr,
    srcPort: e.srcPort,
    dstPort: e.dstPort,
    protocol: e.protocol,
    tos: e.tos,
    tcpFlags: e.tcpFlags,
    packets: e.packets,
    bytes: e.bytes,
    startMs: e.startMs,
    endMs: e.endMs,
    inIf: e.inIf,
    outIf: e.outIf,
    vlan: e.vlan,
    innerVlan: e.innerVlan,
    reason,
  };
}
