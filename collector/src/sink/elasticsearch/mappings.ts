/**
 * Explicit Elasticsearch mappings for the documents `flow/document.ts` builds.
 *
 * - ECS fields get their ECS types (ip, long, keyword, date).
 * - `netflow.<element>`: one explicit property per element of the information-element
 *   registry (IANA, vendors, NetFlow v9-only), typed from its IANA abstract type.
 * - Anything not known in advance (`netflow.enterprise_<pen>_<id>`, `netflow.element_<id>`,
 *   `netflow.scope_*`, `sflow.*`) goes through dynamic templates: strings become keyword
 *   and numbers long/double, never the default `text` + `.keyword` pair.
 *
 * Values under `netflow.*` and `sflow.*` are what the exporter sent: a field whose wire
 * length does not fit its type is kept as hex by the decoder, and a 64-bit counter may
 * exceed a signed long. Those fields therefore use `ignore_malformed`: such a value stays
 * in `_source` (and the field is listed in `_ignored`) instead of rejecting the whole
 * record. ECS fields that Sluice derives itself stay strict, so a bug shows up in the
 * dead-letter file instead of silently.
 */
import type { AbstractType, ElementInfo } from '../../protocol/ipfix/registry/index.js';
import {
  enterpriseElements,
  ianaElements,
  netflowV9Elements,
} from '../../protocol/ipfix/registry/index.js';

/** One field mapping (a leaf or an object with properties). */
export type FieldMapping = { readonly [key: string]: unknown };
export type Properties = Record<string, FieldMapping>;

/**
 * Lucene rejects terms above 32766 bytes; 8191 characters of UTF-8 stay below it. Longer
 * exporter strings (URLs, raw frame sections as hex) are kept in `_source`, not indexed.
 */
export const LONG_KEYWORD_IGNORE_ABOVE = 8191;
/** ECS's usual bound for keyword fields Sluice fills itself. */
const ECS_KEYWORD_IGNORE_ABOVE = 1024;

const keyword: FieldMapping = { type: 'keyword', ignore_above: ECS_KEYWORD_IGNORE_ABOVE };
const rawKeyword: FieldMapping = { type: 'keyword', ignore_above: LONG_KEYWORD_IGNORE_ABOVE };
const long: FieldMapping = { type: 'long' };
const date: FieldMapping = { type: 'date' };
const ip: FieldMapping = { type: 'ip' };
/** Exporter-supplied values: a malformed one is kept in `_source`, not a rejection. */
const lenient = (type: string): FieldMapping => ({ type, ignore_malformed: true });

/**
 * Elasticsearch type of an IPFIX abstract type.
 *
 * unsigned64 maps to `long` (as in Elastic's NetFlow integration), not `unsigned_long`:
 * `unsigned_long` is an X-Pack mapper that not every distribution ships (the test node
 * lacks it and would refuse the whole template), it aggregates as double, and the same
 * field would show as a type conflict in Kibana data views that span Elastic's own
 * `logs-netflow.log-*` data. Values of 2^63 and above (garbage counters, random 64-bit
 * identifiers) are rare; with `ignore_malformed` they do not reject the record: the exact
 * value stays in `_source` and the field is listed in `_ignored`.
 */
export function elasticsearchType(type: AbstractType): string {
  switch (type) {
    case 'unsigned8':
    case 'unsigned16':
    case 'unsigned32':
    case 'unsigned64':
    case 'signed8':
    case 'signed16':
    case 'signed32':
    case 'signed64':
      return 'long';
    case 'float32':
    case 'float64':
      return 'double';
    case 'boolean':
      return 'boolean';
    case 'ipv4Address':
    case 'ipv6Address':
      return 'ip';
    case 'dateTimeSeconds':
    case 'dateTimeMilliseconds':
    case 'dateTimeMicroseconds':
    case 'dateTimeNanoseconds':
      return 'date';
    // Rendered as text or hex by the document builder.
    case 'macAddress':
    case 'string':
    case 'octetArray':
    case 'unsigned256':
    case 'basicList':
    case 'subTemplateList':
    case 'subTemplateMultiList':
      return 'keyword';
  }
}

function elementMapping(type: string): FieldMapping {
  return type === 'keyword' ? rawKeyword : lenient(type);
}

/** Names under `netflow.` that the document builder fills itself. */
const EXPORTER_PROPERTIES: Properties = {
  address: keyword,
  ip,
  agent: ip,
  version: long,
  source_id: long,
  sequence: long,
  uptime_millis: long,
  timestamp: date,
};

export interface ElementMappingsResult {
  properties: Properties;
  /** Field names that two registry entries give different types; mapped as keyword. */
  conflicts: string[];
}

/**
 * One property per registry field. Should two elements ever share a field name with
 * different types, keyword is the one type that accepts every rendering.
 */
export function elementProperties(
  elements: readonly ElementInfo[] = [
    ...ianaElements(),
    ...enterpriseElements(),
    ...netflowV9Elements(),
  ],
): ElementMappingsResult {
  const types = new Map<string, string>();
  const conflicts = new Set<string>();
  for (const e of elements) {
    if (e.field === 'exporter' || e.field === 'type') continue;
    const t = elasticsearchType(e.type);
    const seen = types.get(e.field);
    if (seen === undefined) types.set(e.field, t);
    else if (seen !== t) {
      types.set(e.field, 'keyword');
      conflicts.add(e.field);
    }
  }
  const properties: Properties = {};
  for (const field of [...types.keys()].sort()) {
    properties[field] = elementMapping(types.get(field) ?? 'keyword');
  }
  return { properties, conflicts: [...conflicts].sort() };
}

/** `netflow.*`: registry elements, the exporter, and the record type. */
function netflowProperties(): Properties {
  return {
    ...elementProperties().properties,
    // v9 options scope fields (system, interface, ...) hold ids of any length.
    scope_system: rawKeyword,
    scope_interface: rawKeyword,
    scope_line_card: rawKeyword,
    scope_cache: rawKeyword,
    scope_template: rawKeyword,
    exporter: { properties: EXPORTER_PROPERTIES },
    type: keyword,
  };
}

/** `sflow.*`: the addresses and 64-bit counters; the rest is left to dynamic templates. */
function sflowProperties(): Properties {
  const counter64 = lenient('long');
  return {
    inner: {
      properties: {
        src_ip: lenient('ip'),
        dst_ip: lenient('ip'),
        src_mac: keyword,
        dst_mac: keyword,
      },
    },
    router: { properties: { next_hop: lenient('ip') } },
    gateway: { properties: { next_hop: lenient('ip') } },
    srv6_segments: lenient('ip'),
    encapsulation: keyword,
    counters: {
      properties: {
        generic_interface: {
          properties: {
            if_speed: counter64,
            if_in_octets: counter64,
            if_out_octets: counter64,
          },
        },
        vlan: { properties: { octets: counter64 } },
        processor: { properties: { total_memory: counter64, free_memory: counter64 } },
      },
    },
  };
}

/** ECS and Sluice fields of every document. */
function ecsProperties(): Properties {
  const endpoint: FieldMapping = {
    properties: {
      ip,
      port: long,
      mac: keyword,
      // Exporter counters: may exceed a signed long when an exporter sends garbage.
      bytes: lenient('long'),
      packets: lenient('long'),
      as: { properties: { number: long } },
    },
  };
  const iface: FieldMapping = { properties: { interface: { properties: { id: keyword } } } };
  return {
    '@timestamp': date,
    event: {
      properties: {
        kind: keyword,
        category: keyword,
        type: keyword,
        action: keyword,
        created: date,
        // Exporter clocks: out-of-range times must not cost the record.
        start: lenient('date'),
        end: lenient('date'),
        duration: lenient('long'),
      },
    },
    observer: { properties: { ip, ingress: iface, egress: iface } },
    source: endpoint,
    destination: endpoint,
    network: {
      properties: {
        transport: keyword,
        iana_number: keyword,
        type: keyword,
        direction: keyword,
        community_id: keyword,
        bytes: lenient('long'),
        packets: lenient('long'),
        vlan: { properties: { id: keyword } },
        inner: { properties: { vlan: { properties: { id: keyword } } } },
      },
    },
    icmp: { properties: { type: long, code: long } },
    related: { properties: { ip } },
    sluice: {
      properties: {
        sampling: { properties: { rate: long, source: keyword } },
        scaled: { properties: { bytes: lenient('long'), packets: lenient('long') } },
      },
    },
  };
}

type DynamicTemplate = Record<string, FieldMapping>;

function dynamicFor(prefix: string): DynamicTemplate[] {
  const name = prefix.replaceAll('.', '_');
  return [
    {
      [`${name}_strings`]: {
        path_match: `${prefix}.*`,
        match_mapping_type: 'string',
        mapping: rawKeyword,
      },
    },
    {
      [`${name}_integers`]: {
        path_match: `${prefix}.*`,
        match_mapping_type: 'long',
        mapping: lenient('long'),
      },
    },
    {
      [`${name}_floats`]: {
        path_match: `${prefix}.*`,
        match_mapping_type: 'double',
        mapping: lenient('double'),
      },
    },
  ];
}

/**
 * Dynamic templates, first match wins: v9 scope fields of unknown type and every
 * unknown string or number under `netflow.*` and `sflow.*`; any other string (a field a
 * later document version adds) is keyword rather than text.
 */
export function dynamicTemplates(): DynamicTemplate[] {
  return [
    {
      netflow_scope: { path_match: 'netflow.scope_*', mapping: rawKeyword },
    },
    ...dynamicFor('netflow'),
    ...dynamicFor('sflow'),
    {
      strings_as_keyword: {
        match_mapping_type: 'string',
        mapping: keyword,
      },
    },
  ];
}

export interface FlowMappings {
  /** Strings that look like dates must not turn a hex field into a date field. */
  date_detection: false;
  dynamic_templates: DynamicTemplate[];
  properties: Properties;
}

/** The `mappings` section of the index template. */
export function flowMappings(): FlowMappings {
  return {
    date_detection: false,
    dynamic_templates: dynamicTemplates(),
    properties: {
      ...ecsProperties(),
      netflow: { properties: netflowProperties() },
      sflow: { properties: sflowProperties() },
    },
  };
}

/** Fields and objects a mapping defines (what `index.mapping.total_fields.limit` counts). */
export function countFields(properties: Properties): number {
  let n = 0;
  for (const m of Object.values(properties)) {
    n += 1;
    const inner = m.properties;
    if (typeof inner === 'object' && inner !== null) n += countFields(inner as Properties);
  }
  return n;
}
