import { ipv4ToString, ipv6ToString, macToString } from '../address.js';
import type { ElementInfo } from '../ipfix/registry/index.js';
import { readUintBE } from '../reader.js';
import type { FieldValue } from './types.js';

const utf8 = new TextDecoder('utf-8', { fatal: false });
/** Seconds between the NTP epoch (1900) and the Unix epoch (1970). */
const NTP_UNIX_OFFSET_S = 2_208_988_800;

function signed(view: DataView, off: number, len: number): number | bigint | undefined {
  switch (len) {
    case 1:
      return view.getInt8(off);
    case 2:
      return view.getInt16(off);
    case 4:
      return view.getInt32(off);
    case 8: {
      const v = view.getBigInt64(off);
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(v)
        : v;
    }
    default:
      return undefined;
  }
}

/** NTP-format timestamp (RFC 7011 6.1.9-10) to ms since the Unix epoch. */
function ntpToMs(view: DataView, off: number, micro: boolean): number {
  const sec = view.getUint32(off);
  let frac = view.getUint32(off + 4);
  // dateTimeMicroseconds ignores the 11 least significant fraction bits.
  if (micro) frac = (frac & 0xfffff800) >>> 0;
  return (sec - NTP_UNIX_OFFSET_S) * 1000 + (frac / 0x100000000) * 1000;
}

/**
 * Decodes one field's bytes by its element's abstract type (RFC 7011 section 6),
 * honouring reduced-size encoding of integers and float64. A length that does not
 * fit the type keeps the raw bytes: nothing is dropped, nothing is guessed.
 */
export function decodeValue(
  buf: Uint8Array,
  view: DataView,
  off: number,
  len: number,
  info: ElementInfo,
): FieldValue {
  switch (info.type) {
    case 'unsigned8':
    case 'unsigned16':
    case 'unsigned32':
    case 'unsigned64':
      if (len >= 1 && len <= 8) return readUintBE(buf, off, len);
      break;
    case 'signed8':
    case 'signed16':
    case 'signed32':
    case 'signed64': {
      const v = signed(view, off, len);
      if (v !== undefined) return v;
      break;
    }
    case 'float32':
    case 'float64':
      if (len === 4) return view.getFloat32(off);
      if (len === 8) return view.getFloat64(off);
      break;
    case 'boolean':
      // RFC 7011 6.1.5: 1 is true, 2 is false.
      if (len === 1) {
        const b = buf[off];
        if (b === 1) return true;
        if (b === 2) return false;
      }
      break;
    case 'macAddress':
      if (len === 6) return macToString(buf, off);
      break;
    case 'ipv4Address':
      if (len === 4) return ipv4ToString(buf, off);
      break;
    case 'ipv6Address':
      if (len === 16) return ipv6ToString(buf, off);
      break;
    case 'string': {
      let end = off + len;
      // Exporters pad fixed-length strings with NULs.
      while (end > off && buf[end - 1] === 0) end--;
      return utf8.decode(buf.subarray(off, end));
    }
    case 'dateTimeSeconds':
      if (len === 4) return view.getUint32(off) * 1000;
      break;
    case 'dateTimeMilliseconds':
      if (len >= 1 && len <= 8) {
        const v = readUintBE(buf, off, len);
        return typeof v === 'bigint' ? Number(v) : v;
      }
      break;
    case 'dateTimeMicroseconds':
    case 'dateTimeNanoseconds':
      if (len === 8) return ntpToMs(view, off, info.type === 'dateTimeMicroseconds');
      break;
    default:
      break;
  }
  return buf.subarray(off, off + len);
}
