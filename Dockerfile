# lastseen all-in-one image (docker-compose.yml runs it as `lastseen` and as `simulator`).
FROM node:20-bookworm-slim
WORKDIR /app
# better-sqlite3 builds its native addon with node-gyp.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# Full install: `prepare` bundles the map page with esbuild; tsx runs the TypeScript.
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3 esbuild
COPY . .
RUN npm run build:web
ENV LASTSEEN_HOST=0.0.0.0 LASTSEEN_DATA_DIR=/data
EXPOSE 1883 8080
CMD ["node", "bin/lastseen.js", "start"]
