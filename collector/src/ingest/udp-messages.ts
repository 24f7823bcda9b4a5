/** What the main thread and the UDP receive thread say to each other. */

export interface BindRequest {
  type: 'bind';
  id: number;
  port: number;
  address: string;
  receiveBufferBytes: number;
}

export type ToReceiver = BindRequest | { type: 'close'; id: number };

/**
 * Datagrams of one socket, as they arrived: datagram i is `bytes[ends[i - 1], ends[i])`
 * (ends[-1] = 0), from `exporters[i]` (normalized address) port `ports[i]`.
 */
export interface DatagramBatch {
  type: 'batch';
  id: number;
  bytes: ArrayBuffer;
  ends: Uint32Array;
  exporters: string[];
  ports: Uint16Array;
  /**
   * Datagrams received but not passed on since the last batch, by exporter: the main
   * thread had not taken the earlier batches and the hand-over was at its bound.
   */
  overflow: [string, number][];
}

export type FromReceiver =
  | DatagramBatch
  | { type: 'bound'; id: number; port: number; granted: number }
  | { type: 'bind-failed'; id: number; message: string }
  | { type: 'closed'; id: number };

/**
 * Datagram bytes handed over and not yet taken by the main thread: index 0 of an
 * Int32Array over a SharedArrayBuffer, counted up by the receiver, down by the main thread.
 */
export const IN_FLIGHT = 0;
