import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createApp } from "./app.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { createRuntime } from "./deps.ts";
import { createLogger } from "./lib/logger.ts";
import { startBanner } from "./start-banner.ts";

/** The only reader of process.env: loadConfig -> createRuntime -> createApp -> listen; drains on SIGTERM. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel });
  const runtime = await createRuntime(config, logger).catch((error: unknown) => {
    // Some settings can only be judged against the catalog (which models a key unlocks).
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  });
  const server = createServer(createApp(runtime.deps)).listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  }).catch(async (error: unknown) => {
    await runtime.close();
    throw error;
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${port}`;
  runtime.setPublicUrl(url);
  runtime.setReady(true);
  logger.info({ url, network: runtime.deps.terms.network, payTo: runtime.deps.terms.payTo, mode: config.chain.kind }, "tollgate listening");
  if (runtime.deps.dev !== undefined) {
    process.stdout.write(startBanner(url));
  }

  let draining = false;
  const drain = (signal: string) => {
    if (draining) return;
    draining = true;
    runtime.setReady(false);
    logger.info({ signal }, "draining");
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.close(() => {
      void runtime.close().then(() => process.exit(0));
    });
    server.closeIdleConnections();
  };
  process.on("SIGTERM", () => drain("SIGTERM"));
  process.on("SIGINT", () => drain("SIGINT"));
}

main().catch((error: unknown) => {
  process.stderr.write(`tollgate failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
