import { readFileSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { spawnThread } from '../threads/spawn.js';
import { type FromReceiver, IN_FLIGHT, type ToReceiver } from './udp-messages.js';

export { normalizeAddress } from './udp-address.js';

export interface UdpListenerOptions {
  port: number;
  /** "::" (IPv4 and IPv6), "0.0.0.0", or a specific address. */
  address: string;
  receiveBufferBytes: number;
  onDatagram: (bytes: Buffer, exporter: string, exporterPort: number, localPort: number) => void;
  /**
   * Datagrams the receive thread could not hand over (the main thread had not taken the
   * earlier ones, at the bound), by exporter. Counted, never silent.
   */
  onOverflow?: (exporter: string, datagrams: number) => void;
}

export interface BufferReport {
  requested: number;
  /** What the kernel granted (Linux reports twice the usable size; this is halved back). */
  granted: number;
  /** /proc/sys/net/core/rmem_max, when readable. */
  kernelMax: number | undefined;
}

function kernelRmemMax(): number | undefined {
  try {
    return Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim());
  } catch {
    return undefined;
  }
}

/** A young generation of 8 MB: the thread's garbage is one Buffer per datagram. */
const RECEIVER_LIMITS = { maxYoungGenerationSizeMb: 8 };

interface Open {
  opts: UdpListenerOptions;
  port: number;
  bound: (port: number, granted: number) => void;
  failed: (message: string) => void;
  closed: () => void;
}

/**
 * The one receive thread (udp-receiver.ts) every listener's socket lives in, started with
 * the first listener and ended with the last.
 */
class Receiver {
  private static current: Receiver | undefined;
  private readonly thread: Worker;
  /** Datagram bytes the thread handed over and this thread has not taken yet (IN_FLIGHT). */
  private readonly inFlight = new Int32Array(new SharedArrayBuffer(4));
  private readonly open = new Map<number, Open>();
  private nextId = 1;

  private constructor() {
    this.thread = spawnThread(import.meta.url, 'udp-receiver', {
      resourceLimits: RECEIVER_LIMITS,
      workerData: this.inFlight.buffer,
    });
    this.thread.on('message', (m: FromReceiver) => this.receive(m));
    this.thread.on('error', (err) => {
      for (const o of this.open.values()) o.failed(`UDP receive thread failed: ${err.message}`);
    });
  }

  static get(): Receiver {
    Receiver.current ??= new Receiver();
    return Receiver.current;
  }

  bind(o: Omit<Open, 'port'>): number {
    const id = this.nextId++;
    this.open.set(id, { ...o, port: 0 });
    const msg: ToReceiver = {
      type: 'bind',
      id,
      port: o.opts.port,
      address: o.opts.address,
      receiveBufferBytes: o.opts.receiveBufferBytes,
    };
    this.thread.postMessage(msg);
    return id;
  }

  close(id: number): void {
    this.thread.postMessage({ type: 'close', id } satisfies ToReceiver);
  }

  private receive(m: FromReceiver): void {
    const o = this.open.get(m.id);
    if (o === undefined) return;
    switch (m.type) {
      case 'bound':
        o.port = m.port;
        o.bound(m.port, m.granted);
        return;
      case 'bind-failed':
        this.open.delete(m.id);
        o.failed(m.message);
        this.endIfUnused();
        return;
      case 'closed':
        this.open.delete(m.id);
        o.closed();
        this.endIfUnused();
        return;
      case 'batch': {
        const buf = Buffer.from(m.bytes);
        let start = 0;
        try {
          for (let i = 0; i < m.ends.length; i++) {
            const end = m.ends[i] as number;
            o.opts.onDatagram(
              buf.subarray(start, end),
              m.exporters[i] as string,
              m.ports[i] as number,
              o.port,
            );
            start = end;
          }
        } finally {
          Atomics.sub(this.inFlight, IN_FLIGHT, m.bytes.byteLength);
        }
        for (const [exporter, n] of m.overflow) o.opts.onOverflow?.(exporter, n);
        return;
      }
    }
  }

  private endIfUnused(): void {
    if (this.open.size > 0 || Receiver.current !== this) return;
    Receiver.current = undefined;
    void this.thread.terminate();
  }
}

/**
 * One UDP socket for flow exports: any format on any port (detected per datagram). The
 * socket lives in the receive thread; datagrams arrive here through `onDatagram`. The
 * receive buffer is set large (bursts of export packets outrun any reader for a moment);
 * when the kernel caps it, `buffer` says so and the caller warns with the sysctl to raise.
 */
export class UdpListener {
  private constructor(
    private readonly receiver: Receiver,
    private readonly id: number,
    readonly port: number,
    readonly address: string,
    readonly buffer: BufferReport,
    private readonly whenClosed: Promise<void>,
  ) {}

  static bind(opts: UdpListenerOptions): Promise<UdpListener> {
    const receiver = Receiver.get();
    return new Promise((resolve, reject) => {
      let closed: () => void = () => {};
      const whenClosed = new Promise<void>((r) => {
        closed = r;
      });
      const id = receiver.bind({
        opts,
        bound: (port, granted) =>
          resolve(
            new UdpListener(
              receiver,
              id,
              port,
              opts.address,
              { requested: opts.receiveBufferBytes, granted, kernelMax: kernelRmemMax() },
              whenClosed,
            ),
          ),
        failed: (message) =>
          reject(new Error(`cannot listen on UDP ${opts.address} port ${opts.port}: ${message}`)),
        closed: () => closed(),
      });
    });
  }

  get capped(): boolean {
    return this.buffer.granted < this.buffer.requested;
  }

  close(): Promise<void> {
    this.receiver.close(this.id);
    return this.whenClosed;
  }
}
