export {
  createPacketHeaders,
  type Encapsulation,
  type FirstLayer,
  type PacketHeaders,
  type PacketLayer,
  resetPacketHeaders,
} from './headers.js';
export { MAX_ENCAP_DEPTH, parsePacket } from './parse.js';
