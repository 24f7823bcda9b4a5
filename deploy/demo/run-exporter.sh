#!/bin/sh
# The compose stack's demo exporter: tcpreplay loops the generated demo capture into one
# end of a veth pair and `sluice export` captures the other end live (wall-clock times,
# so the flows are "now") and exports NetFlow v9 and IPFIX to the collector.
# A veth pair rather than a dummy interface: every Docker host has veth (Docker uses it),
# not every kernel has the dummy module.
# Needs NET_ADMIN (the veth pair) and NET_RAW (tcpreplay, tcpdump).
set -eu
IFACE="${DEMO_INTERFACE:-demo0}"
PEER="${IFACE}p"
COLLECTOR="${DEMO_COLLECTOR:-collector}"
PPS="${DEMO_PACKETS_PER_SECOND:-100}"
CAPTURE="${DEMO_CAPTURE:-/opt/sluice/demo/traffic.pcap}"

ip link add "$IFACE" type veth peer name "$PEER" 2>/dev/null || true
ip link set "$IFACE" up
ip link set "$PEER" up

# The replay runs in the background; the exporter is the container's main process.
tcpreplay --quiet --loop=0 --pps="$PPS" --intf1="$PEER" "$CAPTURE" &

exec sluice export --interface "$IFACE" \
  --to "$COLLECTOR:2055,version=9" \
  --to "$COLLECTOR:4739,version=10" \
  --active-timeout 60 --inactive-timeout 10 \
  --stats-interval 60 \
  --metrics 0.0.0.0:9851
