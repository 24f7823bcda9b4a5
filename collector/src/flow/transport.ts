/**
 * ECS network.transport names for IANA protocol numbers (lower case, as ECS asks;
 * names from IANA's protocol-numbers registry keywords).
 */
const NAMES: Record<number, string> = {
  0: 'hopopt',
  1: 'icmp',
  2: 'igmp',
  4: 'ipv4',
  6: 'tcp',
  8: 'egp',
  9: 'igp',
  17: 'udp',
  27: 'rdp',
  41: 'ipv6',
  43: 'ipv6-route',
  44: 'ipv6-frag',
  46: 'rsvp',
  47: 'gre',
  50: 'esp',
  51: 'ah',
  58: 'ipv6-icmp',
  59: 'ipv6-nonxt',
  60: 'ipv6-opts',
  88: 'eigrp',
  89: 'ospf',
  94: 'ipip',
  103: 'pim',
  112: 'vrrp',
  115: 'l2tp',
  132: 'sctp',
  136: 'udplite',
  137: 'mpls-in-ip',
};

export function transportName(protocol: number): string {
  return NAMES[protocol] ?? String(protocol);
}
