# The margay agent image, published as ghcr.io/margay-io/margay:<version> — the
# chart's default image (charts/margay/values.yaml image.repository, tag = appVersion).
# One image serves both containers of the DaemonSet: the install-cni init container
# (copies the static margay-cni plugin, /app/dist/bin/margay-cni, into the host's
# CNI bin directory, with the chained portmap and bandwidth plugins where the host
# has none) and the agent.
#
#   docker build -t ghcr.io/margay-io/margay:0.1.0 .

# margay-cni: a static Go binary (standard library only, no module downloads), so
# that a CNI call does not pay for a Node start and the host needs no Node runtime.
FROM golang:1.22-bookworm AS cni
WORKDIR /src
COPY agent/cni/go/ ./
RUN CGO_ENABLED=0 GOPROXY=off GOTOOLCHAIN=local go build -trimpath -ldflags='-s -w' -o /out/margay-cni .

# portmap (hostPort) and bandwidth, chained after margay-cni in the conflist: Debian
# bookworm's builds (containernetworking-plugins installs them under /usr/lib/cni);
# only these two files reach the image.
FROM node:24-bookworm-slim AS cniplugins
RUN apt-get update \
 && apt-get install -y --no-install-recommends containernetworking-plugins \
 && rm -rf /var/lib/apt/lists/*

FROM node:24-bookworm-slim AS build
# node-netlink and syscall-napi are native addons.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY agent agent
COPY bgp bgp
COPY policy policy
COPY crds crds
RUN npx tsc -p tsconfig.json \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
# The agent drives the kernel through these tools (routes and links also via netlink).
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 iptables ipset kmod ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/package.json /app/package.json
COPY --from=build /app/node_modules /app/node_modules
COPY --from=build /app/dist /app/dist
COPY --from=cni /out/margay-cni /app/dist/bin/margay-cni
COPY --from=cniplugins /usr/lib/cni/portmap /app/dist/bin/portmap
COPY --from=cniplugins /usr/lib/cni/bandwidth /app/dist/bin/bandwidth
# The CRD files are the schemas the agent validates with (crds/schemas.ts reads them).
COPY --from=build /app/crds /app/crds
RUN printf '#!/bin/sh\nexec node /app/dist/agent/cli/margay.js "$@"\n' > /usr/local/bin/margay \
 && chmod 0755 /usr/local/bin/margay
ENTRYPOINT ["node", "/app/dist/agent/cli/margay.js"]
CMD ["agent"]
