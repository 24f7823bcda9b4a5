// The test harness: real servers as child processes, for tests in any workspace.
// import { elasticsearchForTests, startPrometheus, needServer } from '@sluice/testkit';
export { inCI, needServer } from './ci.js';
export {
  ELASTICSEARCH_VERSION,
  type ElasticsearchServer,
  elasticsearchForTests,
  ensureElasticsearchHome,
  startElasticsearch,
} from './elasticsearch.js';
export { ServerStartError, ServerUnavailableError } from './errors.js';
export * from './exporters.js';
export { CACHE_DIR, PCAPS_DIR, TEST_DIR } from './paths.js';
export { freePort } from './ports.js';
export { type ManagedProcess, startProcess } from './process.js';
export {
  type PrometheusServer,
  type PromSample,
  type ScrapeTarget,
  startPrometheus,
} from './prometheus.js';
export { selfSignedCertificate, type TestCertificate } from './tls.js';
export * from './traffic.js';
export {
  type TsharkLayers,
  type TsharkOptions,
  tsharkFields,
  tsharkPackets,
  tsharkPath,
} from './tshark.js';
export { waitFor } from './wait.js';
export { which } from './which.js';
