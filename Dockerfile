FROM node:20-bookworm-slim
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts=false
COPY . .
ENV LASTSEEN_HOST=0.0.0.0 LASTSEEN_DATA_DIR=/data
EXPOSE 1883 8080
CMD ["node", "bin/lastseen.js", "start"]
