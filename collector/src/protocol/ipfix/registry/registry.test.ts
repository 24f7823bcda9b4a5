import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CERT_PEN,
  elementFor,
  enterpriseElements,
  ianaElements,
  lookupCiscoV9,
  lookupElement,
  NTOP_V9_BASE,
  netflowV9Elements,
  REVERSE_PEN,
  snakeCase,
} from './index.js';
import type { ElementInfo } from './types.js';

function iana(id: number): ElementInfo {
  const info = lookupElement(0, id);
  assert.ok(info, `IANA element ${id} is missing`);
  return info;
}

describe('IANA table', () => {
  it('has the well-known elements with their type, semantics and units', () => {
    const expected: [number, string, string, string | undefined, string | undefined][] = [
      [1, 'octetDeltaCount', 'unsigned64', 'deltaCounter', 'octets'],
      [2, 'packetDeltaCount', 'unsigned64', 'deltaCounter', 'packets'],
      [4, 'protocolIdentifier', 'unsigned8', 'identifier', undefined],
      [6, 'tcpControlBits', 'unsigned16', 'flags', undefined],
      [7, 'sourceTransportPort', 'unsigned16', 'identifier', undefined],
      [8, 'sourceIPv4Address', 'ipv4Address', 'default', undefined],
      [10, 'ingressInterface', 'unsigned32', 'identifier', undefined],
      [11, 'destinationTransportPort', 'unsigned16', 'identifier', undefined],
      [12, 'destinationIPv4Address', 'ipv4Address', 'default', undefined],
      [14, 'egressInterface', 'unsigned32', 'identifier', undefined],
      [21, 'flowEndSysUpTime', 'unsigned32', undefined, 'milliseconds'],
      [22, 'flowStartSysUpTime', 'unsigned32', undefined, 'milliseconds'],
      [27, 'sourceIPv6Address', 'ipv6Address', 'default', undefined],
      [28, 'destinationIPv6Address', 'ipv6Address', 'default', undefined],
      [34, 'samplingInterval', 'unsigned32', 'quantity', 'packets'],
      [50, 'samplerRandomInterval', 'unsigned32', 'quantity', undefined],
      [56, 'sourceMacAddress', 'macAddress', 'default', undefined],
      [85, 'octetTotalCount', 'unsigned64', 'totalCounter', 'octets'],
      [95, 'applicationId', 'octetArray', 'default', undefined],
      [136, 'flowEndReason', 'unsigned8', 'identifier', undefined],
      [150, 'flowStartSeconds', 'dateTimeSeconds', 'default', 'seconds'],
      [152, 'flowStartMilliseconds', 'dateTimeMilliseconds', 'default', 'milliseconds'],
      [153, 'flowEndMilliseconds', 'dateTimeMilliseconds', 'default', 'milliseconds'],
      [156, 'flowStartNanoseconds', 'dateTimeNanoseconds', 'default', 'nanoseconds'],
      [233, 'firewallEvent', 'unsigned8', undefined, undefined],
      [291, 'basicList', 'basicList', 'list', undefined],
      [292, 'subTemplateList', 'subTemplateList', 'list', undefined],
      [293, 'subTemplateMultiList', 'subTemplateMultiList', 'list', undefined],
      [304, 'selectorAlgorithm', 'unsigned16', 'identifier', undefined],
      [305, 'samplingPacketInterval', 'unsigned32', 'quantity', 'packets'],
      [346, 'privateEnterpriseNumber', 'unsigned32', 'identifier', undefined],
    ];
    for (const [id, name, type, semantics, units] of expected) {
      const info = iana(id);
      assert.equal(info.enterprise, 0);
      assert.equal(info.id, id);
      assert.equal(info.name, name, `name of ${id}`);
      assert.equal(info.type, type, `type of ${name}`);
      assert.equal(info.semantics, semantics, `semantics of ${name}`);
      assert.equal(info.units, units, `units of ${name}`);
    }
  });

  it('covers the registry from 1 to 500+, leaving out reserved ids', () => {
    const all = ianaElements();
    assert.ok(all.length >= 490, `only ${all.length} IANA elements`);
    assert.ok(all.some((e) => e.id >= 500));
    assert.equal(lookupElement(0, 0), undefined, 'id 0 is reserved');
    for (const id of [65, 66, 67, 68, 69, 105, 127]) {
      assert.equal(lookupElement(0, id), undefined, `id ${id} is assigned to NetFlow v9 only`);
    }
    for (const e of all) {
      assert.equal(lookupElement(0, e.id), e);
      assert.match(e.name, /^[A-Za-z][A-Za-z0-9]*$/);
      assert.match(e.field, /^[a-z][a-z0-9_]*$/);
    }
  });
});

describe('field names', () => {
  it('snake_cases IANA names as the brief and Filebeat do', () => {
    const cases: [string, string][] = [
      ['sourceIPv4Address', 'source_ipv4_address'],
      ['octetDeltaCount', 'octet_delta_count'],
      ['postNATSourceIPv4Address', 'post_nat_source_ipv4_address'],
      ['bgpNextHopIPv6Address', 'bgp_next_hop_ipv6_address'],
      ['flowStartSysUpTime', 'flow_start_sys_up_time'],
      ['mplsTopLabelIPv4Address', 'mpls_top_label_ipv4_address'],
      ['dot1qVlanId', 'dot1q_vlan_id'],
      ['icmpTypeCodeIPv6', 'icmp_type_code_ipv6'],
      ['ipClassOfService', 'ip_class_of_service'],
      ['aBCDe', 'a_bc_de'],
      ['selectorIDTotalFlowsObserved', 'selector_id_total_flows_observed'],
      ['messageMD5Checksum', 'message_md5_checksum'],
      ['IPSecSPI', 'ip_sec_spi'],
      ['VRFname', 'vrf_name'],
      ['conntrack_id', 'conntrack_id'],
      ['applicationHttpUser-agent', 'application_http_user_agent'],
    ];
    for (const [name, field] of cases) assert.equal(snakeCase(name), field, name);
  });

  // Facts: field names of Elastic's NetFlow integration, elastic/integrations
  // packages/netflow/data_stream/log/fields/package-fields.yml (read 2026-11-29), keyed by
  // the IANA name they store. Exception noted: that file still lists `vr_fname` for
  // VRFname, while Filebeat's netflow input (elastic/beats x-pack/filebeat/input/netflow/
  // case.go) special-cases it to `vrf_name`, which is what documents carry.
  const ELASTIC: [string, string][] = [
    ['octetDeltaCount', 'octet_delta_count'],
    ['packetDeltaCount', 'packet_delta_count'],
    ['deltaFlowCount', 'delta_flow_count'],
    ['protocolIdentifier', 'protocol_identifier'],
    ['ipClassOfService', 'ip_class_of_service'],
    ['tcpControlBits', 'tcp_control_bits'],
    ['sourceTransportPort', 'source_transport_port'],
    ['sourceIPv4Address', 'source_ipv4_address'],
    ['sourceIPv4PrefixLength', 'source_ipv4_prefix_length'],
    ['ingressInterface', 'ingress_interface'],
    ['destinationIPv4Address', 'destination_ipv4_address'],
    ['egressInterface', 'egress_interface'],
    ['ipNextHopIPv4Address', 'ip_next_hop_ipv4_address'],
    ['bgpSourceAsNumber', 'bgp_source_as_number'],
    ['bgpNextHopIPv4Address', 'bgp_next_hop_ipv4_address'],
    ['postMCastPacketDeltaCount', 'post_mcast_packet_delta_count'],
    ['postMCastOctetDeltaCount', 'post_mcast_octet_delta_count'],
    ['flowEndSysUpTime', 'flow_end_sys_up_time'],
    ['flowStartSysUpTime', 'flow_start_sys_up_time'],
    ['minimumIpTotalLength', 'minimum_ip_total_length'],
    ['sourceIPv6Address', 'source_ipv6_address'],
    ['destinationIPv6PrefixLength', 'destination_ipv6_prefix_length'],
    ['flowLabelIPv6', 'flow_label_ipv6'],
    ['icmpTypeCodeIPv4', 'icmp_type_code_ipv4'],
    ['igmpType', 'igmp_type'],
    ['samplingInterval', 'sampling_interval'],
    ['engineId', 'engine_id'],
    ['exportedOctetTotalCount', 'exported_octet_total_count'],
    ['ipv4RouterSc', 'ipv4_router_sc'],
    ['mplsTopLabelIPv4Address', 'mpls_top_label_ipv4_address'],
    ['samplerRandomInterval', 'sampler_random_interval'],
    ['minimumTTL', 'minimum_ttl'],
    ['postIpClassOfService', 'post_ip_class_of_service'],
    ['sourceMacAddress', 'source_mac_address'],
    ['vlanId', 'vlan_id'],
    ['ipVersion', 'ip_version'],
    ['bgpNextHopIPv6Address', 'bgp_next_hop_ipv6_address'],
    ['ipv6ExtensionHeaders', 'ipv6_extension_headers'],
    ['mplsLabelStackSection2', 'mpls_label_stack_section2'],
    ['mplsLabelStackSection10', 'mpls_label_stack_section10'],
    ['interfaceName', 'interface_name'],
    ['flagsAndSamplerId', 'flags_and_sampler_id'],
    ['mplsVpnRouteDistinguisher', 'mpls_vpn_route_distinguisher'],
    ['applicationId', 'application_id'],
    ['postIpDiffServCodePoint', 'post_ip_diff_serv_code_point'],
    ['layer2packetSectionOffset', 'layer2packet_section_offset'],
    ['bgpNextAdjacentAsNumber', 'bgp_next_adjacent_as_number'],
    ['exporterIPv6Address', 'exporter_ipv6_address'],
    ['droppedOctetDeltaCount', 'dropped_octet_delta_count'],
    ['flowEndReason', 'flow_end_reason'],
    ['icmpTypeCodeIPv6', 'icmp_type_code_ipv6'],
    ['wlanSSID', 'wlan_ssid'],
    ['flowStartMilliseconds', 'flow_start_milliseconds'],
    ['flowStartDeltaMicroseconds', 'flow_start_delta_microseconds'],
    ['systemInitTimeMilliseconds', 'system_init_time_milliseconds'],
    ['ipTTL', 'ip_ttl'],
    ['ipv4IHL', 'ipv4_ihl'],
    ['tcpSynTotalCount', 'tcp_syn_total_count'],
    ['postNATSourceIPv4Address', 'post_nat_source_ipv4_address'],
    ['postNAPTSourceTransportPort', 'post_napt_source_transport_port'],
    ['firewallEvent', 'firewall_event'],
    ['ingressVRFID', 'ingress_vrfid'],
    ['VRFname', 'vrf_name'],
    ['dot1qVlanId', 'dot1q_vlan_id'],
    ['dot1qCustomerPriority', 'dot1q_customer_priority'],
    ['messageMD5Checksum', 'message_md5_checksum'],
    ['newConnectionDeltaCount', 'new_connection_delta_count'],
    ['postNATDestinationIPv6Address', 'post_nat_destination_ipv6_address'],
    ['p2pTechnology', 'p2p_technology'],
    ['IPSecSPI', 'ip_sec_spi'],
    ['selectorAlgorithm', 'selector_algorithm'],
    ['samplingPacketInterval', 'sampling_packet_interval'],
    ['selectorIdTotalPktsObserved', 'selector_id_total_pkts_observed'],
    ['hashIPPayloadOffset', 'hash_ip_payload_offset'],
    ['upperCILimit', 'upper_ci_limit'],
    ['virtualStationUUID', 'virtual_station_uuid'],
    ['layer2SegmentId', 'layer2_segment_id'],
    ['monitoringIntervalStartMilliSeconds', 'monitoring_interval_start_milli_seconds'],
    ['staIPv4Address', 'sta_ipv4_address'],
    ['distinctCountOfSourceIPAddress', 'distinct_count_of_source_ip_address'],
    ['rfc3550JitterMilliseconds', 'rfc3550_jitter_milliseconds'],
    ['dot1qDEI', 'dot1q_dei'],
    ['selectorIDTotalFlowsObserved', 'selector_id_total_flows_observed'],
    ['postMCastLayer2OctetDeltaCount', 'post_mcast_layer2_octet_delta_count'],
    ['mibObjectValueIPAddress', 'mib_object_value_ip_address'],
    ['mobileIMSI', 'mobile_imsi'],
    ['natInstanceID', 'nat_instance_id'],
    ['maxBIBEntries', 'max_bib_entries'],
    ['vpnIdentifier', 'vpn_identifier'],
  ];

  it('matches Elastic for a sample of IANA elements', () => {
    assert.ok(ELASTIC.length >= 60);
    const byName = new Map(ianaElements().map((e) => [e.name, e]));
    for (const [name, field] of ELASTIC) {
      const info = byName.get(name);
      assert.ok(info, `IANA element ${name} is missing`);
      assert.equal(info.field, field, name);
    }
  });

  it('never gives two elements of one enterprise the same field', () => {
    const byEnterprise = new Map<number, Map<string, ElementInfo>>();
    for (const e of [...ianaElements(), ...enterpriseElements()]) {
      let fields = byEnterprise.get(e.enterprise);
      if (!fields) {
        fields = new Map();
        byEnterprise.set(e.enterprise, fields);
      }
      const other = fields.get(e.field);
      assert.equal(other, undefined, `${e.enterprise}/${e.id} and ${other?.id} share ${e.field}`);
      fields.set(e.field, e);
    }
  });

  it('keeps vendor and NetFlow v9 fields apart from IANA fields (they share documents)', () => {
    const ianaFields = new Set(ianaElements().map((e) => e.field));
    for (const e of [...enterpriseElements(), ...netflowV9Elements()]) {
      assert.ok(!ianaFields.has(e.field), `${e.enterprise}/${e.id} reuses IANA field ${e.field}`);
      assert.match(e.field, /^[a-z][a-z0-9_]*$/, `${e.enterprise}/${e.id}`);
    }
    const v9Fields = new Set<string>();
    for (const e of netflowV9Elements()) {
      assert.ok(!v9Fields.has(e.field), `v9 ${e.id} repeats ${e.field}`);
      v9Fields.add(e.field);
    }
  });
});

describe('vendor elements', () => {
  it('knows well-known enterprise elements', () => {
    const cases: [number, number, string, string][] = [
      [9, 12235, 'cisco_app_http_host', 'string'],
      [9, 9303, 'cisco_sum_resp_time', 'unsigned32'],
      [5951, 128, 'netscaler_round_trip_time', 'unsigned32'],
      [6871, 14, 'cert_initial_tcp_flags', 'unsigned16'],
      [6871, 14 | 0x4000, 'cert_reverse_initial_tcp_flags', 'unsigned16'],
      [6876, 881, 'vmware_tenant_source_ipv4', 'ipv4Address'],
      [35632, 118, 'ntop_l7_proto', 'unsigned64'],
      [35632, 119, 'ntop_l7_proto_name', 'string'],
      [3054, 110, 'ixia_l7_app_id', 'unsigned32'],
      [2636, 502, 'juniper_tdf_gateway_ipv4_address', 'ipv4Address'],
      [15397, 1, 'procera_service', 'string'],
      [REVERSE_PEN, 1, 'reverse_octet_delta_count', 'unsigned64'],
      [REVERSE_PEN, 8, 'reverse_source_ipv4_address', 'ipv4Address'],
    ];
    for (const [pen, id, field, type] of cases) {
      const info = lookupElement(pen, id);
      assert.ok(info, `${pen}/${id} is missing`);
      assert.equal(info.enterprise, pen);
      assert.equal(info.field, field);
      assert.equal(info.type, type);
    }
    assert.equal(lookupElement(REVERSE_PEN, 1)?.name, 'reverseOctetDeltaCount');
    assert.equal(lookupElement(REVERSE_PEN, 1)?.semantics, 'deltaCounter');
    assert.equal(lookupElement(CERT_PEN, 16398)?.name, 'reverseInitialTCPFlags');
  });

  it('maps NetFlow v9 vendor field types without an enterprise number', () => {
    const cases: [number, string, string][] = [
      [33000, 'ingress_acl_id', 'octetArray'],
      [33001, 'egress_acl_id', 'octetArray'],
      [33002, 'fw_ext_event', 'unsigned16'],
      [40000, 'username', 'string'],
      [40001, 'xlate_source_address_ip_v4', 'ipv4Address'],
      [40005, 'fw_event_84', 'unsigned8'],
      [32768 + 4315, 'cisco_tcp_window_size_min', 'unsigned32'],
      [56701, 'paloalto_app_id', 'string'],
      [NTOP_V9_BASE + 118, 'ntop_l7_proto', 'unsigned64'],
    ];
    for (const [id, field, type] of cases) {
      const info = lookupCiscoV9(id);
      assert.ok(info, `v9 ${id} is missing`);
      assert.equal(info.enterprise, 0);
      assert.equal(info.field, field);
      assert.equal(info.type, type);
    }
    assert.equal(lookupCiscoV9(8), undefined, 'IANA ids are not in the v9 map');
    assert.equal(lookupElement(0, 33000), undefined, 'v9 ids are not IANA elements');
  });
});

describe('unknown elements', () => {
  it('get stable synthesized octetArray entries', () => {
    const a = elementFor(0, 31000);
    assert.deepEqual(
      { ...a },
      {
        enterprise: 0,
        id: 31000,
        name: 'element_31000',
        field: 'element_31000',
        type: 'octetArray',
      },
    );
    assert.equal(elementFor(0, 31000), a, 'same object on every call');
    const b = elementFor(12356, 7);
    assert.equal(b.field, 'enterprise_12356_7');
    assert.equal(b.type, 'octetArray');
    assert.equal(elementFor(12356, 7), b);
    assert.equal(lookupElement(12356, 7), undefined);
    assert.equal(elementFor(0, 1), lookupElement(0, 1));
    assert.equal(elementFor(4294967295, 32767).field, 'enterprise_4294967295_32767');
  });

  it('returns frozen entries', () => {
    assert.ok(Object.isFrozen(iana(1)));
    assert.ok(Object.isFrozen(elementFor(99999, 1)));
  });
});
