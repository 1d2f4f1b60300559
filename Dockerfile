# dws-encryption as a container image (see docs/deployment.md, "Container image").
#
#   docker build -t dws-encryption .          (or: podman build -t dws-encryption .)
#   docker run -p 8080:8080 -v dws-data:/data dws-encryption
#
# BASE: any Debian-based Node.js (20.11 or later) image with npm, used by both stages so the native
# SQLite module is built for the Node.js that runs it. `npm run test:image` builds this file on a
# locally made stand-in base when the default cannot be pulled.
ARG BASE=node:22-slim

FROM ${BASE} AS build
WORKDIR /app
# better-sqlite3 installs a prebuilt binary downloaded from its GitHub releases. Where GitHub is out of
# reach, point this at a mirror of those release files (an HTTP server holding
# v<version>/better-sqlite3-v<version>-node-v<abi>-linux-x64.tar.gz); when neither answers, the module
# is compiled from source, which installs python3, make and g++ in this stage and takes minutes.
ARG BETTER_SQLITE3_BINARY_HOST=
COPY package.json package-lock.json ./
# --ignore-scripts: the package's own `prepare` (the build) needs the sources, copied later so that this
# layer (all dependencies) is reused while only the sources change.
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && if ! npm_config_better_sqlite3_binary_host="$BETTER_SQLITE3_BINARY_HOST" npm rebuild better-sqlite3; then \
      apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
      && npm rebuild better-sqlite3 --build-from-source; \
    fi
COPY . .
# Build, then keep only what runs: production dependencies, and of better-sqlite3 its loader and compiled
# module (its C sources and a source build's intermediate objects are 25 MB). Pruning leaves the folders of
# dev-only scopes behind, empty.
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
 && cd node_modules/better-sqlite3 && rm -rf deps src binding.gyp \
 && find build -mindepth 1 ! -path build/Release ! -path build/Release/better_sqlite3.node -delete \
 && cd /app && find node_modules -mindepth 1 -maxdepth 1 -type d -empty -delete

FROM ${BASE}
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/data
WORKDIR /app
# Owned by root and read-only for the service's user; only /data is writable.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# A numeric non-root user (the official Node.js images call uid 1000 `node`), so that orchestrators can
# check it (Kubernetes runAsNonRoot) without reading /etc/passwd.
RUN mkdir -p /data && chown 1000:1000 /data && chmod 700 /data
USER 1000:1000
VOLUME ["/data"]
EXPOSE 8080
# No curl in slim images: Node itself asks /readyz (store answers, migrations applied).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# `docker run IMAGE` serves; `docker run IMAGE hash-password ...` (or any CLI command) runs that instead.
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["serve"]
