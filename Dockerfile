# agent-tlog: build the TypeScript, then run it as the unprivileged "node" user
# with the log's data folder on a volume.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
# --ignore-scripts: no dependency needs its install script (level ships a prebuilt binary).
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npx tsc -p tsconfig.build.json \
 && npm prune --omit=dev

FROM node:20-slim
ENV NODE_ENV=production \
    TLOG_DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data && chmod 700 /data
USER node
VOLUME /data
EXPOSE 8080
CMD ["node", "--max-semi-space-size=64", "dist/cli/main.js", "serve"]
