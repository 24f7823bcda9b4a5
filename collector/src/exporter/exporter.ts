import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { FrameSink } from '../protocol/capture/types.js';
import type { SamplingInfo } from '../protocol/netflow/encode-flow.js';
import { type CacheOptions, type ExpiredFlow, FlowCache, PacketView } from './cache.js';
import { DEFAULT_DESTINATION, ExportEncoder, type ExportFormat } from './destination.js';
import { fastFrame, frameFacts, type IfIndexMode, type SkipReason } from './packet.js';
import { SflowEncoder } from './sflow-destination.js';

/**
 * The software flow exporter: captured frames in, flows through the cache, datagrams out
 * to up to 16 destinations over UDP, each with its own format and state. The clock is
 * the caller's: packet timestamps for a capture file (flows time out in capture time),
 * the wall clock for a live capture. A destination that fails (refused, no route) only
 * counts its errors: the others are never held up by it.
 */

export const MAX_DESTINATIONS = 16;

/** sFlow samples wait at most this long (export clock) for a fuller datagram. */
const SFLOW_MAX_DELAY_MS = 1000;

export interface Target {
  readonly host: string;
  readonly port: number;
  /** NetFlow v5, v9, IPFIX (10), or sFlow v5 packet samples ('sflow'). */
  readonly version: ExportFormat;
}

/** The format's name for messages: "v5", "v9", "IPFIX", "sFlow". */
export function formatName(v: ExportFormat): string {
  return v === 10 ? 'IPFIX' : v === 'sflow' ? 'sFlow' : `v${v}`;
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
  /** Flow records sent (sFlow: packet samples). */
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

  /** sFlow only: made once the socket is connected (its local address is the agent's). */
  private sflow: SflowEncoder | undefined;

  constructor(
    readonly target: Target,
    /** NetFlow/IPFIX: the encoder; undefined for sFlow. */
    readonly encoder: ExportEncoder | undefined,
    private readonly makeSflow: ((agentAddress: string) => SflowEncoder) | undefined,
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
    return `${host}:${this.target.port} (${formatName(this.target.version)})`;
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
    if (this.makeSflow) {
      let agent = isIPv6(this.target.host) ? '::' : '0.0.0.0';
      try {
        if (!this.failedOpen) agent = socket.address().address;
      } catch {
        // not bound: the unspecified address
      }
      this.sflow = this.makeSflow(agent);
    }
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
    if (this.encoder === undefined) return;
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

  get samples(): boolean {
    return this.makeSflow !== undefined;
  }

  /** sFlow: one sampled frame (see `SflowEncoder.sample`). */
  sample(
    linkType: number,
    buf: Uint8Array,
    off: number,
    length: number,
    origLength: number,
    input: number,
    output: number,
    pool: number,
    nowMs: number,
  ): void {
    const s = this.sflow;
    if (s === undefined) return;
    const before = s.waiting;
    const d = s.sample(linkType, buf, off, length, origLength, input, output, pool, nowMs);
    if (d !== undefined) this.send(d);
    if (s.waiting > before || d !== undefined) this.stats.flows += 1;
  }

  /** sFlow: sends the waiting samples if they are due (or `force`d). */
  flushSamples(nowMs: number, force: boolean): void {
    const d = this.sflow?.flush(nowMs, force);
    if (d !== undefined) this.send(d);
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

export class SoftwareExporter implements FrameSink {
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
  /** The destinations taking sFlow packet samples, and when their samples are next due. */
  private samplers: UdpDestination[] = [];
  private samplesDueMs = Infinity;
  private readonly view = new PacketView();
  // Counters as plain fields: they are touched for every packet.
  private packets = 0;
  private observedBytes = 0;
  private sampled = 0;
  private fragments = 0;
  private flowsExported = 0;
  private readonly skipped: Partial<Record<SkipReason, number>> = {};

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
    const maxDatagramBytes = this.opts.maxDatagramBytes ?? DEFAULT_DESTINATION.maxDatagramBytes;
    this.destinations = this.pendingTargets.map((t) =>
      t.version === 'sflow'
        ? new UdpDestination(
            t,
            undefined,
            (agentAddress) =>
              new SflowEncoder({
                bootMs: boot,
                agentAddress,
                subAgentId: this.opts.domain ?? 0,
                samplingRate: this.sampleEvery,
                maxDatagramBytes,
                maxDelayMs: SFLOW_MAX_DELAY_MS,
              }),
            this.log,
          )
        : new UdpDestination(
            t,
            new ExportEncoder({
              version: t.version,
              bootMs: boot,
              domain: this.opts.domain ?? 0,
              sampling: this.sampling,
              maxDatagramBytes: this.opts.maxDatagramBytes ?? DEFAULT_DESTINATION.maxDatagramBytes,
              templateRefreshMs:
                this.opts.templateRefreshMs ?? DEFAULT_DESTINATION.templateRefreshMs,
              templateRefreshPackets:
                this.opts.templateRefreshPackets ?? DEFAULT_DESTINATION.templateRefreshPackets,
            }),
            undefined,
            this.log,
          ),
    );
    this.samplers = this.destinations.filter((d) => d.samples);
    await Promise.all(this.destinations.map((d) => d.open()));
  }

  get isStarted(): boolean {
    return this.started;
  }

  /** Accounts one captured frame seen at `timeMs`; call `start` first. */
  packet(linkType: number, data: Uint8Array, origLength: number, timeMs: number): void {
    this.frame(linkType, data, 0, data.length, origLength, timeMs);
  }

  /**
   * Accounts the frame `buf[off, off + length)` seen at `timeMs` (the capture reader's
   * `FrameSink`: nothing is kept of `buf`); call `start` first.
   */
  frame(
    linkType: number,
    buf: Uint8Array,
    off: number,
    length: number,
    origLength: number,
    timeMs: number,
  ): void {
    this.packets += 1;
    this.observedBytes += origLength;
    if (timeMs > this.clockMs) this.clockMs = timeMs;
    if (this.sampleEvery > 1 && (this.packets - 1) % this.sampleEvery !== 0) {
      this.cache.expire(this.clockMs);
      return;
    }
    const fast = fastFrame(linkType, buf, off, off + length, this.ifIndex, this.view);
    if (fast) {
      this.sampled += 1;
      this.cache.addView(this.view, timeMs);
    } else this.slowFrame(linkType, buf.subarray(off, off + length), timeMs);
    if (this.samplers.length > 0) this.sampleFrame(fast, linkType, buf, off, length, origLength);
    this.cache.expire(this.clockMs);
  }

  /** sFlow: the sampled frame to every sFlow destination; due datagrams sent. */
  private sampleFrame(
    fast: boolean,
    linkType: number,
    buf: Uint8Array,
    off: number,
    length: number,
    origLength: number,
  ): void {
    const m = this.ifIndex;
    const input = fast ? this.view.inIf : m.kind === 'fixed' ? m.inIf : 0;
    const output = fast ? this.view.outIf : m.kind === 'fixed' ? m.outIf : 0;
    const now = this.clockMs;
    if (this.samplesDueMs === Infinity) this.samplesDueMs = now + SFLOW_MAX_DELAY_MS;
    for (const d of this.samplers)
      d.sample(linkType, buf, off, length, origLength, input, output, this.packets, now);
    if (now >= this.samplesDueMs) this.flushSamples(now, false);
  }

  private flushSamples(nowMs: number, force: boolean): void {
    for (const d of this.samplers) d.flushSamples(nowMs, force);
    // The next sample taken sets the next due time.
    this.samplesDueMs = Infinity;
  }

  /** Frames the fast path declines: the general parser, with a counted reason if skipped. */
  private slowFrame(linkType: number, data: Uint8Array, timeMs: number): void {
    const r = frameFacts(linkType, data, this.ifIndex);
    if (r.facts === undefined) {
      const reason = r.skip ?? 'malformed';
      this.skipped[reason] = (this.skipped[reason] ?? 0) + 1;
    } else {
      this.sampled += 1;
      if (r.fragment) this.fragments += 1;
      this.cache.add(r.facts, timeMs);
    }
  }

  /** Moves the clock (live capture: the wall clock, when no packet comes) and expires. */
  tick(nowMs: number): void {
    if (nowMs > this.clockMs) this.clockMs = nowMs;
    this.cache.expire(this.clockMs);
    if (this.clockMs >= this.samplesDueMs) this.flushSamples(this.clockMs, false);
  }

  private exportFlows(flows: ExpiredFlow[]): void {
    this.flowsExported += flows.length;
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
    this.flushSamples(this.clockMs, true);
    await this.settle();
    for (const d of this.destinations) d.close();
  }

  stats(): ExporterStats {
    return {
      packets: this.packets,
      observedBytes: this.observedBytes,
      sampled: this.sampled,
      skipped: { ...this.skipped },
      fragments: this.fragments,
      flowsActive: this.cache.size,
      flowsCreated: this.cache.created,
      flowsExported: this.flowsExported,
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
      `  to ${t.host}:${t.port} ${formatName(t.version)}: ${d.datagrams} datagrams, ${d.flows} ${t.version === 'sflow' ? 'samples' : 'flows'}, ${d.bytes} bytes` +
        `${d.errors ? `, ${d.errors} errors (${errors})` : ''}${d.ipv6Skipped ? `, ${d.ipv6Skipped} IPv6 flows not sent (v5)` : ''}`,
    );
  }
  return lines.join('\n');
}
