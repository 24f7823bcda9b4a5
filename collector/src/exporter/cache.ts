import { ipv4ToString, ipv6ToString, parseIp } from '../protocol/address.js';
import type { ExportFlow } from '../protocol/netflow/encode-flow.js';

/**
 * The flow cache of the software exporter: packets are accounted to flows keyed by
 * ifIndex, VLAN ids and the 5-tuple (ICMP type/code in place of the destination port).
 * A flow ends when it was idle for the inactive timeout, when it has lasted the active
 * timeout (a long flow is then reported in parts), shortly after a TCP FIN or RST (the
 * closing ACK still counts), or early when the cache is full (the least recently active
 * flow goes first). Time is whatever clock the caller passes: packet timestamps when
 * reading a capture, so flows time out in capture time.
 *
 * The hot path allocates nothing for a packet of a known flow: the key is packed into
 * bytes (`PacketView.key`, see `packKey`), hashed, and looked up in hash chains; the
 * least-recently-active order is an intrusive doubly linked list. Address text is made
 * once per flow, from the key bytes.
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

/**
 * The key layout: [0] IP version, [1] protocol, [2-3] source port, [4-5] destination
 * port, [6-7] VLAN, [8-9] inner VLAN, [10-13] ingress ifIndex, [14-17] egress ifIndex,
 * then the source and destination addresses (4 or 16 bytes each).
 */
export const KEY_ADDR_AT = 18;
export const KEY_MAX_BYTES = KEY_ADDR_AT + 32;

/** One packet as the cache takes it: a packed key and the counters. Reused, mutable. */
export class PacketView {
  readonly key = new Uint8Array(KEY_MAX_BYTES);
  keyLength = 0;
  ipVersion: 4 | 6 = 4;
  protocol = 0;
  srcPort = 0;
  dstPort = 0;
  tos = 0;
  tcpFlags = 0;
  bytes = 0;
  vlan = 0;
  innerVlan = 0;
  inIf = 0;
  outIf = 0;

  /**
   * Packs the key from the fields set above and the addresses at `data[srcAt]` and
   * `data[dstAt]` (4 bytes each for IPv4, 16 for IPv6).
   */
  packKey(data: Uint8Array, srcAt: number, dstAt: number): void {
    const k = this.key;
    k[0] = this.ipVersion;
    k[1] = this.protocol;
    k[2] = this.srcPort >>> 8;
    k[3] = this.srcPort & 0xff;
    k[4] = this.dstPort >>> 8;
    k[5] = this.dstPort & 0xff;
    k[6] = this.vlan >>> 8;
    k[7] = this.vlan & 0xff;
    k[8] = this.innerVlan >>> 8;
    k[9] = this.innerVlan & 0xff;
    k[10] = this.inIf >>> 24;
    k[11] = (this.inIf >>> 16) & 0xff;
    k[12] = (this.inIf >>> 8) & 0xff;
    k[13] = this.inIf & 0xff;
    k[14] = this.outIf >>> 24;
    k[15] = (this.outIf >>> 16) & 0xff;
    k[16] = (this.outIf >>> 8) & 0xff;
    k[17] = this.outIf & 0xff;
    const n = this.ipVersion === 4 ? 4 : 16;
    for (let i = 0; i < n; i++) {
      k[KEY_ADDR_AT + i] = data[srcAt + i] as number;
      k[KEY_ADDR_AT + n + i] = data[dstAt + i] as number;
    }
    this.keyLength = KEY_ADDR_AT + 2 * n;
  }

  /** Fills the view from facts with address text (tests, the slow path). */
  setFacts(p: PacketFacts): void {
    const src = parseIp(p.srcAddr);
    const dst = parseIp(p.dstAddr);
    const n = p.ipVersion === 4 ? 4 : 16;
    if (src?.length !== n || dst?.length !== n)
      throw new Error(`not IPv${p.ipVersion} addresses: ${p.srcAddr} ${p.dstAddr}`);
    this.ipVersion = p.ipVersion;
    this.protocol = p.protocol;
    this.srcPort = p.srcPort;
    this.dstPort = p.dstPort;
    this.tos = p.tos;
    this.tcpFlags = p.tcpFlags;
    this.bytes = p.bytes;
    this.vlan = p.vlan;
    this.innerVlan = p.innerVlan;
    this.inIf = p.inIf;
    this.outIf = p.outIf;
    const both = new Uint8Array(2 * n);
    both.set(src, 0);
    both.set(dst, n);
    this.packKey(both, 0, n);
  }
}

interface Entry {
  key: Uint8Array;
  hash: number;
  /** Next entry with the same hash. */
  chain: Entry | undefined;
  /** Neighbours in activity order (prev: less recently active). */
  prev: Entry | undefined;
  next: Entry | undefined;
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

/** FNV-1a over the key bytes, cut to a small integer (V8 keeps it unboxed). */
function hashKey(k: Uint8Array, n: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ (k[i] as number), 0x01000193);
  return (h ^ (h >>> 15)) & 0x3fffffff;
}

function sameKey(a: Uint8Array, b: Uint8Array, n: number): boolean {
  if (a.length !== n) return false;
  for (let i = n - 1; i >= 0; i--) if (a[i] !== b[i]) return false;
  return true;
}

export class FlowCache {
  readonly options: CacheOptions;
  /** Hash chains: hash -> first entry. */
  private readonly buckets = new Map<number, Entry>();
  /** Activity order: `oldest` is the least recently active flow. */
  private oldest: Entry | undefined;
  private newest: Entry | undefined;
  private count = 0;
  private lastScanMs = -Infinity;
  private readonly scanEveryMs: number;
  private readonly view = new PacketView();
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
    return this.count;
  }

  /** Accounts one packet given as facts with address text (`addView` is the fast path). */
  add(p: PacketFacts, timeMs: number): void {
    this.view.setFacts(p);
    this.addView(this.view, timeMs);
  }

  /** Accounts one packet seen at `timeMs` (ms since the epoch, µs fractions kept). */
  addView(p: PacketView, timeMs: number): void {
    const n = p.keyLength;
    const hash = hashKey(p.key, n);
    let e = this.buckets.get(hash);
    while (e !== undefined && !sameKey(e.key, p.key, n)) e = e.chain;
    if (e !== undefined && e.endedMs !== undefined && p.protocol === 6 && p.tcpFlags & TCP_SYN) {
      // A new connection on the same 5-tuple after the old one closed.
      this.remove(e);
      this.emit([e], 'tcp_end');
      e = undefined;
    }
    if (e === undefined) {
      if (this.count >= this.options.maxFlows) this.evictOldest();
      e = this.create(p, hash, timeMs);
    } else if (e !== this.newest) {
      // Move to the newest end of the activity list.
      this.unlinkOrder(e);
      this.linkNewest(e);
    }
    e.packets += 1;
    e.bytes += p.bytes;
    e.tcpFlags |= p.tcpFlags;
    if (timeMs > e.endMs) e.endMs = timeMs;
    if (timeMs < e.startMs) e.startMs = timeMs;
    if (p.protocol === 6 && p.tcpFlags & (TCP_FIN | TCP_RST) && e.endedMs === undefined)
      e.endedMs = timeMs;
  }

  private create(p: PacketView, hash: number, timeMs: number): Entry {
    const n = p.keyLength;
    const key = p.key.slice(0, n);
    const v4 = p.ipVersion === 4;
    const e: Entry = {
      key,
      hash,
      chain: this.buckets.get(hash),
      prev: undefined,
      next: undefined,
      ipVersion: p.ipVersion,
      srcAddr: v4 ? ipv4ToString(key, KEY_ADDR_AT) : ipv6ToString(key, KEY_ADDR_AT),
      dstAddr: v4 ? ipv4ToString(key, KEY_ADDR_AT + 4) : ipv6ToString(key, KEY_ADDR_AT + 16),
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
    this.buckets.set(hash, e);
    this.linkNewest(e);
    this.count += 1;
    this.created += 1;
    return e;
  }

  private linkNewest(e: Entry): void {
    e.prev = this.newest;
    e.next = undefined;
    if (this.newest) this.newest.next = e;
    else this.oldest = e;
    this.newest = e;
  }

  private unlinkOrder(e: Entry): void {
    if (e.prev) e.prev.next = e.next;
    else this.oldest = e.next;
    if (e.next) e.next.prev = e.prev;
    else this.newest = e.prev;
    e.prev = undefined;
    e.next = undefined;
  }

  /** Takes an entry out of its hash chain and the activity list. */
  private remove(e: Entry): void {
    const head = this.buckets.get(e.hash);
    if (head === e) {
      if (e.chain) this.buckets.set(e.hash, e.chain);
      else this.buckets.delete(e.hash);
    } else {
      let p = head;
      while (p !== undefined && p.chain !== e) p = p.chain;
      if (p) p.chain = e.chain;
    }
    e.chain = undefined;
    this.unlinkOrder(e);
    this.count -= 1;
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
    for (let e = this.oldest; e !== undefined; ) {
      const next = e.next;
      let reason: ExpiryReason | undefined;
      if (nowMs - e.endMs >= inactiveTimeoutMs) reason = 'inactive';
      else if (e.endedMs !== undefined && nowMs - e.endedMs >= tcpEndGraceMs) reason = 'tcp_end';
      else if (nowMs - e.startMs >= activeTimeoutMs) reason = 'active';
      if (reason !== undefined) {
        this.remove(e);
        out.push(freeze(e, reason));
        this.expired[reason] += 1;
      }
      e = next;
    }
    if (out.length > 0) this.sink(out);
  }

  /** Exports every flow (end of the capture, shutdown). */
  flush(): void {
    const all: Entry[] = [];
    for (let e = this.oldest; e !== undefined; e = e.next) all.push(e);
    this.buckets.clear();
    this.oldest = undefined;
    this.newest = undefined;
    this.count = 0;
    this.emit(all, 'flush');
  }

  private evictOldest(): void {
    const e = this.oldest;
    if (e === undefined) return;
    this.remove(e);
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
