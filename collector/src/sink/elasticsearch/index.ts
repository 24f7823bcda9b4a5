// The Elasticsearch sink of `sluice collect`: client, index template, bulk indexer.
export {
  type BackoffOptions,
  backoffDelay,
  DEFAULT_BACKOFF_INITIAL_MS,
  DEFAULT_BACKOFF_MAX_MS,
} from './backoff.js';
export {
  type BulkEvent,
  BulkIndexer,
  type BulkIndexerOptions,
  type BulkIndexerStats,
  type BulkItem,
  classifyItem,
  DEFAULT_CONCURRENCY,
  DEFAULT_FLUSH_BYTES,
  DEFAULT_FLUSH_COUNT,
  DEFAULT_FLUSH_INTERVAL_MS,
  DEFAULT_MAX_QUEUED_BYTES,
  RETRY_CAUSES,
  type RetryCause,
  type SinkLogger,
} from './bulk.js';
export {
  createElasticsearchClient,
  DEFAULT_ELASTICSEARCH_URL,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type ElasticsearchConfig,
  type ElasticsearchTlsConfig,
  redactedDescription,
} from './client.js';
export {
  DEFAULT_DEAD_LETTER_MAX_BYTES,
  type DeadLetterEntry,
  type DeadLetterError,
  DeadLetterFile,
  type DeadLetterOptions,
} from './dead-letter.js';
export { elasticsearchType, flowMappings } from './mappings.js';
export {
  buildIndexTemplate,
  DEFAULT_DATA_STREAM,
  DEFAULT_TEMPLATE_PRIORITY,
  dataStreamParts,
  type IndexTemplateOptions,
  type InstallResult,
  installIndexTemplate,
  TEMPLATE_SCHEMA_VERSION,
  type TemplateAction,
} from './template.js';
