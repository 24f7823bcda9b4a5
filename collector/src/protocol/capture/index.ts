// Capture files (pcap, pcapng) → frames → link layer → UDP datagrams, as pure functions
// over bytes: the CLI reads the file and hands the bytes (or chunks of them) in.
export {
  CaptureStreamParser,
  detectCaptureFormat,
  readCapture,
  readCaptureAll,
} from './capture.js';
export {
  decodeLink,
  type LinkFailure,
  type LinkResult,
  linkTypeName,
  type NetworkProtocol,
  SUPPORTED_LINK_TYPES,
} from './link.js';
export {
  type CaptureEnd,
  type CaptureError,
  type CaptureFormat,
  type CaptureFrame,
  type CaptureOptions,
  DEFAULT_MAX_BLOCK_BYTES,
  type FrameSink,
  LINKTYPE,
} from './types.js';
export {
  type AbandonReason,
  UDP_EXTRACTOR_DEFAULTS,
  type UdpDatagram,
  UdpExtractor,
  type UdpExtractorOptions,
  type UdpExtractorStats,
  type UdpFrame,
  type UdpSkipReason,
} from './udp.js';
