import type { ElementInfo } from '../ipfix/registry/index.js';

/** The variable-length marker in a template field length (RFC 7011 section 7). */
export const VARIABLE_LENGTH = 0xffff;

/** One field of a template: which element, and how many bytes it takes on the wire. */
export interface TemplateField {
  readonly enterprise: number;
  readonly id: number;
  /** Bytes on the wire, or VARIABLE_LENGTH. */
  readonly length: number;
  readonly info: ElementInfo;
  /** NetFlow v9 options scope fields use their own small type space (System, Interface...). */
  readonly scope: boolean;
}

export interface Template {
  readonly id: number;
  readonly fields: readonly TemplateField[];
  /** Number of leading scope fields (options templates); 0 for data templates. */
  readonly scopeCount: number;
  readonly options: boolean;
  /** Minimum bytes a record takes (variable-length fields count their 1-byte prefix). */
  readonly minLength: number;
  /** True when every field has a fixed length (fast path: records are minLength apart). */
  readonly fixed: boolean;
}

/** A decoded value. Octet arrays stay bytes; the document builder renders them. */
export type FieldValue = number | bigint | string | boolean | Uint8Array;

export interface FlowField {
  readonly info: ElementInfo;
  readonly value: FieldValue;
  /**
   * When the decoder read the value as a 4-byte IPv4 address: the same address as an
   * unsigned 32-bit number (value is its dotted-quad text). Document writers write the
   * digits from it instead of copying the text back out of the string.
   */
  readonly ipv4?: number;
}

/** The header facts a record needs later (timestamps are relative to them). */
export interface PacketContext {
  readonly version: 1 | 5 | 7 | 9 | 10;
  readonly exporter: string;
  /** v9 source id, IPFIX observation domain, v5/v7 engine (type << 8 | id). */
  readonly domain: number;
  readonly sequence: number;
  /** Export time from the packet header, ms since the Unix epoch. */
  readonly exportTimeMs: number;
  /** Exporter uptime at export, ms (v1/v5/v7/v9); undefined for IPFIX. */
  readonly sysUptimeMs: number | undefined;
  /** Arrival time at the collector, ms since the Unix epoch. */
  readonly receivedMs: number;
}

/**
 * What every record of one template shares: its elements, and which fields the decoder
 * keeps as IPv4 numbers. One object per template (and per NetFlow v1/v5/v7 layout), so
 * per-layout work downstream is found by identity.
 */
export interface RecordLayout {
  readonly infos: readonly ElementInfo[];
  /** 1 where the value is an IPv4 address as an unsigned 32-bit number. */
  readonly ipv4: Uint8Array;
}

export interface DataRecord {
  readonly ctx: PacketContext;
  readonly templateId: number;
  /** True for records of options templates (sampling, interface names...). */
  readonly options: boolean;
  readonly layout: RecordLayout;
  /**
   * The value of each field, in template order; an IPv4 address (layout.ipv4) as its
   * number. The hot paths read these.
   */
  readonly values: readonly FieldValue[];
  /** The same as elements and values (IPv4 addresses as text), made on first read. */
  readonly fields: readonly FlowField[];
}
