# One image for the compose services that run our code: the gateway and the devnet chain (hardhat node).
FROM node:20.20-bookworm-slim
# better-sqlite3 builds from source when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY --chown=node:node . .
# The bundle is built here, once, not by every container start (`npm start` builds then runs).
RUN npm run build && mkdir -p /app/data && chown node:node /app /app/data
# The image's unprivileged user; hardhat writes its cache under docker/, the SQLite ledger goes to /app/data.
USER node
ENV HOST=0.0.0.0 HARDHAT_DISABLE_TELEMETRY_PROMPT=true
EXPOSE 8402
# node itself, not npm: npm as PID 1 does not forward SIGTERM, so the gateway would never drain.
CMD ["node", "--heap-growing-percent=20", "--max-semi-space-size=4", "dist/main.js"]
