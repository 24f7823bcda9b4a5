import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { SamplingInfo } from '../protocol/netflow/encode-flow.js';
import { type CacheOptions, type ExpiredFlow, FlowCache, PacketView } from './cache.js';
import { DEFAULT_DESTINATION, ExportEncoder, type ExportVersion } from './destination.js';
import { fastFrame, frameFacts, type IfIndexMode, type SkipReason } from './packet.js';

/**
 * The software flow exporter: captured frames in, flows through the cache, datagrams out
 * to up to 16 destinations over UDP, each with its own format and state. The clock is
 * the caller's: packet timestamps for a capture file (flows time out in capture time),
 * the wall clock for a live capture. A destination that fails (refused, no route) only
 * counts its errors: the others are never held up by it.
 */

export const MAX_DESTINATIONS = 16;

export interface Target {
  readonly host: string;
  readonly port: number;
  readonly version: ExportVersion;
}

export interface ExporterOptions {
  readonly targets: readonly Target[];
  /** 1-in-N packet sampling (deterministic: every Nth packet); 1 or undefined = off. */
  readonly sampleEvery?: number | undefined;
  readonly cache?: Partial<CacheOptions>;
  readonly ifIndex?: IfIndexMode;
  /** v5 engine id, v9 source id, IPFIX observation domain. */
  readonly domain?: number;
  readonly templateRefreshMs?: number;
  readonly templateRefreshPackets?: number;
  readonly maxDatagramBytes?: number;
  /** One-line notices (IPv6 flows left out of v5, destinations failing). */
  readonly log?: (message: string) => void;
}

export interface DestinationStats {
  readonly target: Target;
  datagrams: number;
  flows: number;
  /** UDP payload bytes sent. */
  bytes: number;
  /** Sends that failed, and their error codes. */
  errors: number;
  errorCodes: Record<string, number>;
  /** IPv6 flows a v5 destination cannot carry. */
  ipv6Skipped: number;
}

export interface ExporterStats {
  /** Frames read from the capture. */
  packets: number;
  /** Bytes of the frames on the wire (capture original lengths). */
  observedBytes: number;
  /** Frames accounted to flows (after sampling). */
  sampled: number;
  skipped: Partial<Record<SkipReason, number>>;
  /** Non-first IP fragments, accounted with ports 0. */
  fragments: number;
  flowsActive: number;
  flowsCreated: number;
  flowsExported: number;
  expiredBy: Record<string, number>;
  destinations: DestinationStats[];
}

class UdpDestination {
  readonly stats: DestinationStats;
  private socket: Socket | undefined;
  private inFlight = 0;
  private waiters: (() => void)[] = [];
  private failedOpen = false;
  private warnedV6 = false;
  private warnedError = false;

  constructor(
    readonly target: Target,
    readonly encoder: ExportEncoder,
    private readonly log: (message: string) => void,
  ) {
    this.stats = {
      target,
      datagrams: 0,
      flows: 0,
      bytes: 0,
      errors: 0,
      errorCodes: {},
      ipv6Skipped: 0,
    };
  }

  get name(): string {
    const host = isIPv6(this.target.host) ? `[${this.target.host}]` : this.target.host;
    return `${host}:${this.target.port} (${this.target.version === 10 ? 'IPFIX' : `v${this.target.version}`})`;
  }

  /** Connects the socket (so refusals are reported on later sends). Never throws. */
  async open(): Promise<void> {
    const socket = createSocket({ type: isIPv6(this.target.host) ? 'udp6' : 'udp4' });
    socket.on('error', (err: NodeJS.ErrnoException) => this.failed(err));
    this.socket = socket;
    await new Promise<void>((resolve) => {
      const onError = (err: NodeJS.ErrnoException) => {
        this.failedOpen = true;
        this.failed(err);
        resolve();
      };
      socket.once('error', onError);
      try {
        socket.connect(this.target.port, this.target.host, () => {
          socket.off('error', onError);
          resolve();
        });
      } catch (err) {
        onError(err as NodeJS.ErrnoException);
      }
    });
  }

  private failed(err: NodeJS.ErrnoException): void {
    const code = err.code ?? err.message;
    this.stats.errors += 1;
    this.stats.errorCodes[code] = (this.stats.errorCodes[code] ?? 0) + 1;
    if (!this.warnedError) {
      this.warnedError = true;
      this.log(`export to ${this.name} failed: ${code} (counted; the other destinations go on)`);
    }
  }

  export(flows: readonly ExpiredFlow[], nowMs: number): void {
    const out = this.encoder.encode(flows, nowMs);
    this.stats.flows += out.flows;
    if (out.ipv6Skipped > 0) {
      this.stats.ipv6Skipped += out.ipv6Skipped;
      if (!this.warnedV6) {
        this.warnedV6 = true;
        this.log(
          `NetFlow v5 cannot carry IPv6: IPv6 flows are not sent to ${this.name} (counted as ipv6_skipped; use version=9 or 10 for them)`,
        );
      }
    }
    for (const d of out.datagrams) this.send(d);
  }

  private send(d: Uint8Array): void {
    this.stats.datagrams += 1;
    const socket = this.socket;
    if (socket === undefined || this.failedOpen) {
      this.stats.errors += 1;
      this.stats.errorCodes.not_connected = (this.stats.errorCodes.not_connected ?? 0) + 1;
      return;
    }
    this.inFlight += 1;
    socket.send(d, (err) => {
      if (err) this.failed(err as NodeJS.ErrnoException);
      else this.stats.bytes += d.length;
      this.inFlight -= 1;
      if (this.inFlight === 0) for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Resolves once every datagram handed over so far has left (or failed). */
  settle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  close(): void {
    try {
      this.socket?.close();
    } catch {
      // already closed
    }
  }
}

export class SoftwareExporter {
  private readonly opts: ExporterOptions;
  private readonly cache: FlowCache;
  private destinations: UdpDestination[] = [];
  private readonly pendingTargets: readonly Target[];
  private readonly ifIndex: IfIndexMode;
  private readonly sampleEvery: number;
  private readonly sampling: SamplingInfo | undefined;
  private readonly log: (message: string) => void;
  private clockMs = -Infinity;
  private started = false;
  private readonly view = new PacketView();
  private readonly counters = {
    packets: 0,
    observedBytes: 0,
    sampled: 0,
    fragments: 0,
    flowsExported: 0,
    skipped: {} as Partial<Record<SkipReason, number>>,
  };

  constructor(opts: ExporterOptions) {
    if (opts.targets.length === 0) throw new Error('no export destination (--to HOST:PORT)');
    if (opts.targets.length > MAX_DESTINATIONS)
      throw new Error(`at most ${MAX_DESTINATIONS} destinations, got ${opts.targets.length}`);
    this.opts = opts;
    this.pendingTargets = opts.targets;
    this.ifIndex = opts.ifIndex ?? { kind: 'fixed', inIf: 0, outIf: 0 };
    this.sampleEvery = Math.max(1, Math.floor(opts.sampleEvery ?? 1));
    this.sampling = this.sampleEvery > 1 ? { interval: this.sampleEvery, algorithm: 1 } : undefined;
    this.log = opts.log ?? (() => {});
    this.cache = new FlowCache(opts.cache ?? {}, (flows) => this.exportFlows(flows));
  }

  /**
   * Starts the exporter: its uptime counts from `bootMs` (rounded down to a whole second;
   * the first packet's time for a capture file, now for a live capture), and the sockets
   * are connected.
   */
  async start(bootMs: number): Promise<void> {
    if (this.started) return;
    this.started = true;
    const boot = Math.floor(bootMs / 1000) * 1000;
    this.destinations = this.pendingTargets.map(
      (t) =>
        new UdpDestination(
          t,
          new ExportEncoder({
            version: t.version,
            bootMs: boot,
            domain: this.opts.domain ?? 0,
            sampling: this.sampling,
            maxDatagramBytes: this.opts.maxDatagramBytes ?? DEFAULT_DESTINATION.maxDatagramBytes,
            templateRefreshMs: this.opts.templateRefreshMs ?? DEFAULT_DESTINATION.templateRefreshMs,
            templateRefreshPackets:
              this.opts.templateRefreshPackets ?? DEFAULT_DESTINATION.templateRefreshPackets,
          }),
          this.log,
        ),
    );
    await Promise.all(this.destinations.map((d) => d.open()));
  }

  get isStarted(): boolean {
    return this.started;
  }

  /** Accounts one captured frame seen at `timeMs`; call `start` first. */
  packet(linkType: number, data: Uint8Array, origLength: number, timeMs: number): void {
    const c = this.counters;
    c.packets += 1;
    c.observedBytes += origLength;
    if (timeMs > this.clockMs) this.clockMs = timeMs;
    if (this.sampleEvery > 1 && (c.packets - 1) % this.sampleEvery !== 0) {
      this.cache.expire(this.clockMs);
      return;
    }
    if (fastFrame(linkType, data, this.ifIndex, this.view)) {
      c.sampled += 1;
      this.cache.addView(this.view, timeMs);
      this.cache.expire(this.clockMs);
      return;
    }
    const r = frameFacts(linkType, data, this.ifIndex);
    if (r.facts === undefined) {
      const reason = r.skip ?? 'malformed';
      c.skipped[reason] = (c.skipped[reason] ?? 0) + 1;
    } else {
      c.sampled += 1;
      if (r.fragment) c.fragments += 1;
      this.cache.add(r.facts, timeMs);
    }
    this.cache.expire(this.clockMs);
  }

  /** Moves the clock (live capture: the wall clock, when no packet comes) and expires. */
  tick(nowMs: number): void {
    if (nowMs > this.clockMs) this.clockMs = nowMs;
    this.cache.expire(this.clockMs);
  }

  private exportFlows(flows: ExpiredFlow[]): void {
    this.counters.flowsExported += flows.length;
    const now = Number.isFinite(this.clockMs) ? this.clockMs : Date.now();
    for (const d of this.destinations) d.export(flows, now);
  }

  /** Resolves once every datagram so far has been handed to the kernel (or failed). */
  async settle(): Promise<void> {
    await Promise.all(this.destinations.map((d) => d.settle()));
  }

  /** Exports every flow left, waits for the sends and closes the sockets. */
  async finish(): Promise<void> {
    this.cache.flush();
    await this.settle();
    for (const d of this.destinations) d.close();
  }

  stats(): ExporterStats {
    const c = this.counters;
    return {
      packets: c.packets,
      observedBytes: c.observedBytes,
      sampled: c.sampled,
      skipped: { ...c.skipped },
      fragments: c.fragments,
      flowsActive: this.cache.size,
      flowsCreated: this.cache.created,
      flowsExported: c.flowsExported,
      expiredBy: { ...this.cache.expired },
      destinations: this.destinations.map((d) => ({
        ...d.stats,
        errorCodes: { ...d.stats.errorCodes },
      })),
    };
  }
}

/** Statistics as lines for stderr. */
export function formatStats(s: ExporterStats, final: boolean): string {
  const exportBytes = s.destinations.reduce((n, d) => n + d.bytes, 0);
  const ratio = s.observedBytes > 0 ? (100 * exportBytes) / s.observedBytes : 0;
  const skipped = Object.entries(s.skipped)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const lines = [
    `${final ? 'final' : 'stats'}: packets ${s.packets} (${s.sampled} accounted${skipped ? `, skipped ${skipped}` : ''}${s.fragments ? `, ${s.fragments} fragments` : ''}), ` +
      `flows active ${s.flowsActive}, created ${s.flowsCreated}, exported ${s.flowsExported}, ` +
      `export bytes / observed bytes ${exportBytes}/${s.observedBytes} = ${ratio.toFixed(2)}%`,
  ];
  for (const d of s.destinations) {
    const t = d.target;
    const errors = Object.entries(d.errorCodes)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    lines.push(
      `  to ${t.host}:${t.port} v${t.version}: ${d.datagrams} datagrams, ${d.flows} flows, ${d.bytes} bytes` +
        `${d.errors ? `, ${d.errors} errors (${errors})` : ''}${d.ipv6Skipped ? `, ${d.ipv6Skipped} IPv6 flows not sent (v5)` : ''}`,
    );
  }
  return lines.join('\n');
}
