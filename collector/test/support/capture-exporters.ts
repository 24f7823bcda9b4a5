// The shared captures the collect tests send, each set from its own loopback address (its
// own exporter), and how they count what got indexed.

import { join } from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { PCAPS_DIR } from '@sluice/testkit';

const NF = join(PCAPS_DIR, 'akvorado', 'netflow');
const SF = join(PCAPS_DIR, 'akvorado', 'sflow');

/** [exporter address, capture files in sending order]: NetFlow v9, v5, IPFIX, sFlow, options. */
export const CAPTURE_EXPORTERS: readonly [string, string[]][] = [
  ['127.0.0.2', [join(NF, 'template.pcap'), join(NF, 'data.pcap')]],
  ['127.0.0.3', [join(NF, 'nfv5.pcap')]],
  ['127.0.0.4', [join(NF, 'ipfixprobe-templates.pcap'), join(NF, 'ipfixprobe-data.pcap')]],
  ['127.0.0.5', [join(SF, 'data-1140.pcap'), join(SF, 'data-encap-vxlan.pcap')]],
  [
    '127.0.0.6',
    [
      join(NF, 'options-template.pcap'),
      join(NF, 'options-data.pcap'),
      join(NF, 'samplingrate-template.pcap'),
    ],
  ],
];

/** Documents searchable in a data stream now (0 while it does not exist). */
export async function countDocuments(client: Client, dataStream: string): Promise<number> {
  await client.indices.refresh({ index: dataStream }, { ignore: [404] });
  const r = await client.count({ index: dataStream }, { ignore: [404] });
  return r.count ?? 0;
}
