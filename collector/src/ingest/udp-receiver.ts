// The UDP receive thread: owns the collector's sockets and does nothing but read them,
// handing datagrams to the main thread in batches.
//
// Why a thread of its own: libuv reads at most 32 datagrams from a socket per turn of the
// event loop, and on the main thread a turn also builds bulk bodies, takes decoded
// batches and answers HTTP, a few milliseconds at a time. Exporters send in bursts (a
// router flushing its cache, a benchmark at full speed: 100,000 datagrams/s), and a burst
// that outlasts the kernel's receive buffer (net.core.rmem_max, often 4 MiB or less) is
// dropped by the kernel, uncounted by anyone but /proc. Here a turn reads and copies, so
// the socket is drained as fast as datagrams come, and what the main thread has not taken
// yet waits in memory, bounded.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { normalizeAddress } from './udp-address.js';
import {
  type DatagramBatch,
  type FromReceiver,
  IN_FLIGHT,
  type ToReceiver,
} from './udp-messages.js';

/** Bytes of datagrams per batch buffer; a fuller batch goes at once, others within SEND_DELAY_MS. */
const BATCH_BYTES = 256 * 1024;
/**
 * Datagram bytes handed over and not yet taken before datagrams are counted as overflow
 * instead: the memory a main thread stuck for seconds can cost (the kernel's own buffer
 * is 4 MiB on many machines; this is the burst Sluice absorbs beyond it).
 */
const MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;
const RECEIVER_NICE = -10;
/**
 * How long a batch that is not full waits for more datagrams before it goes. Why wait:
 * at a steady rate datagrams come a few per loop turn, and each batch costs a message and
 * a wake-up of the main thread. At 50,000 records/s, 4 ms took this thread from about 1.1
 * to 0.9 µs of CPU per record (bench/ingest/alone.ts --threads). The journal flushes
 * every 20 ms, so a few ms here delay nothing that waits for it.
 */
const SEND_DELAY_MS = 4;

const port = parentPort;
if (!port) throw new Error('udp-receiver must run as a worker thread');
// Ahead of the collector's other threads and of Elasticsearch on the same machine: a
// burst is lost if this thread waits for a CPU while the kernel buffer fills. On Linux the
// nice value is per thread; raising priority needs CAP_SYS_NICE (root has it), and
// without it the thread runs at the process's priority.
try {
  setPriority(0, RECEIVER_NICE);
} catch {
  // Not permitted: the default priority.
}
const inFlight = new Int32Array(workerData as SharedArrayBuffer);

/** The batch being filled for one socket. */
class Pending {
  bytes = new Uint8Array(BATCH_BYTES);
  used = 0;
  ends: number[] = [];
  exporters: string[] = [];
  ports: number[] = [];
  overflow = new Map<string, number>();
  scheduled = false;

  constructor(readonly id: number) {}

  add(msg: Buffer, exporter: string, from: number): void {
    if (Atomics.load(inFlight, IN_FLIGHT) + this.used >= MAX_IN_FLIGHT_BYTES) {
      this.overflow.set(exporter, (this.overflow.get(exporter) ?? 0) + 1);
      this.schedule();
      return;
    }
    if (this.used + msg.length > this.bytes.length) {
      this.send();
      if (msg.length > this.bytes.length) this.bytes = new Uint8Array(msg.length);
    }
    this.bytes.set(msg, this.used);
    this.used += msg.length;
    this.ends.push(this.used);
    this.exporters.push(exporter);
    this.ports.push(from);
    this.schedule();
  }

  /** Sends within SEND_DELAY_MS (sooner when the batch fills). */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setTimeout(() => {
      this.scheduled = false;
      this.send();
    }, SEND_DELAY_MS);
  }

  send(): void {
    if (this.ends.length === 0 && this.overflow.size === 0) return;
    const bytes = this.bytes.buffer.slice(0, this.used);
    const msg: DatagramBatch = {
      type: 'batch',
      id: this.id,
      bytes: bytes as ArrayBuffer,
      ends: Uint32Array.from(this.ends),
      exporters: this.exporters,
      ports: Uint16Array.from(this.ports),
      overflow: [...this.overflow],
    };
    Atomics.add(inFlight, IN_FLIGHT, this.used);
    port?.postMessage(msg, [msg.bytes, msg.ends.buffer as ArrayBuffer]);
    this.used = 0;
    this.ends = [];
    this.exporters = [];
    this.ports = [];
    this.overflow = new Map();
  }
}

const sockets = new Map<number, Socket>();

function bind(req: Extract<ToReceiver, { type: 'bind' }>): void {
  const socket = createSocket({
    type: isIPv4(req.address) ? 'udp4' : 'udp6',
    ipv6Only: false,
    reuseAddr: false,
  });
  const reply = (m: FromReceiver) => port?.postMessage(m);
  const onError = (err: Error) => {
    socket.close();
    reply({ type: 'bind-failed', id: req.id, message: err.message });
  };
  socket.once('error', onError);
  socket.bind({ port: req.port, address: req.address, exclusive: true }, () => {
    socket.off('error', onError);
    try {
      socket.setRecvBufferSize(req.receiveBufferBytes);
    } catch {
      // Reported through the granted size.
    }
    const pending = new Pending(req.id);
    socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
      pending.add(msg, normalizeAddress(rinfo.address), rinfo.port);
    });
    // A socket error after bind (rare: ICMP errors on some platforms) must not crash.
    socket.on('error', () => {});
    sockets.set(req.id, socket);
    reply({
      type: 'bound',
      id: req.id,
      port: socket.address().port,
      // Linux reports twice the usable size; halved back.
      granted: Math.floor(socket.getRecvBufferSize() / 2),
    });
  });
}

port.on('message', (msg: ToReceiver) => {
  if (msg.type === 'bind') {
    bind(msg);
    return;
  }
  const socket = sockets.get(msg.id);
  sockets.delete(msg.id);
  if (socket === undefined) {
    port.postMessage({ type: 'closed', id: msg.id } satisfies FromReceiver);
    return;
  }
  socket.close(() => port.postMessage({ type: 'closed', id: msg.id } satisfies FromReceiver));
});
