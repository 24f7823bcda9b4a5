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
