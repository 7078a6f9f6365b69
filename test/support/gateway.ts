import type { AddressInfo } from "node:net";
import { createServer, type Server } from "node:http";
import { createPublicClient, http, type PublicClient } from "viem";
import { createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { createRuntime, type Runtime } from "../../src/deps.ts";
import { devnetChain } from "../../src/devnet/chain.ts";
import { DEV_USDC_DOMAIN } from "../../src/devnet/contracts.ts";
import type { DevTools } from "../../src/http/app-deps.ts";
import { createLogger, type Logger } from "../../src/lib/logger.ts";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789";

export interface TestGateway {
  url: string;
  runtime: Runtime;
  dev: DevTools;
  publicClient: PublicClient;
  dataDir: string;
  close(): Promise<void>;
}

/**
 * The real gateway in this process: its own hardhat devnet, in-process facilitator, SQLite file
 * in a temp dir, listening on a free loopback port. `env` adds to the zero-config environment;
 * `options.logger` replaces the LOG_LEVEL one (a test reading the log lines passes its own).
 */
export async function startTestGateway(env: Record<string, string> = {}, options: { logger?: Logger } = {}): Promise<TestGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), "tollgate-test-"));
  const config = loadConfig({ PORT: "0", DATA_DIR: dataDir, ADMIN_TOKEN: TEST_ADMIN_TOKEN, LOG_LEVEL: process.env["TEST_LOG_LEVEL"] ?? "silent", ...env });
  const runtime = await createRuntime(config, options.logger ?? createLogger({ level: config.logLevel }));
  const server: Server = createServer(createApp(runtime.deps)).listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  runtime.setPublicUrl(url);
  runtime.setReady(true);
  const dev = runtime.deps.dev;
  if (dev === undefined) throw new Error("test gateway must run in dev mode");
  const publicClient = createPublicClient({ chain: devnetChain(dev.info.rpcUrl), transport: http(dev.info.rpcUrl, { retryCount: 0 }) });
  return {
    url,
    runtime,
    dev,
    publicClient,
    dataDir,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await runtime.close();
    },
  };
}

export interface ChainGateway {
  url: string;
  runtime: Runtime;
  dataDir: string;
  close(): Promise<void>;
}

/**
 * The gateway in "real network" mode (NETWORK set) against a chain and facilitators the test
 * controls: how it runs on Base Sepolia, with the test's devnet standing in for the chain.
 */
export async function startGatewayOnChain(options: {
  rpcUrl: string;
  asset: `0x${string}`;
  payTo: `0x${string}`;
  facilitatorUrls: string[];
  env?: Record<string, string>;
  dataDir?: string;
}): Promise<ChainGateway> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "tollgate-test-"));
  const config = loadConfig({
    PORT: "0",
    DATA_DIR: dataDir,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    LOG_LEVEL: process.env["TEST_LOG_LEVEL"] ?? "silent",
    NETWORK: "eip155:84532",
    PAY_TO: options.payTo,
    ASSET: options.asset,
    ASSET_NAME: DEV_USDC_DOMAIN.name,
    ASSET_VERSION: DEV_USDC_DOMAIN.version,
    RPC_URL: options.rpcUrl,
    FACILITATOR_URL: options.facilitatorUrls.join(","),
    FACILITATOR_TIMEOUT_MS: "1500",
    ...options.env,
  });
  const runtime = await createRuntime(config, createLogger({ level: config.logLevel }));
  const server: Server = createServer(createApp(runtime.deps)).listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  runtime.setReady(true);
  return {
    url,
    runtime,
    dataDir,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await runtime.close();
    },
  };
}
