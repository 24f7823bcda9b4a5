export { type HealthPluginOptions, healthPlugin } from './health.js';
export {
  componentLogger,
  createLogger,
  type LoggerOptions,
  REDACT_PATHS,
  REDACTED,
} from './logging.js';
export { type MetricsPluginOptions, metricsPlugin } from './metrics.js';
export {
  type CheckResult,
  DEFAULT_CHECK_TIMEOUT_MS,
  type Readiness,
  type ReadinessCheck,
  type ReadinessChecks,
  runChecks,
} from './readiness.js';
export {
  type ApiOptions,
  buildApi,
  DEFAULT_API_HOST,
  DEFAULT_API_PORT,
  type ListenOptions,
  type RunningApi,
  startApi,
} from './server.js';
