/**
 * Types of the IPFIX information-element registry.
 *
 * Abstract data types are spelled as IANA spells them (RFC 7011 section 6.1, RFC 7012
 * section 3.1, RFC 6313 for the structured-data types, RFC 9740 for `unsigned256`).
 */
export type AbstractType =
  | 'octetArray'
  | 'unsigned8'
  | 'unsigned16'
  | 'unsigned32'
  | 'unsigned64'
  | 'unsigned256'
  | 'signed8'
  | 'signed16'
  | 'signed32'
  | 'signed64'
  | 'float32'
  | 'float64'
  | 'boolean'
  | 'macAddress'
  | 'string'
  | 'dateTimeSeconds'
  | 'dateTimeMilliseconds'
  | 'dateTimeMicroseconds'
  | 'dateTimeNanoseconds'
  | 'ipv4Address'
  | 'ipv6Address'
  | 'basicList'
  | 'subTemplateList'
  | 'subTemplateMultiList';

/** One information element, IANA (enterprise 0) or enterprise-specific. */
export interface ElementInfo {
  /** Private Enterprise Number; 0 for IANA elements and for NetFlow v9 field types. */
  readonly enterprise: number;
  /** Element id (15 bits in IPFIX; NetFlow v9 field types use all 16 bits). */
  readonly id: number;
  /** IANA camelCase name, or the vendor's own name for the element. */
  readonly name: string;
  /** Document key under `netflow.`: snake_case, unique within an enterprise. */
  readonly field: string;
  readonly type: AbstractType;
  /** IANA data type semantics: quantity, totalCounter, deltaCounter, identifier, flags, ... */
  readonly semantics?: string;
  /** IANA units: octets, packets, milliseconds, ... */
  readonly units?: string;
}

/** A compact IANA row: `[id, name, type, semantics?, units?]` (`''` = none). */
export type IanaRow = readonly [
  id: number,
  name: string,
  type: AbstractType,
  semantics?: string,
  units?: string,
];

/**
 * A compact vendor row: `[id, name, type, semantics?, units?, field?]` (`''` = none).
 * `field`, when present, replaces the derived document key.
 */
export type VendorRow = readonly [
  id: number,
  name: string,
  type: AbstractType,
  semantics?: string,
  units?: string,
  field?: string,
];

/** Rows of one enterprise that share a field-name prefix. */
export interface VendorTable {
  /** Private Enterprise Number, or 0 for NetFlow v9 field types sent without one. */
  readonly enterprise: number;
  /** Field-name prefix (`cisco`, `netscaler`, ...); `''` keeps the bare snake_case name. */
  readonly prefix: string;
  readonly rows: readonly VendorRow[];
}
