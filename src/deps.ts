import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { createWalletClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { CatalogIndex } from "./catalog/index.ts";
import { loadCatalog } from "./catalog/load.ts";
import { ConfigError, type ChainSettings, type Config } from "./config.ts";
import { devnetPrivateKey } from "./devnet/accounts.ts";
import { DevnetTokenMissingError, startDevChain, type DevChain } from "./devnet/chain.ts";
import { DEV_USDC_DOMAIN, mintUsdc } from "./devnet/contracts.ts";
import type { AppDeps, DevTools } from "./http/app-deps.ts";
import { clientAddressOf } from "./http/client-address.ts";
import type { RateLimits } from "./http/rate-limit.ts";
import { MemoryBuckets } from "./limits/memory-buckets.ts";
import { createRedisBuckets } from "./limits/redis-buckets.ts";
import { describeBinding, sameChain, type ChainBinding } from "./ledger/chain-binding.ts";
import { archiveSqliteLedger } from "./ledger/archive.ts";
import { openLedger, SQLITE_FILE_NAME } from "./ledger/open.ts";
import type { Ledger } from "./ledger/types.ts";
import type { Logger } from "./lib/logger.ts";
import { preloadTokenizer } from "./lib/tokenizer.ts";
import { createSettler } from "./call/settlement.ts";
import { createChainReader } from "./payment/chain-reader.ts";
import { createFallbackFacilitator, createHttpFacilitator, createInProcessFacilitator, type InProcessFacilitator, type Facilitator } from "./payment/facilitator.ts";
import { chainIdOf, uptoSupport, v1NetworkName, type PaymentTerms } from "./payment/terms.ts";
import { createBalanceReader } from "./payment/token-balance.ts";
import { createProviderRegistry } from "./providers/registry.ts";
import { GatewayMetrics } from "./observability/metrics.ts";
import { HealthTracker } from "./routing/health.ts";

export interface Runtime {
  deps: AppDeps;
  /** Marks the gateway ready once it listens, unready while it drains. */
  setReady(ready: boolean): void;
  /** Base URL the gateway will listen on; set by main once the port is known. */
  setPublicUrl(url: string): void;
  close(): Promise<void>;
}

/** Public RPCs used for settlement's chain reads when RPC_URL is not set. */
const PUBLIC_RPC: Record<number, string> = { 84532: "https://sepolia.base.org", 8453: "https://mainnet.base.org" };

/** 100 USDC per faucet call is plenty for tests and demos. */
const FAUCET_MAX = 100_000_000n;

/**
 * Builds every dependency from the parsed config: the devnet (dev mode) or remote chain
 * settings, the facilitator, the ledger, the catalog and the providers.
 */
export async function createRuntime(config: Readonly<Config>, logger: Logger): Promise<Runtime> {
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch((err: unknown) => logger.error({ err }, "shutdown step failed"));
  };
  try {
    const fullCatalog = new CatalogIndex(loadCatalog(config.catalogPath));
    // Building the o200k encoder costs ~2 s of CPU; pay it at start, not on the first paid call.
    preloadTokenizer();
    const ledger = await openBoundLedger(config, logger);
    closers.push(() => ledger.close());
    const providers = createProviderRegistry({
      catalog: fullCatalog,
      providers: config.providers,
      simulator: { latencyMs: config.simulator.latencyMs, tokenDelayMs: config.simulator.tokenDelayMs },
      simulate: config.simulator.enabled,
      timeouts: { headersTimeoutMs: config.upstreamTimeoutMs, bodyTimeoutMs: config.upstreamTimeoutMs },
    });
    closers.push(() => providers.close());
    // Listing, routing, /v1/route and embeddings' `auto` see only the models that can be served.
    const catalog = fullCatalog.offering((entry) => providers.serves(entry));
    logger.info({ providers: providers.modes(), offered: catalog.list().length, withheld: fullCatalog.list().length - catalog.list().length }, "providers");
    if (catalog.list().length === 0) {
      throw new ConfigError(
        `Invalid configuration:\n  ${Object.keys(config.providers).map((p) => `${p.toUpperCase()}_API_KEY`).join(", ")}: no catalog model belongs to a configured provider (the catalog's providers: ${fullCatalog.providers().join(", ")})`,
      );
    }
    if (config.simulator.marked) {
      logger.warn("SIMULATOR=on with NETWORK set: models without a provider key are answered by the simulator for real payments; every 402 and answer carries x-tollgate-simulated: true");
    }

    let publicUrl = `http://${config.host}:${config.port}`;
    const bound = await ledger.chainBinding();
    const chain = config.chain.kind === "devnet" ? await startDevnet(config, logger, () => publicUrl, bound) : remoteChain(config.chain);
    if (chain.devChain !== undefined) closers.push(chain.devChain.stop);
    await bindLedger(ledger, { chainId: chain.terms.chainId, genesisHash: chain.devChain?.genesisHash ?? null, asset: chain.terms.asset, spawned: spawnsDevnet(config) }, config);

    const rateLimits = await createRateLimits(config.rateLimits, logger);
    closers.push(() => rateLimits.store.close());

    let ready = false;
    const chainReader = createChainReader({ rpcUrl: chain.rpcUrl });
    const health = new HealthTracker();
    const now = () => Date.now();
    const base: Omit<AppDeps, "settler"> = {
      catalog,
      providers,
      terms: { ...chain.terms, maxTimeoutSeconds: config.quoteTtlSeconds, upto: await discoverUpto(chain.facilitator, chain.terms.network, logger) },
      facilitator: chain.facilitator,
      chain: chainReader,
      balanceOf: createBalanceReader({ rpcUrl: chain.rpcUrl }),
      ledger,
      settleTiming: config.settleTiming,
      upstreamDeadlineMs: config.upstreamTimeoutMs,
      pricing: { markupBps: config.markupBps, minPrice: config.minPrice },
      quoteSecret: config.quoteSecret ?? randomBytes(32).toString("base64url"),
      defaultStrategy: config.defaultStrategy,
      routing: { taskPreferences: config.taskPreferences, balancedWeights: config.balancedWeights },
      health,
      now,
      logger,
      metrics: new GatewayMetrics({ health, now }),
      adminToken: config.adminToken,
      corsOrigins: config.corsOrigins,
      simulated: config.simulator.marked,
      maxBodyBytes: config.maxBodyBytes,
      dev: config.devEndpoints ? chain.dev : undefined,
      localFacilitator: config.devEndpoints ? chain.local?.facilitator : undefined,
      ready: () => ready,
      rateLimits,
    };
    const deps: AppDeps = { ...base, settler: createSettler(base, { abandonAfterMs: config.upstreamTimeoutMs * 2 + 60_000 }) };
    closers.push(() => deps.settler.stop());
    // Start-up recovery: settle what a previous run served but did not settle, release what it
    // reserved but never served, then keep retrying in the background.
    const recovered = await deps.settler.sweep();
    if (Object.values(recovered).some((n) => n > 0)) logger.info(recovered, "settlement recovery");
    deps.settler.start(config.settleRetryIntervalMs);
    if (config.chain.kind === "devnet" && !config.devEndpoints) {
      logger.warn({ host: config.host }, "dev endpoints (/dev/info, /dev/faucet, /facilitator/*) are off: HOST is not a loopback address");
    }
    if (config.quoteSecret === undefined && config.chain.kind === "remote") {
      logger.warn("QUOTE_SECRET is not set: quotes are signed with a per-process key, so replicas cannot honour each other's quotes");
    }
    return {
      deps,
      setReady: (value) => {
        ready = value;
      },
      setPublicUrl: (url) => {
        publicUrl = url;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Whether this gateway starts a devnet of its own, one that ends when it stops. */
function spawnsDevnet(config: Readonly<Config>): boolean {
  return config.chain.kind === "devnet" && config.chain.devnetRpcUrl === undefined;
}

/**
 * Opens the ledger. A SQLite ledger of a devnet that a previous `npm start` spawned belongs to a
 * chain that ended with that process, and a spawning gateway is always on a new one: rather than
 * refuse every restart of the zero-config start, that ledger is moved aside (kept, never mixed)
 * and a new one begins. Any other ledger bound elsewhere is refused later, by bindLedger.
 */
async function openBoundLedger(config: Readonly<Config>, logger: Logger): Promise<Ledger> {
  const open = () => openLedger({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, onBackgroundError: (err) => logger.error({ err }, "ledger connection error") });
  const ledger = await open();
  if (!spawnsDevnet(config) || config.databaseUrl !== undefined) return ledger;
  const bound = await ledger.chainBinding().catch(async (error: unknown) => {
    await ledger.close();
    throw error;
  });
  if (bound?.spawned !== true) return ledger;
  await ledger.close();
  const archived = archiveSqliteLedger(config.dataDir, bound, new Date());
  logger.warn({ archived, previous: describeBinding(bound) }, "the ledger of the previous run's devnet (gone with it) was moved aside; starting a new ledger on this run's devnet");
  return open();
}

/**
 * Binds the ledger to the chain and token this gateway takes payments in, or refuses to start
 * when an earlier run bound it to others: one ledger never mixes two chains' money.
 */
async function bindLedger(ledger: Ledger, wanted: ChainBinding, config: Readonly<Config>): Promise<void> {
  const stored = await ledger.bindChain(wanted, new Date());
  if (!sameChain(stored, wanted)) throw ledgerOfAnotherChain(config, stored, describeBinding(wanted));
}

/** The refusal to start on a chain or token other than the ledger's, and how to start fresh. */
function ledgerOfAnotherChain(config: Readonly<Config>, stored: ChainBinding, running: string): ConfigError {
  const file = join(config.dataDir, SQLITE_FILE_NAME);
  const [variable, where, fresh] =
    config.databaseUrl === undefined
      ? ["DATA_DIR", `the SQLite ledger ${file}`, `set DATA_DIR to an empty directory (or move ${file} and its -wal and -shm files away)`]
      : ["DATABASE_URL", "the Postgres ledger at DATABASE_URL", "point DATABASE_URL at a new, empty database"];
  const spawned = spawnsDevnet(config) ? " A devnet the gateway spawns itself is a new chain on every start; DEVNET_RPC_URL attaches to one that outlives it." : "";
  return new ConfigError(
    `Invalid configuration:\n  ${variable}: ${where} belongs to ${describeBinding(stored)}, but this gateway runs on ${running}; one ledger keeps one chain's payments. To start fresh, ${fresh}; to keep it, run the gateway against the chain and token it belongs to.${spawned}`,
  );
}

/**
 * The rate limits' buckets: in Redis when REDIS_URL is set (with this process's as the fallback),
 * else here. `now` is the in-process buckets' clock (tests pass a fake one).
 */
export async function createRateLimits(settings: Config["rateLimits"], logger: Logger, now?: () => number): Promise<RateLimits> {
  const memory = new MemoryBuckets(now === undefined ? {} : { now });
  const store = settings.redisUrl === undefined ? memory : await createRedisBuckets({ url: settings.redisUrl, keyPrefix: settings.keyPrefix, fallback: memory, logger });
  logger.info(
    { unpaid: settings.unpaid ?? "off", paid: settings.paid ?? "off", shared: settings.redisUrl !== undefined, trustedProxies: settings.trustProxy.length },
    settings.redisUrl === undefined ? "rate limits in this process" : "rate limits shared through Redis",
  );
  return { unpaid: settings.unpaid, paid: settings.paid, store, clientAddress: clientAddressOf(settings.trustProxy), now: now ?? (() => performance.now()) };
}

/**
 * Whether the facilitator settles x402 `upto` here (its /supported, asked once at start). A
 * facilitator that cannot be asked is not offered upto: exact alone still works.
 */
async function discoverUpto(facilitator: Facilitator, network: string, logger: Logger): Promise<PaymentTerms["upto"]> {
  try {
    const upto = uptoSupport(await facilitator.getSupported(), network);
    logger.info({ upto: upto !== undefined }, upto === undefined ? "facilitator does not list upto: offering exact only" : "facilitator settles upto: offering upto, then exact");
    return upto;
  } catch (err) {
    logger.warn({ err }, "facilitator /supported failed at start: offering exact only");
    return undefined;
  }
}

interface ChainRuntime {
  terms: Omit<PaymentTerms, "maxTimeoutSeconds">;
  /** RPC for chain reads: every settlement is checked against its receipt. */
  rpcUrl: string;
  facilitator: Facilitator;
  local: InProcessFacilitator | undefined;
  dev: DevTools | undefined;
  devChain: DevChain | undefined;
}

async function startDevnet(config: Readonly<Config>, logger: Logger, publicUrl: () => string, bound: ChainBinding | undefined): Promise<ChainRuntime> {
  const settings = config.chain;
  const started = performance.now();
  logger.info("starting the devnet (hardhat, chainId 84532)...");
  const devChain = await startDevChain({
    ...(settings.devnetPort === 0 ? {} : { port: settings.devnetPort }),
    ...(settings.devnetRpcUrl === undefined ? {} : { rpcUrl: settings.devnetRpcUrl }),
    // The token the ledger's payments are in, if this is the chain it was deployed on.
    ...(bound?.genesisHash == null ? {} : { token: { address: bound.asset, genesisHash: bound.genesisHash } }),
  }).catch((error: unknown) => {
    if (error instanceof DevnetTokenMissingError && bound !== undefined) throw ledgerOfAnotherChain(config, bound, `a chain without that token (${error.message})`);
    throw error;
  });
  try {
    const { accounts } = devChain;
    const local = createInProcessFacilitator({ wallet: devChain.walletClientFor(accounts.facilitator), network: settings.network });
    const deployer = devChain.walletClientFor(accounts.deployer);
    const terms: ChainRuntime["terms"] = {
      network: settings.network,
      chainId: devChain.chainId,
      v1Network: v1NetworkName(devChain.chainId),
      asset: devChain.token,
      assetName: DEV_USDC_DOMAIN.name,
      assetVersion: DEV_USDC_DOMAIN.version,
      payTo: accounts.payTo.address,
    };
    const dev: DevTools = {
      info: {
        rpcUrl: devChain.rpcUrl,
        chainId: devChain.chainId,
        network: settings.network,
        asset: devChain.token,
        payTo: accounts.payTo.address,
        get facilitatorUrl() {
          return `${publicUrl()}/facilitator`;
        },
        demoAgent: { address: accounts.demoAgent.address, privateKey: devnetPrivateKey(accounts.demoAgent) },
      },
      faucet: (to, amount) => mintUsdc({ walletClient: deployer, publicClient: devChain.publicClient, token: devChain.token, to, amount }),
      faucetMax: FAUCET_MAX,
    };
    logger.info({ rpcUrl: devChain.rpcUrl, token: devChain.token, tokenReused: devChain.tokenReused, ms: Math.round(performance.now() - started) }, "devnet ready");
    return { terms, rpcUrl: devChain.rpcUrl, facilitator: local.client, local, dev, devChain };
  } catch (error) {
    await devChain.stop();
    throw error;
  }
}

function remoteChain(settings: ChainSettings): ChainRuntime {
  const chainId = chainIdOf(settings.network);
  const { asset, payTo } = settings;
  // loadConfig resolves both for a remote chain; a caller building settings by hand must too.
  if (asset === undefined || payTo === undefined) throw new Error(`remote chain settings for ${settings.network} need asset and payTo`);
  // Remote facilitators first, in the order given; the in-process one (own RPC and key) last, as backup.
  const facilitators: Facilitator[] = (settings.facilitatorUrls ?? []).map((url) => createHttpFacilitator({ url, timeoutMs: settings.facilitatorTimeoutMs }));
  if (settings.rpcUrl !== undefined && settings.facilitatorPrivateKey !== undefined) {
    const wallet = createWalletClient({
      account: privateKeyToAccount(settings.facilitatorPrivateKey),
      chain: { id: chainId, name: settings.network, nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [settings.rpcUrl] } } },
      transport: http(settings.rpcUrl),
    });
    facilitators.push(createInProcessFacilitator({ wallet, network: settings.network }).client);
  }
  const facilitator = createFallbackFacilitator(facilitators);
  const rpcUrl = settings.rpcUrl ?? PUBLIC_RPC[chainId];
  // The gateway records a settlement only after reading its Transfer on chain (README, "What the
  // gateway checks itself"), so it cannot take payments on a chain it cannot read.
  if (rpcUrl === undefined) throw new Error(`RPC_URL is required for NETWORK=${settings.network}: settlements are checked against the chain, and no public RPC is known for chain ${chainId}`);
  return {
    terms: {
      network: settings.network,
      chainId,
      v1Network: v1NetworkName(chainId),
      asset: asset.address,
      assetName: asset.name,
      assetVersion: asset.version,
      payTo,
    },
    rpcUrl,
    facilitator,
    local: undefined,
    dev: undefined,
    devChain: undefined,
  };
}
