# One image for both compose services: the gateway (`npm start`) and the devnet chain (hardhat node).
FROM node:20.20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
ENV HOST=0.0.0.0
EXPOSE 8402
CMD ["npm", "start"]
