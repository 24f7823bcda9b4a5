import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';

export interface UdpListenerOptions {
  port: number;
  /** "::" (IPv4 and IPv6), "0.0.0.0", or a specific address. */
  address: string;
  receiveBufferBytes: number;
  onDatagram: (bytes: Buffer, exporter: string, exporterPort: number, localPort: number) => void;
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

/** Dual-stack sockets report IPv4 exporters as ::ffff:a.b.c.d; everything else wants a.b.c.d. */
export function normalizeAddress(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/**
 * One UDP socket for flow exports: any format on any port (detected per datagram).
 * The receive buffer is set large (bursts of export packets outrun the event loop);
 * when the kernel caps it, `buffer` says so and the caller warns with the sysctl to raise.
 */
export class UdpListener {
  private constructor(
    private readonly socket: Socket,
    readonly port: number,
    readonly address: string,
    readonly buffer: BufferReport,
  ) {}

  static bind(opts: UdpListenerOptions): Promise<UdpListener> {
    const v4 = isIPv4(opts.address);
    const socket = createSocket({ type: v4 ? 'udp4' : 'udp6', ipv6Only: false, reuseAddr: false });
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        socket.close();
        reject(new Error(`cannot listen on UDP ${opts.address} port ${opts.port}: ${err.message}`));
      };
      socket.once('error', onError);
      socket.bind({ port: opts.port, address: opts.address, exclusive: true }, () => {
        socket.off('error', onError);
        const requested = opts.receiveBufferBytes;
        try {
          socket.setRecvBufferSize(requested);
        } catch {
          // Reported below through the granted size.
        }
        const granted = Math.floor(socket.getRecvBufferSize() / 2);
        const local = socket.address().port;
        socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
          opts.onDatagram(msg, normalizeAddress(rinfo.address), rinfo.port, local);
        });
        // A socket error after bind (rare: ICMP errors on some platforms) must not crash.
        socket.on('error', () => {});
        resolve(
          new UdpListener(socket, local, opts.address, {
            requested,
            granted,
            kernelMax: kernelRmemMax(),
          }),
        );
      });
    });
  }

  get capped(): boolean {
    return this.buffer.granted < this.buffer.requested;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
