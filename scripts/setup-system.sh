#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, and only those that are missing:
# a JDK and Maven (to fetch and run the Elasticsearch test node), Prometheus, and the
# real exporters and decoders used as peers and oracles (softflowd, fprobe, pmacct,
# nfdump, tshark, tcpreplay), and the tools tests drive (openssl for TLS certificates,
# make for the Grafana plugin's Go build, iproute2 for network namespaces, mergecap, unzip for the
# Grafana plugin validator).
set -euo pipefail

# command -> Debian package that provides it
declare -A NEEDS=(
  [java]=openjdk-17-jdk-headless
  [mvn]=maven
  [prometheus]=prometheus
  [tshark]=tshark
  [nfcapd]=nfdump
  [sfcapd]=nfdump-sflow
  [softflowd]=softflowd
  [fprobe]=fprobe
  [pmacctd]=pmacct
  [tcpreplay]=tcpreplay
  [openssl]=openssl
  [make]=make
  [ip]=iproute2
  [mergecap]=wireshark-common
  [unzip]=unzip
  [tcpdump]=tcpdump
)

missing=()
for cmd in "${!NEEDS[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ] && [ ! -x "/usr/bin/$cmd" ]; then
    missing+=("${NEEDS[$cmd]}")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi

# Deduplicate and sort for a stable message.
mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "system packages: installing ${pkgs[*]}"

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  echo "system packages: not root and no sudo; install them yourself: apt-get install -y ${pkgs[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
