# syntax=docker/dockerfile:1
# omnistream in a container: `docker build -t omnistream .` then
#   docker run -p 8080:8080 -v omni-data:/data omnistream
# State lives in the /data volume (one container per volume: the server takes the data dir's
# lock and a second one on the same volume refuses to start).

# ---- build: install everything, compile the sources into dist/ (npm ci runs the build), then
# drop what only building and testing need.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund \
 && node bin/omni.mjs --help > /dev/null \
 && npm prune --omit=dev --no-audit --no-fund

# ---- run: the built JavaScript, production dependencies, no compiler, not root.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    OMNI_HOST=0.0.0.0 \
    OMNI_PORT=8080 \
    OMNI_DATA=/data \
    OMNI_RUN=dist
WORKDIR /app
COPY --from=build --chown=node:node /app /app
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
# Ready = listening with the engine open (503 while starting or draining).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.OMNI_PORT}/readyz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM: in-flight batches are committed and answered, WebSockets closed with 1001, exit 0.
STOPSIGNAL SIGTERM
CMD ["node", "--max-semi-space-size=64", "bin/omni.mjs", "serve"]
