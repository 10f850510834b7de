# lastseen image: one image, three commands (docker-compose.yml runs `broker`, `monitor` and
# `simulate` from it; `start` is the all-in-one). Built with every dependency, shipped with the
# production ones only, run as the unprivileged `node` user.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 builds its native addon with node-gyp.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3 esbuild
COPY . .
# The map page is bundled here; then the development dependencies (vitest, typescript, …) go.
RUN npm run build:web && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production LASTSEEN_HOST=0.0.0.0 LASTSEEN_DATA_DIR=/data
# The code belongs to root and is read-only to the process; only /data is the process's.
COPY --from=build /app /app
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 1883 8080
# /healthz on LASTSEEN_HTTP_PORT: the monitor's, or the broker's health endpoint.
HEALTHCHECK --interval=15s --timeout=5s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.LASTSEEN_HTTP_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "bin/lastseen.js", "start"]
