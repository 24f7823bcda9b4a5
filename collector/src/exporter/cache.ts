import { ipv6ToString, parseIp } from '../protocol/address.js';
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
 * The hot path allocates nothing, and a flow is no JavaScript object: flows live in
 * typed arrays indexed by a flow number (struct of arrays, 64 bytes of key and 64 bytes
 * of counters each, so a packet touches about three cache lines and the garbage
 * collector never sees a flow). The key is a handful of 32-bit integers (addresses as
 * words, read in place from the packet), hashed into a power-of-two table of chains and
 * compared field by field. Three doubly linked lists (of flow numbers) order the flows
 * for the timeouts, so an expiry scan only visits the flows it exports: by activity
 * (inactive timeout, and the flow evicted under pressure), by creation (active timeout)
 * and by the time of their FIN/RST (TCP end). With packets in time order each list is
 * sorted by its time; a packet out of order only delays expiries behind it by as much
 * as it is late. Address text is made once per flow, when it is exported.
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
  /**
   * Flows held at most; at the bound the least recently active one (to within the
   * expiry scan interval) is exported early.
   */
  maxFlows: number;
}

export const DEFAULT_CACHE_OPTIONS: CacheOptions = {
  activeTimeoutMs: 1_800_000,
  inactiveTimeoutMs: 15_000,
  tcpEndGraceMs: 1_000,
  maxFlows: 65_536,
};

/**
 * One packet as the cache takes it: the key fields and the counters. Reused, mutable.
 * Addresses are big-endian 32-bit words (as signed integers): IPv4 in `s0`/`d0` with
 * the other words 0, IPv6 in all four.
 */
export class PacketView {
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
  s0 = 0;
  s1 = 0;
  s2 = 0;
  s3 = 0;
  d0 = 0;
  d1 = 0;
  d2 = 0;
  d3 = 0;

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
    this.s0 = wordAt(src, 0);
    this.d0 = wordAt(dst, 0);
    const v6 = n === 16;
    this.s1 = v6 ? wordAt(src, 4) : 0;
    this.s2 = v6 ? wordAt(src, 8) : 0;
    this.s3 = v6 ? wordAt(src, 12) : 0;
    this.d1 = v6 ? wordAt(dst, 4) : 0;
    this.d2 = v6 ? wordAt(dst, 8) : 0;
    this.d3 = v6 ? wordAt(dst, 12) : 0;
  }

  /** The key as text, for tests and messages. */
  keyText(): string {
    return [
      this.ipVersion,
      this.protocol,
      this.srcPort,
      this.dstPort,
      this.vlan,
      this.innerVlan,
      this.inIf,
      this.outIf,
      this.s0,
      this.s1,
      this.s2,
      this.s3,
      this.d0,
      this.d1,
      this.d2,
      this.d3,
    ].join(' ');
  }
}

/** Four bytes big-endian as a signed 32-bit integer (V8 keeps it a small integer). */
export function wordAt(b: Uint8Array, at: number): number {
  return (
    ((b[at] as number) << 24) |
    ((b[at + 1] as number) << 16) |
    ((b[at + 2] as number) << 8) |
    (b[at + 3] as number)
  );
}

const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;

export type ExpiredFlow = ExportFlow & { readonly reason: ExpiryReason };

/** A 32-bit mix of the key fields (multiply-xorshift rounds). */
function hashView(p: PacketView): number {
  const M = 0x45d9f3b;
  let h = Math.imul(p.s0 ^ 0x2545f491, M);
  h = Math.imul(h ^ (h >>> 16) ^ p.d0, M);
  h = Math.imul(h ^ (h >>> 16) ^ ((p.srcPort << 16) | p.dstPort), M);
  h = Math.imul(h ^ (h >>> 16) ^ (p.protocol | (p.vlan << 8) | (p.innerVlan << 20)), M);
  h = Math.imul(h ^ (h >>> 16) ^ p.inIf ^ Math.imul(p.outIf, 0x9e3779b1), M);
  if (p.ipVersion === 6) {
    h = Math.imul(h ^ (h >>> 16) ^ p.s1, M);
    h = Math.imul(h ^ (h >>> 16) ^ p.s2, M);
    h = Math.imul(h ^ (h >>> 16) ^ p.s3, M);
    h = Math.imul(h ^ (h >>> 16) ^ p.d1, M);
    h = Math.imul(h ^ (h >>> 16) ^ p.d2, M);
    h = Math.imul(h ^ (h >>> 16) ^ p.d3, M);
  }
  return h ^ (h >>> 15);
}

// A flow's record: 128 bytes (two adjacent cache lines) in one buffer seen through two
// views: the key in the first 64 bytes (Int32Array `keys`, KEY_STRIDE per flow), the
// counters in the second (Float64Array `nums`, NUM_STRIDE per flow, from index 8).
const K_HASH = 0;
const K_S0 = 1;
const K_D0 = 2;
/** srcPort << 16 | dstPort */
const K_PORTS = 3;
/** ipVersion << 8 | protocol */
const K_PROTO = 4;
/** vlan << 12 | innerVlan */
const K_VLANS = 5;
const K_IN = 6;
const K_OUT = 7;
const K_S1 = 8;
const K_S2 = 9;
const K_S3 = 10;
const K_D1 = 11;
const K_D2 = 12;
const K_D3 = 13;
const K_TOS = 14;
/** Next flow in the same table slot, or -1. */
const K_CHAIN = 15;
const KEY_STRIDE = 32;

// Counters. Times are ms relative to the cache's base.
const N_PACKETS = 8;
const N_BYTES = 9;
const N_START = 10;
const N_END = 11;
/** When the flow was put at the newest end of the activity list. */
const N_QUEUED = 12;
/** Time of its FIN or RST, or -Infinity before one. */
const N_ENDED = 13;
const N_FLAGS = 14;
const NUM_STRIDE = 16;
const RECORD_BYTES = 128;

// Links, Int32Array, LINK_STRIDE per flow; -1 = none.
const L_PREV = 0;
const L_NEXT = 1;
const L_OLDER = 2;
const L_YOUNGER = 3;
const L_ENDED_BEFORE = 4;
const L_ENDED_AFTER = 5;
const LINK_STRIDE = 8;

const NONE = -1;
const MIN_CAPACITY = 1024;

/** A doubly linked list of flow numbers threaded through `links` at offsets `p`, `n`. */
class FlowList {
  head = NONE;
  tail = NONE;
  constructor(
    private readonly p: number,
    private readonly n: number,
  ) {}

  append(links: Int32Array, id: number): void {
    const b = id * LINK_STRIDE;
    links[b + this.p] = this.tail;
    links[b + this.n] = NONE;
    if (this.tail === NONE) this.head = id;
    else links[this.tail * LINK_STRIDE + this.n] = id;
    this.tail = id;
  }

  unlink(links: Int32Array, id: number): void {
    const b = id * LINK_STRIDE;
    const prev = links[b + this.p] as number;
    const next = links[b + this.n] as number;
    if (prev === NONE) this.head = next;
    else links[prev * LINK_STRIDE + this.n] = next;
    if (next === NONE) this.tail = prev;
    else links[next * LINK_STRIDE + this.p] = prev;
    links[b + this.p] = NONE;
    links[b + this.n] = NONE;
  }

  next(links: Int32Array, id: number): number {
    return links[id * LINK_STRIDE + this.n] as number;
  }

  clear(): void {
    this.head = NONE;
    this.tail = NONE;
  }
}

export class FlowCache {
  readonly options: CacheOptions;
  private capacity = 0;
  private keys = new Int32Array(0);
  private nums = new Float64Array(0);
  private links = new Int32Array(0);
  /** Free flow numbers (a stack). */
  private free = new Int32Array(0);
  private freeCount = 0;
  /** First flow of each chain by `hash & mask`, or -1; twice as many slots as flows. */
  private table = new Int32Array(0);
  private mask = 0;
  /** Activity order (head: least recently active). */
  private readonly byActivity = new FlowList(L_PREV, L_NEXT);
  /** Creation order (head: created longest ago). */
  private readonly byBirth = new FlowList(L_OLDER, L_YOUNGER);
  /** FIN/RST order (head: saw its FIN or RST first). */
  private readonly byEnd = new FlowList(L_ENDED_BEFORE, L_ENDED_AFTER);
  private count = 0;
  private lastScanMs = -Infinity;
  private readonly scanEveryMs: number;
  /**
   * A flow moves to the newest end of the activity list only when its last packet is
   * more than this much later than when it was put there (not on every packet: moving
   * touches two other flows in memory). So the list is sorted by the time each flow was
   * put there, and every flow's last packet is at most this much later than that.
   */
  private readonly slackMs: number;
  /** Whole ms since the epoch that flow times are relative to (the first packet's). */
  private baseMs = 0;
  private based = false;
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
    this.slackMs = Math.floor(this.scanEveryMs);
    this.resize(Math.min(MIN_CAPACITY, this.options.maxFlows));
  }

  get size(): number {
    return this.count;
  }

  /** Accounts one packet given as facts with address text (`addView` is the fast path). */
  add(p: PacketFacts, timeMs: number): void {
    this.view.setFacts(p);
    this.addView(this.view, timeMs);
  }

  /** Accounts one packet seen at `timeMs` (ms since the epoch; flows keep whole ms). */
  addView(p: PacketView, timeMs: number): void {
    if (!this.based) {
      this.baseMs = Math.floor(timeMs);
      this.based = true;
    }
    const rel = Math.floor(timeMs) - this.baseMs;
    const hash = hashView(p);
    const ports = (p.srcPort << 16) | p.dstPort;
    const proto = (p.ipVersion << 8) | p.protocol;
    const vlans = (p.vlan << 12) | p.innerVlan;
    const inIf = p.inIf | 0;
    const outIf = p.outIf | 0;
    const keys = this.keys;
    let id = this.table[hash & this.mask] as number;
    while (id !== NONE) {
      const k = id * KEY_STRIDE;
      if (
        keys[k + K_HASH] === hash &&
        keys[k + K_S0] === p.s0 &&
        keys[k + K_D0] === p.d0 &&
        keys[k + K_PORTS] === ports &&
        keys[k + K_PROTO] === proto &&
        keys[k + K_VLANS] === vlans &&
        keys[k + K_IN] === inIf &&
        keys[k + K_OUT] === outIf &&
        (p.ipVersion === 4 ||
          (keys[k + K_S1] === p.s1 &&
            keys[k + K_S2] === p.s2 &&
            keys[k + K_S3] === p.s3 &&
            keys[k + K_D1] === p.d1 &&
            keys[k + K_D2] === p.d2 &&
            keys[k + K_D3] === p.d3))
      )
        break;
      id = keys[k + K_CHAIN] as number;
    }
    const tcp = p.protocol === 6;
    if (
      id !== NONE &&
      tcp &&
      p.tcpFlags & TCP_SYN &&
      this.nums[id * NUM_STRIDE + N_ENDED] !== -Infinity
    ) {
      // A new connection on the same 5-tuple after the old one closed.
      const old = this.freeze(id, 'tcp_end');
      this.remove(id);
      this.expired.tcp_end += 1;
      this.sink([old]);
      id = NONE;
    }
    if (id === NONE) {
      if (this.count >= this.options.maxFlows) this.evictOldest();
      id = this.create(p, hash, ports, proto, vlans, inIf, outIf, rel);
    }
    const nums = this.nums;
    const n = id * NUM_STRIDE;
    nums[n + N_PACKETS] = (nums[n + N_PACKETS] as number) + 1;
    nums[n + N_BYTES] = (nums[n + N_BYTES] as number) + p.bytes;
    if (tcp) nums[n + N_FLAGS] = (nums[n + N_FLAGS] as number) | p.tcpFlags;
    if (rel > (nums[n + N_END] as number)) {
      nums[n + N_END] = rel;
      if (rel - (nums[n + N_QUEUED] as number) > this.slackMs) {
        if (id !== this.byActivity.tail) {
          this.byActivity.unlink(this.links, id);
          this.byActivity.append(this.links, id);
        }
        nums[n + N_QUEUED] = rel;
      }
    } else if (rel < (nums[n + N_START] as number)) nums[n + N_START] = rel;
    if (tcp && p.tcpFlags & (TCP_FIN | TCP_RST) && nums[n + N_ENDED] === -Infinity) {
      nums[n + N_ENDED] = rel;
      this.byEnd.append(this.links, id);
    }
  }

  private create(
    p: PacketView,
    hash: number,
    ports: number,
    proto: number,
    vlans: number,
    inIf: number,
    outIf: number,
    rel: number,
  ): number {
    if (this.freeCount === 0) this.resize(this.capacity * 2);
    const id = this.free[--this.freeCount] as number;
    const keys = this.keys;
    const k = id * KEY_STRIDE;
    keys[k + K_HASH] = hash;
    keys[k + K_S0] = p.s0;
    keys[k + K_D0] = p.d0;
    keys[k + K_PORTS] = ports;
    keys[k + K_PROTO] = proto;
    keys[k + K_VLANS] = vlans;
    keys[k + K_IN] = inIf;
    keys[k + K_OUT] = outIf;
    keys[k + K_S1] = p.s1;
    keys[k + K_S2] = p.s2;
    keys[k + K_S3] = p.s3;
    keys[k + K_D1] = p.d1;
    keys[k + K_D2] = p.d2;
    keys[k + K_D3] = p.d3;
    keys[k + K_TOS] = p.tos;
    const slot = hash & this.mask;
    keys[k + K_CHAIN] = this.table[slot] as number;
    this.table[slot] = id;
    const nums = this.nums;
    const n = id * NUM_STRIDE;
    nums[n + N_PACKETS] = 0;
    nums[n + N_BYTES] = 0;
    nums[n + N_START] = rel;
    nums[n + N_END] = rel;
    nums[n + N_QUEUED] = rel;
    nums[n + N_ENDED] = -Infinity;
    nums[n + N_FLAGS] = 0;
    this.byActivity.append(this.links, id);
    this.byBirth.append(this.links, id);
    this.count += 1;
    this.created += 1;
    return id;
  }

  /** Room for `capacity` flows (grows to at most maxFlows); re-chains the table. */
  private resize(capacity: number): void {
    const cap = Math.max(this.count, Math.min(capacity, this.options.maxFlows));
    if (cap <= this.capacity) return;
    const records = new ArrayBuffer(cap * RECORD_BYTES);
    new Uint8Array(records).set(new Uint8Array(this.keys.buffer));
    const keys = new Int32Array(records);
    const nums = new Float64Array(records);
    const links = new Int32Array(cap * LINK_STRIDE).fill(NONE);
    links.set(this.links);
    const free = new Int32Array(cap);
    free.set(this.free.subarray(0, this.freeCount));
    // New numbers are handed out from the low end first.
    let f = this.freeCount;
    for (let id = cap - 1; id >= this.capacity; id--) free[f++] = id;
    let size = MIN_CAPACITY;
    while (size < 2 * cap) size *= 2;
    const table = new Int32Array(size).fill(NONE);
    const mask = size - 1;
    for (let id = this.byActivity.head; id !== NONE; id = this.byActivity.next(links, id)) {
      const k = id * KEY_STRIDE;
      const slot = (keys[k + K_HASH] as number) & mask;
      keys[k + K_CHAIN] = table[slot] as number;
      table[slot] = id;
    }
    this.keys = keys;
    this.nums = nums;
    this.links = links;
    this.free = free;
    this.freeCount = f;
    this.table = table;
    this.mask = mask;
    this.capacity = cap;
  }

  /** Takes a flow out of its chain and every list, and frees its number. */
  private remove(id: number): void {
    const keys = this.keys;
    const k = id * KEY_STRIDE;
    const slot = (keys[k + K_HASH] as number) & this.mask;
    let at = this.table[slot] as number;
    if (at === id) this.table[slot] = keys[k + K_CHAIN] as number;
    else {
      while (at !== NONE && keys[at * KEY_STRIDE + K_CHAIN] !== id)
        at = keys[at * KEY_STRIDE + K_CHAIN] as number;
      if (at !== NONE) keys[at * KEY_STRIDE + K_CHAIN] = keys[k + K_CHAIN] as number;
    }
    keys[k + K_CHAIN] = NONE;
    const links = this.links;
    this.byActivity.unlink(links, id);
    this.byBirth.unlink(links, id);
    if (this.nums[id * NUM_STRIDE + N_ENDED] !== -Infinity) this.byEnd.unlink(links, id);
    this.free[this.freeCount++] = id;
    this.count -= 1;
  }

  /**
   * Exports the flows whose time is up at `nowMs`. Cheap when called often: the scan
   * runs at most once per second of the clock (more often for timeouts under 2 s), and
   * visits only the heads of the three timeout lists.
   */
  expire(nowMs: number): void {
    if (nowMs - this.lastScanMs >= this.scanEveryMs) this.scan(nowMs);
  }

  /** The expiry scan (apart from `expire`, whose early return must allocate nothing). */
  private scan(nowMs: number): void {
    this.lastScanMs = nowMs;
    const { activeTimeoutMs, inactiveTimeoutMs, tcpEndGraceMs } = this.options;
    const out: ExpiredFlow[] = [];
    const now = nowMs - this.baseMs;
    const nums = this.nums;
    const take = (id: number, reason: ExpiryReason) => {
      out.push(this.freeze(id, reason));
      this.remove(id);
      this.expired[reason] += 1;
    };
    // Sorted by the time put there; a flow's last packet is at most slackMs later.
    for (let id = this.byActivity.head; id !== NONE; ) {
      const n = id * NUM_STRIDE;
      if (now - (nums[n + N_QUEUED] as number) < inactiveTimeoutMs) break;
      const next = this.byActivity.next(this.links, id);
      if (now - (nums[n + N_END] as number) >= inactiveTimeoutMs) take(id, 'inactive');
      id = next;
    }
    for (let id = this.byEnd.head; id !== NONE; id = this.byEnd.head) {
      if (now - (nums[id * NUM_STRIDE + N_ENDED] as number) < tcpEndGraceMs) break;
      take(id, 'tcp_end');
    }
    for (let id = this.byBirth.head; id !== NONE; id = this.byBirth.head) {
      if (now - (nums[id * NUM_STRIDE + N_START] as number) < activeTimeoutMs) break;
      take(id, 'active');
    }
    if (out.length > 0) this.sink(out);
  }

  /** Exports every flow (end of the capture, shutdown), least recently active first. */
  flush(): void {
    const out: ExpiredFlow[] = [];
    for (let id = this.byActivity.head; id !== NONE; id = this.byActivity.next(this.links, id))
      out.push(this.freeze(id, 'flush'));
    this.table.fill(NONE);
    this.links.fill(NONE);
    this.byActivity.clear();
    this.byBirth.clear();
    this.byEnd.clear();
    this.freeCount = 0;
    for (let id = this.capacity - 1; id >= 0; id--) this.free[this.freeCount++] = id;
    this.count = 0;
    this.expired.flush += out.length;
    if (out.length > 0) this.sink(out);
  }

  private evictOldest(): void {
    const id = this.byActivity.head;
    if (id === NONE) return;
    const f = this.freeze(id, 'pressure');
    this.remove(id);
    this.expired.pressure += 1;
    this.sink([f]);
  }

  /** The exported form of flow `id`. */
  private freeze(id: number, reason: ExpiryReason): ExpiredFlow {
    const k = id * KEY_STRIDE;
    const n = id * NUM_STRIDE;
    const keys = this.keys;
    const nums = this.nums;
    const v4 = (keys[k + K_PROTO] as number) >> 8 === 4;
    const ports = keys[k + K_PORTS] as number;
    const vlans = keys[k + K_VLANS] as number;
    return {
      ipVersion: v4 ? 4 : 6,
      srcAddr: v4 ? v4Text(keys[k + K_S0] as number) : v6Text(keys, k + K_S0, k + K_S1),
      dstAddr: v4 ? v4Text(keys[k + K_D0] as number) : v6Text(keys, k + K_D0, k + K_D1),
      srcPort: ports >>> 16,
      dstPort: ports & 0xffff,
      protocol: (keys[k + K_PROTO] as number) & 0xff,
      tos: keys[k + K_TOS] as number,
      tcpFlags: nums[n + N_FLAGS] as number,
      packets: nums[n + N_PACKETS] as number,
      bytes: nums[n + N_BYTES] as number,
      startMs: this.baseMs + (nums[n + N_START] as number),
      endMs: this.baseMs + (nums[n + N_END] as number),
      inIf: (keys[k + K_IN] as number) >>> 0,
      outIf: (keys[k + K_OUT] as number) >>> 0,
      vlan: vlans >>> 12,
      innerVlan: vlans & 0xfff,
      reason,
    };
  }
}

const v6Bytes = new Uint8Array(16);
const v6View = new DataView(v6Bytes.buffer);

function v4Text(w: number): string {
  return `${w >>> 24}.${(w >>> 16) & 0xff}.${(w >>> 8) & 0xff}.${w & 0xff}`;
}

/** IPv6 text of the words at keys[first] and keys[rest..rest+2] (the key layout). */
function v6Text(keys: Int32Array, first: number, rest: number): string {
  v6View.setInt32(0, keys[first] as number);
  v6View.setInt32(4, keys[rest] as number);
  v6View.setInt32(8, keys[rest + 1] as number);
  v6View.setInt32(12, keys[rest + 2] as number);
  return ipv6ToString(v6Bytes, 0);
}
