# syntax=docker/dockerfile:1
# Images of the compose stack (docker-compose.yml); build context: the repository root.
#   target collector       `sluice` (the collector and every other command), as user node
#   target demo-exporter   the collector image plus tcpdump, tcpreplay and iproute2: replays
#                          the generated demo capture into a veth pair and exports it live
#                          with `sluice export` (deploy/demo/run-exporter.sh)

FROM node:20-bookworm-slim AS build
WORKDIR /src
# The workspace manifests first, so dependency layers survive source edits. The Grafana
# plugin's manifest is only there because npm checks every workspace of the lock file.
COPY package.json package-lock.json tsconfig.base.json ./
COPY collector/package.json collector/
COPY test/package.json test/
COPY grafana-plugin/package.json grafana-plugin/
RUN npm ci --ignore-scripts --no-audit --no-fund \
      --workspace collector --workspace test --include-workspace-root
COPY collector/tsconfig.build.json collector/
COPY collector/bin collector/bin
COPY collector/src collector/src
RUN npx tsc -p collector/tsconfig.build.json
# The demo capture, made by the test kit's traffic generator (deterministic).
COPY test/src test/src
COPY deploy/demo deploy/demo
RUN mkdir -p /out && node --import tsx deploy/demo/traffic.ts /out/demo-traffic.pcap

FROM node:20-bookworm-slim AS collector
ENV NODE_ENV=production
WORKDIR /opt/sluice
COPY package.json package-lock.json ./
COPY collector/package.json collector/
COPY test/package.json test/
COPY grafana-plugin/package.json grafana-plugin/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --workspace collector \
    && npm cache clean --force \
    && ln -s /opt/sluice/collector/bin/sluice.js /usr/local/bin/sluice \
    && mkdir -p /var/lib/sluice && chown node:node /var/lib/sluice
COPY --from=build /src/collector/bin collector/bin
COPY --from=build /src/collector/dist collector/dist
# NetFlow, IPFIX, sFlow; HTTP (health, /metrics, query API).
EXPOSE 2055/udp 4739/udp 6343/udp 9850/tcp
VOLUME ["/var/lib/sluice"]
ENV SLUICE_DATA_DIR=/var/lib/sluice
USER node
ENTRYPOINT ["sluice"]
CMD ["collect"]

FROM collector AS demo-exporter
USER root
RUN apt-get update \
    && apt-get install -y --no-install-recommends tcpdump tcpreplay iproute2 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/demo-traffic.pcap /opt/sluice/demo/traffic.pcap
COPY deploy/demo/run-exporter.sh /opt/sluice/demo/run-exporter.sh
# Creating the veth pair and capturing need NET_ADMIN and NET_RAW (cap_add).
ENTRYPOINT ["sh", "/opt/sluice/demo/run-exporter.sh"]
CMD []
