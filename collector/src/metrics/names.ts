/**
 * Every metric and attribute name Sluice emits, in one place so dashboards, alert rules
 * and docs have a single list to follow.
 *
 * OpenTelemetry semantic conventions are used where one exists (`network.transport`,
 * `network.type`, `error.type`, and the database client histogram
 * `db.client.operation.duration` for Elasticsearch bulk requests); the rest live under
 * `sluice.*`. Names that carry a unit word (`bytes`, `seconds`) do so on purpose: this
 * version of the OpenTelemetry Prometheus exporter does not append unit suffixes, and the
 * OTLP-to-Prometheus translators that do append them skip a unit the name already ends
 * with, so users see the same Prometheus name whichever way the metrics travel.
 *
 * What Prometheus shows (the exporter replaces `.` with `_` and appends `_total` to
 * counters; every series also carries `otel_scope_name="sluice"`):
 *
 *   sluice_flow_bytes_total             bytes seen in flows, scaled by the sampling rate
 *   sluice_flow_packets_total           packets seen in flows, scaled by the sampling rate
 *   sluice_flow_records_total           flow records received (not scaled)
 *   sluice_datagrams_received_total     export datagrams received, per exporter
 *   sluice_datagrams_accepted_total     ... accepted (journaled)
 *   sluice_datagrams_rejected_total     ... rejected, with error_type
 *   sluice_decode_errors_total          decode errors, per exporter and error_type
 *   sluice_template_misses_total        data sets that arrived before their template
 *   sluice_sequence_gaps_total          sequence gaps, per exporter
 *   sluice_sequence_missing_total       sequence numbers missing in those gaps
 *   sluice_sequence_resets_total        exporter restarts seen in the sequence numbers
 *   sluice_sequence_duplicates_total    late or repeated datagrams
 *   sluice_udp_drops_total              kernel receive-buffer drops on the listening sockets
 *   sluice_journal_bytes                size of the raw journal on disk
 *   sluice_indexing_lag_seconds         age of the oldest journaled datagram not yet indexed
 *   sluice_indexing_lag_bytes           journal bytes between the indexed checkpoint and head
 *   sluice_documents_total              documents by sluice_document_outcome
 *   db_client_operation_duration_{bucket,sum,count}
 *                                       Elasticsearch bulk request latency (seconds)
 *   target_info                         the resource: service_name="sluice", service_version
 *
 * Labels: sluice_exporter_address, sluice_interface_input, sluice_interface_output,
 * network_transport, network_type, sluice_flow_direction, sluice_flow_application,
 * error_type, sluice_listener_port, sluice_document_outcome, db_system_name,
 * db_operation_name, and otel_metric_overflow="true" on the series that collects
 * everything past the cardinality limit.
 */

export const METER_NAME = 'sluice';

// Flow metrics.
export const FLOW_BYTES = 'sluice.flow.bytes';
export const FLOW_PACKETS = 'sluice.flow.packets';
export const FLOW_RECORDS = 'sluice.flow.records';

// Self-metrics.
export const DATAGRAMS_RECEIVED = 'sluice.datagrams.received';
export const DATAGRAMS_ACCEPTED = 'sluice.datagrams.accepted';
export const DATAGRAMS_REJECTED = 'sluice.datagrams.rejected';
export const DECODE_ERRORS = 'sluice.decode.errors';
export const TEMPLATE_MISSES = 'sluice.template.misses';
export const SEQUENCE_GAPS = 'sluice.sequence.gaps';
export const SEQUENCE_MISSING = 'sluice.sequence.missing';
export const SEQUENCE_RESETS = 'sluice.sequence.resets';
export const SEQUENCE_DUPLICATES = 'sluice.sequence.duplicates';
export const UDP_DROPS = 'sluice.udp.drops';
export const JOURNAL_BYTES = 'sluice.journal.bytes';
export const INDEXING_LAG_SECONDS = 'sluice.indexing.lag.seconds';
export const INDEXING_LAG_BYTES = 'sluice.indexing.lag.bytes';
export const DOCUMENTS = 'sluice.documents';
/** OpenTelemetry semantic conventions, database client metrics (stable). */
export const DB_CLIENT_OPERATION_DURATION = 'db.client.operation.duration';

// Attributes.
/** The exporter: UDP source address, or the sFlow agent address (as `observer.ip`). */
export const ATTR_EXPORTER = 'sluice.exporter.address';
export const ATTR_INPUT_INTERFACE = 'sluice.interface.input';
export const ATTR_OUTPUT_INTERFACE = 'sluice.interface.output';
/** Semantic conventions: lower-case transport name (`tcp`, `udp`, `icmp`, ...). */
export const ATTR_NETWORK_TRANSPORT = 'network.transport';
/** Semantic conventions: `ipv4` or `ipv6`. */
export const ATTR_NETWORK_TYPE = 'network.type';
/** `ingress`, `egress` or `unknown` (the ECS network.direction of the record). */
export const ATTR_DIRECTION = 'sluice.flow.direction';
/** Well-known service port of the flow (`tcp/443`) or `other`. */
export const ATTR_APPLICATION = 'sluice.flow.application';
/** Semantic conventions: the class of error (a reason such as `not_allowed`). */
export const ATTR_ERROR_TYPE = 'error.type';
export const ATTR_LISTENER_PORT = 'sluice.listener.port';
export const ATTR_DOCUMENT_OUTCOME = 'sluice.document.outcome';
export const ATTR_DB_SYSTEM_NAME = 'db.system.name';
export const ATTR_DB_OPERATION_NAME = 'db.operation.name';

/**
 * The attribute set the SDK gives the series that collects measurements past the
 * cardinality limit. Sluice's own bounded caches send their overflow to this very
 * attribute set, so it is one series whichever side overflowed.
 */
export const OVERFLOW_ATTRIBUTES: Readonly<Record<'otel.metric.overflow', true>> = Object.freeze({
  'otel.metric.overflow': true,
});
