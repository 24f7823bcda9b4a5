/** Export formats Sluice decodes, as detected from the first bytes of a datagram. */
export type ExportFormat =
  | 'netflow-v1'
  | 'netflow-v5'
  | 'netflow-v7'
  | 'netflow-v9'
  | 'ipfix'
  | 'sflow';

/**
 * Tells the format from the version field, so any port can take any format: NetFlow
 * and IPFIX start with a 16-bit version (1, 5, 7, 9, 10); sFlow with a 32-bit one (2, 4, 5),
 * whose first two bytes are therefore zero.
 */
export function detectFormat(buf: Uint8Array): ExportFormat | undefined {
  if (buf.length < 4) return undefined;
  const v16 = ((buf[0] as number) << 8) | (buf[1] as number);
  switch (v16) {
    case 1:
      return 'netflow-v1';
    case 5:
      return 'netflow-v5';
    case 7:
      return 'netflow-v7';
    case 9:
      return 'netflow-v9';
    case 10:
      return 'ipfix';
    case 0: {
      const v32 = ((buf[2] as number) << 8) | (buf[3] as number);
      return v32 === 2 || v32 === 4 || v32 === 5 ? 'sflow' : undefined;
    }
    default:
      return undefined;
  }
}
