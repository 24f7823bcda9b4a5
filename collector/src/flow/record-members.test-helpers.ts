import assert from 'node:assert/strict';
import { documentText } from './document.js';
import {
  serializeDocumentReference,
  toDocumentReference,
} from './document-reference.test-helpers.js';
import type { FlowRecord } from './record.js';

/**
 * The members of a FlowRecord that state facts about the flow (not the address numbers or
 * a layout, which are representations): what tests compare between two ways of making
 * the same record.
 */
export const FLOW_RECORD_FACTS = [
  'kind',
  'exporter',
  'receivedMs',
  'startMs',
  'endMs',
  'srcAddr',
  'dstAddr',
  'srcPort',
  'dstPort',
  'protocol',
  'ipVersion',
  'bytes',
  'packets',
  'reverseBytes',
  'reversePackets',
  'srcMac',
  'dstMac',
  'vlan',
  'innerVlan',
  'inInterface',
  'outInterface',
  'srcAs',
  'dstAs',
  'nextHop',
  'srcMask',
  'dstMask',
  'tcpFlags',
  'tos',
  'icmpType',
  'icmpCode',
  'direction',
  'samplingRate',
  'samplingSource',
  'fields',
] as const satisfies readonly (keyof FlowRecord)[];

/**
 * Two NetFlow/IPFIX records made two ways are the same: every member (the address
 * numbers and layout too), the fields, the address text, and the document, which must
 * also be the original builder's text.
 */
export function assertSameNetflowRecord(r: FlowRecord, g: FlowRecord, where: string): void {
  assert.deepStrictEqual(r, g, `${where}: record`);
  assert.deepStrictEqual(r.fields, g.fields, `${where}: fields`);
  assert.equal(r.srcAddr, g.srcAddr, `${where}: srcAddr`);
  assert.equal(r.dstAddr, g.dstAddr, `${where}: dstAddr`);
  assert.equal(r.nextHop, g.nextHop, `${where}: nextHop`);
  const text = documentText(r);
  assert.equal(text, documentText(g), `${where}: document`);
  assert.equal(text, serializeDocumentReference(toDocumentReference(r)), `${where}: reference`);
}

/** Whether this process may generate code (false under --disallow-code-generation-from-strings). */
export function canGenerateCode(): boolean {
  try {
    new Function('');
    return true;
  } catch {
    return false;
  }
}
