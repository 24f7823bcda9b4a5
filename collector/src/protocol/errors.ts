/**
 * Why a datagram (or part of one) could not be decoded. Every undecodable input is
 * counted under one of these, per exporter, and kept in the raw journal; nothing is
 * dropped silently. Names are stable: they become metric attribute values.
 */
export type DecodeReason =
  /** Fewer bytes than a header, record or field needs. */
  | 'truncated'
  /** A length field that disagrees with the bytes around it. */
  | 'bad_length'
  /** A version number this decoder does not speak. */
  | 'unknown_version'
  /** A count in a header that cannot fit in the datagram. */
  | 'count_overflow'
  /** A template or options template that is malformed (id < 256, zero fields, ...). */
  | 'bad_template'
  /** Data for a template id never seen from this exporter/domain (held, then counted). */
  | 'template_missing'
  /** A set/flowset id that is reserved or unknown. */
  | 'unknown_set'
  /** A field whose length is invalid for its type (e.g. 3-byte IPv4 address). */
  | 'bad_field_length'
  /** An sFlow sample/record format this decoder does not know (kept as raw). */
  | 'unknown_format'
  /** A structure that would make the decoder loop or recurse without end. */
  | 'loop'
  /** A per-exporter limit was hit (templates, pending data, memory). */
  | 'limit_exceeded';

/** Thrown inside decoders and caught at the datagram boundary, where it becomes a value. */
export class DecodeError extends Error {
  override name = 'DecodeError';
  constructor(
    readonly reason: DecodeReason,
    message: string,
    /** Byte offset in the datagram where the problem was found. */
    readonly offset?: number,
  ) {
    super(message);
  }
}
