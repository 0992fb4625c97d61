# syntax=docker/dockerfile:1
# Ghost Hunter exporter image: multi-stage, runs as the unprivileged `node` user with
# only CAP_NET_RAW (raw ARP through libpcap).
#
# Docker gives no ambient capabilities to a non-root USER, so the capability is put on
# the node binary as a file capability (setcap cap_net_raw+ep). It takes effect only
# when NET_RAW is in the container's bounding set (docker-compose.yml: cap_drop ALL,
# cap_add NET_RAW) and no-new-privileges is NOT set (it disables file capabilities).
# Without NET_RAW in the bounding set the kernel refuses to start node at all.

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ libpcap-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, from the only files they depend on, so that editing the TypeScript sources
# reuses this layer instead of compiling the native modules again. --ignore-scripts skips our
# `prepare` (the TypeScript build, which needs src/); `npm rebuild` then runs the approved install
# scripts (package.json allowScripts: pcap, better-sqlite3), and `npm run install` builds our
# packet sender in src/capture/native.
COPY package.json package-lock.json ./
COPY src/capture/native ./src/capture/native
RUN npm ci --ignore-scripts \
 && npm rebuild \
 && npm run install
# The TypeScript build (and the OUI table), then only the runtime dependencies are kept.
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev \
 && npm cache clean --force

FROM ${NODE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpcap0.8 libcap2-bin \
 && setcap cap_net_raw+ep "$(readlink -f "$(command -v node)")" \
 && apt-get purge -y libcap2-bin \
 && apt-get autoremove -y \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /etc/ghost-hunter /var/lib/ghost-hunter \
 && chown node:node /var/lib/ghost-hunter
WORKDIR /app
COPY --from=build --chown=root:root /src/package.json ./
COPY --from=build --chown=root:root /src/node_modules ./node_modules
COPY --from=build --chown=root:root /src/dist ./dist
COPY --from=build --chown=root:root /src/src/capture/native/build/Release/packet_sender.node ./src/capture/native/build/Release/
USER node
ENV NODE_ENV=production
VOLUME ["/var/lib/ghost-hunter"]
EXPOSE 9736
ENTRYPOINT ["node", "/app/dist/cli.js"]
CMD ["--config.file=/etc/ghost-hunter/config.yml", "--web.listen-address=127.0.0.1:9736"]
