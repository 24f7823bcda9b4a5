export {
  DEFAULT_FLOW_CARDINALITY_LIMIT,
  FlowMetrics,
  flowViews,
} from './flows.js';
export * as metricNames from './names.js';
export {
  type PortDrops,
  PROC_NET_UDP,
  type ProcNetFiles,
  parseProcNetUdp,
  readUdpDrops,
  type UdpSocketEntry,
} from './procnet.js';
export {
  createMetrics,
  type Metrics,
  type MetricsOptions,
  type OtlpOptions,
  otlpMetricsUrl,
} from './provider.js';
export {
  BULK_LATENCY_BUCKETS,
  DEFAULT_EXPORTER_CARDINALITY_LIMIT,
  type DocumentOutcome,
  type IndexingLag,
  SelfMetrics,
  selfViews,
  type UdpDropsSource,
} from './self.js';
