import { isIP } from "node:net";
import { z } from "zod";
import type { TrustedHop } from "./http/client-address.ts";
import type { BucketLimit } from "./limits/token-bucket.ts";
import { usdToAtomic } from "./lib/money.ts";
import { estimatedEntropyBits } from "./lib/secret-entropy.ts";
import { MIN_REMAINING_VALIDITY_SECONDS } from "./payment/local-verify.ts";
import { chainIdOf, defaultUsdc } from "./payment/terms.ts";
import type { BalancedWeights, TaskPreferences } from "./routing/strategies/types.ts";
import { TASKS, type Strategy } from "./routing/types.ts";

/**
 * Configuration, parsed once from the environment by main.ts and frozen. Every variable is
 * documented in README.md ("Environment variables"); test/config.test.ts keeps the two in step.
 */

const Address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "an 0x-prefixed 20-byte hex address");
const PrivateKey = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "an 0x-prefixed 32-byte hex private key");
const UsdAmount = z
  .string()
  .regex(/^\d+(\.\d{1,6})?$/, "a decimal USD amount with at most 6 decimals")
  .transform((s) => usdToAtomic(s));
/**
 * A shared secret: long enough, and not guessable from its own characters (`aaaa...`, `abab...`).
 * The message never repeats the value.
 */
const Secret = (minLength: number, minBits: number) =>
  z
    .string()
    .min(minLength, `at least ${minLength} characters; generate one with \`openssl rand -hex 32\``)
    .superRefine((s, ctx) => {
      const bits = Math.floor(estimatedEntropyBits(s));
      if (bits < minBits) {
        ctx.addIssue({
          code: "custom",
          message: `too predictable (about ${bits} bits by its character frequencies, at least ${minBits} needed); generate one with \`openssl rand -hex 32\``,
        });
      }
    });
/**
 * x402 clients sign `validBefore = now + maxTimeoutSeconds` (QUOTE_TTL_SECONDS), and the gateway
 * refuses an authorization with less than MIN_REMAINING_VALIDITY_SECONDS left. A TTL at or below
 * that makes every honest payment `expires_too_soon`; 30 s more leaves room for the round trip,
 * clock skew and a short upstream call before settlement.
 */
export const MIN_QUOTE_TTL_SECONDS = MIN_REMAINING_VALIDITY_SECONDS + 30;
const Port = z.coerce.number().int().min(0).max(65535);
const PositiveInt = z.coerce.number().int().positive();
/** Requests per second refilled into a rate-limit bucket; 0 turns that limit off. */
const RatePerSecond = z.coerce.number().min(0).max(1_000_000);

/**
 * TRUST_PROXY: the proxies in front of the gateway, as addresses or CIDR blocks separated by
 * commas (`10.0.0.0/8,::1`). Named hops rather than a hop count, so a request that bypasses the
 * proxy cannot choose its own address with X-Forwarded-For.
 */
const TrustProxy = z.string().transform((s, ctx): TrustedHop[] => {
  const hops: TrustedHop[] = [];
  for (const entry of s.split(",").map((e) => e.trim()).filter((e) => e.length > 0)) {
    const [address = "", prefix, extra] = entry.split("/");
    const version = isIP(address);
    const bits = version === 6 ? 128 : 32;
    const length = prefix === undefined ? bits : /^\d{1,3}$/.test(prefix) ? Number(prefix) : Number.NaN;
    if (version === 0 || extra !== undefined || !(length >= 0 && length <= bits)) {
      ctx.addIssue({ code: "custom", message: `'${entry}' is not an IP address or CIDR block (192.0.2.1, 10.0.0.0/8, 2001:db8::/32)` });
      return z.NEVER;
    }
    hops.push({ address, prefix: length, family: version === 6 ? "ipv6" : "ipv4" });
  }
  return hops;
});

/** Provider keys and base-URL overrides follow the official SDKs' names: <PROVIDER>_API_KEY, <PROVIDER>_BASE_URL. */
export const PROVIDER_IDS = ["openai", "anthropic", "google", "mistral", "deepseek", "groq", "openrouter", "together", "fireworks"] as const;

const EnvSchema = z.object({
  HOST: z.string().default("127.0.0.1"),
  PORT: Port.default(8402),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** CAIP-2 network. Unset means dev mode: a local hardhat devnet with chainId 84532. */
  NETWORK: z.string().regex(/^eip155:\d+$/, "a CAIP-2 EVM network id such as eip155:84532").optional(),
  PAY_TO: Address.optional(),
  /** Token contract; defaults to the network's USDC. */
  ASSET: Address.optional(),
  /** EIP-712 domain name and version of a custom ASSET (the network's USDC has them built in). */
  ASSET_NAME: z.string().min(1).optional(),
  ASSET_VERSION: z.string().min(1).optional(),
  /** One URL, or several separated by commas: tried in order (fallback). */
  FACILITATOR_URL: z
    .string()
    .transform((s) => s.split(",").map((u) => u.trim()).filter((u) => u.length > 0))
    .pipe(z.array(z.url()).min(1))
    .optional(),
  FACILITATOR_TIMEOUT_MS: PositiveInt.default(15_000),
  RPC_URL: z.url().optional(),
  FACILITATOR_PRIVATE_KEY: PrivateKey.optional(),
  DEVNET_PORT: Port.default(0),
  /** Attach to a running hardhat node (chainId 84532) instead of spawning one. */
  DEVNET_RPC_URL: z.url().optional(),
  /** HMAC key for stateless quotes; replicas behind one load balancer must share it. */
  QUOTE_SECRET: Secret(32, 64).optional(),
  QUOTE_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(
      MIN_QUOTE_TTL_SECONDS,
      `at least ${MIN_QUOTE_TTL_SECONDS}: agents sign for this many seconds, and an authorization with less than ${MIN_REMAINING_VALIDITY_SECONDS} s left is refused as too soon to settle`,
    )
    .default(300),
  PRICE_MARKUP_BPS: z.coerce.number().int().min(0).max(100_000).default(1_000),
  MIN_PRICE_USD: UsdAmount.default(usdToAtomic("0.0001")),
  MAX_BODY_BYTES: PositiveInt.default(1_048_576),
  /** Strategy for model "auto". */
  DEFAULT_STRATEGY: z.enum(["cost", "quality", "balanced", "task"]).default("balanced"),
  /** JSON: per task, model ids or provider names in order of preference (the `task` strategy). */
  ROUTING_TASK_PREFERENCES: z
    .string()
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "not valid JSON" });
        return z.NEVER;
      }
    })
    .pipe(z.partialRecord(z.enum(TASKS), z.array(z.string().min(1))))
    .optional(),
  /** `quality=0.5,price=0.3,latency=0.2`: weights of the balanced strategy. */
  ROUTING_BALANCED_WEIGHTS: z
    .string()
    .regex(/^quality=\d+(\.\d+)?,price=\d+(\.\d+)?,latency=\d+(\.\d+)?$/, "quality=<w>,price=<w>,latency=<w>")
    .transform((s) => {
      const [quality, price, latency] = s.split(",").map((kv) => Number(kv.split("=")[1]));
      return { quality: quality ?? 0, price: price ?? 0, latency: latency ?? 0 };
    })
    .optional(),
  CATALOG_PATH: z.string().min(1).optional(),
  DATA_DIR: z.string().min(1).default("./data"),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, "a postgres:// URL").optional(),
  ADMIN_TOKEN: Secret(16, 40).optional(),
  /** Origins whose browser scripts may call the gateway and read its x402 headers (CORS), comma-separated, or `*`. */
  CORS_ORIGINS: z
    .string()
    .transform((s) => s.split(",").map((o) => o.trim()).filter((o) => o.length > 0))
    .pipe(z.array(z.string().refine(isOriginOrAny, "each an origin such as https://app.example.com (scheme, host, optional port; no path or trailing slash), or *")).min(1))
    .optional(),
  /**
   * The simulator answering for models whose provider has no key: on by default in dev mode, off
   * with NETWORK, where `on` is a deliberate staging choice that marks every 402 and answer.
   */
  SIMULATOR: z.enum(["on", "off"]).optional(),
  SIMULATOR_LATENCY_MS: z.coerce.number().int().min(0).default(0),
  SIMULATOR_TOKEN_DELAY_MS: z.coerce.number().int().min(0).default(0),
  UPSTREAM_TIMEOUT_MS: PositiveInt.default(120_000),
  SETTLE_TIMING: z.enum(["before_response", "after_response"]).default("before_response"),
  SETTLE_RETRY_INTERVAL_MS: PositiveInt.default(10_000),
  /** Token buckets: per client address for requests without a payment, per wallet for paid calls. */
  RATE_LIMIT_UNPAID_PER_SECOND: RatePerSecond.default(50),
  RATE_LIMIT_UNPAID_BURST: PositiveInt.default(500),
  RATE_LIMIT_PAID_PER_SECOND: RatePerSecond.default(50),
  RATE_LIMIT_PAID_BURST: PositiveInt.default(500),
  /** Shares the buckets between every gateway process pointing at the same Redis. */
  REDIS_URL: z.string().regex(/^rediss?:\/\/\S+$/, "a redis:// or rediss:// URL").optional(),
  RATE_LIMIT_KEY_PREFIX: z.string().min(1).max(100).default("tollgate:rl:"),
  TRUST_PROXY: TrustProxy.optional(),
});

/** `*`, or an origin as a browser sends it in `Origin` (RFC 6454 §6.1): `scheme://host[:port]`. */
function isOriginOrAny(value: string): boolean {
  if (value === "*") return true;
  try {
    const url = new URL(value);
    return (url.protocol === "https:" || url.protocol === "http:") && url.origin === value.toLowerCase();
  } catch {
    return false;
  }
}

/** Every variable Tollgate reads, for the README table check. */
export const ENV_VARS: readonly string[] = [
  ...Object.keys(EnvSchema.shape),
  ...PROVIDER_IDS.flatMap((p) => [`${p.toUpperCase()}_API_KEY`, `${p.toUpperCase()}_BASE_URL`]),
];

const ProviderEnv = z.object({ apiKey: z.string().min(1).optional(), baseUrl: z.url().optional() });

export interface ProviderSettings {
  apiKey: string;
  baseUrl?: string;
}

export interface ChainSettings {
  kind: "devnet" | "remote";
  network: `eip155:${number}`;
  payTo?: `0x${string}`;
  /** The token paid in and its EIP-712 domain; unset means the network's USDC. */
  asset?: { address: `0x${string}`; name: string; version: string };
  facilitatorUrls?: string[];
  facilitatorTimeoutMs: number;
  rpcUrl?: string;
  facilitatorPrivateKey?: `0x${string}`;
  devnetPort: number;
  devnetRpcUrl?: string;
}

export interface Config {
  host: string;
  port: number;
  logLevel: string;
  chain: ChainSettings;
  /**
   * Whether /dev/* and /facilitator/* are served: dev mode on a loopback HOST only. They answer
   * loopback peers only anyway; a gateway bound to another address (a container's 0.0.0.0) runs
   * its devnet without them rather than expose a faucet and a gas-paying relay next to it.
   */
  devEndpoints: boolean;
  quoteSecret: string | undefined;
  quoteTtlSeconds: number;
  markupBps: number;
  minPrice: bigint;
  maxBodyBytes: number;
  defaultStrategy: Strategy;
  taskPreferences: TaskPreferences;
  balancedWeights: BalancedWeights | undefined;
  catalogPath: string | undefined;
  dataDir: string;
  databaseUrl: string | undefined;
  adminToken: string | undefined;
  /** CORS_ORIGINS: origins allowed to call from a browser (`*`: any); empty: no CORS headers. */
  corsOrigins: readonly string[];
  simulator: {
    /** Whether models whose provider has no key are served by the simulator (else not offered at all). */
    enabled: boolean;
    /** Whether every 402 and answer says it may be simulated: the simulator is on while real money is taken. */
    marked: boolean;
    latencyMs: number;
    tokenDelayMs: number;
  };
  upstreamTimeoutMs: number;
  settleTiming: "before_response" | "after_response";
  settleRetryIntervalMs: number;
  providers: Record<string, ProviderSettings>;
  rateLimits: {
    /** Per client address, requests without a payment; undefined when off. */
    unpaid: BucketLimit | undefined;
    /** Per wallet, paid calls; undefined when off. */
    paid: BucketLimit | undefined;
    /** Buckets shared through this Redis; in-process without it. */
    redisUrl: string | undefined;
    keyPrefix: string;
    /** Proxies whose X-Forwarded-For is believed (http/client-address.ts). */
    trustProxy: TrustedHop[];
  };
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** Hardhat's well-known development keys: public knowledge, so never acceptable off the devnet. */
const WELL_KNOWN_DEV_KEYS = new Set([
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
  "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
  "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733e9f19aa2c4a2c6f3",
]);

export function loadConfig(env: Record<string, string | undefined>): Readonly<Config> {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".") || "(env)"}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;

  const providers: Record<string, ProviderSettings> = {};
  for (const p of PROVIDER_IDS) {
    const prefix = p.toUpperCase();
    const parsedProvider = ProviderEnv.safeParse({ apiKey: cleaned[`${prefix}_API_KEY`], baseUrl: cleaned[`${prefix}_BASE_URL`] });
    if (!parsedProvider.success) {
      throw new ConfigError(`Invalid configuration:\n  ${prefix}_BASE_URL: ${parsedProvider.error.issues[0]?.message ?? "invalid"}`);
    }
    const { apiKey, baseUrl } = parsedProvider.data;
    if (apiKey !== undefined) providers[p] = baseUrl === undefined ? { apiKey } : { apiKey, baseUrl };
  }

  const chain = chainSettings(e);
  // Off the devnet the simulator would take real USDC for made-up answers: only on request.
  const simulate = (e.SIMULATOR ?? (chain.kind === "devnet" ? "on" : "off")) === "on";
  if (!simulate && Object.keys(providers).length === 0) {
    const keys = PROVIDER_IDS.map((p) => `${p.toUpperCase()}_API_KEY`).join(", ");
    const why = chain.kind === "remote" ? "with NETWORK set the simulator is off" : "SIMULATOR=off";
    throw new ConfigError(
      `Invalid configuration:\n  ${keys}: set at least one provider key (${why}, so no model could be served); SIMULATOR=on runs a staging gateway whose every answer is marked simulated`,
    );
  }
  const config: Config = {
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    chain,
    devEndpoints: chain.kind === "devnet" && isLoopbackHost(e.HOST),
    quoteSecret: e.QUOTE_SECRET,
    quoteTtlSeconds: e.QUOTE_TTL_SECONDS,
    markupBps: e.PRICE_MARKUP_BPS,
    minPrice: e.MIN_PRICE_USD,
    maxBodyBytes: e.MAX_BODY_BYTES,
    defaultStrategy: e.DEFAULT_STRATEGY,
    taskPreferences: e.ROUTING_TASK_PREFERENCES ?? {},
    balancedWeights: e.ROUTING_BALANCED_WEIGHTS,
    catalogPath: e.CATALOG_PATH,
    dataDir: e.DATA_DIR,
    databaseUrl: e.DATABASE_URL,
    adminToken: e.ADMIN_TOKEN,
    corsOrigins: Object.freeze(e.CORS_ORIGINS ?? []),
    simulator: { enabled: simulate, marked: simulate && chain.kind === "remote", latencyMs: e.SIMULATOR_LATENCY_MS, tokenDelayMs: e.SIMULATOR_TOKEN_DELAY_MS },
    upstreamTimeoutMs: e.UPSTREAM_TIMEOUT_MS,
    settleTiming: e.SETTLE_TIMING,
    settleRetryIntervalMs: e.SETTLE_RETRY_INTERVAL_MS,
    providers,
    rateLimits: {
      unpaid: bucketLimit("unpaid", e.RATE_LIMIT_UNPAID_PER_SECOND, e.RATE_LIMIT_UNPAID_BURST),
      paid: bucketLimit("paid", e.RATE_LIMIT_PAID_PER_SECOND, e.RATE_LIMIT_PAID_BURST),
      redisUrl: e.REDIS_URL,
      keyPrefix: e.RATE_LIMIT_KEY_PREFIX,
      trustProxy: e.TRUST_PROXY ?? [],
    },
  };
  return Object.freeze(config);
}

function bucketLimit(policy: BucketLimit["policy"], ratePerSecond: number, burst: number): BucketLimit | undefined {
  return ratePerSecond === 0 ? undefined : { policy, ratePerSecond, burst };
}

/** 127.0.0.0/8 (RFC 1122 §3.2.1.3), ::1 (RFC 4291 §2.5.3) and `localhost` (RFC 6761 §6.3). */
export function isLoopbackHost(host: string): boolean {
  return /^127(\.\d{1,3}){3}$/.test(host) || host === "::1" || host === "[::1]" || host.toLowerCase() === "localhost";
}

/**
 * The token and its EIP-712 domain. Payment signatures are made over {name, version, chainId,
 * token} (EIP-712, EIP-3009), so a wrong name or version makes every signature invalid: a
 * custom ASSET must state both, and the network's USDC needs neither.
 */
function assetSettings(e: z.infer<typeof EnvSchema>, network: `eip155:${number}`): ChainSettings["asset"] {
  const usdc = defaultUsdc(chainIdOf(network));
  const address = (e.ASSET ?? usdc?.address) as `0x${string}` | undefined;
  if (address === undefined) throw new ConfigError(`Invalid configuration:\n  ASSET: required on ${network}, which has no built-in USDC`);
  const isDefault = usdc !== undefined && address.toLowerCase() === usdc.address.toLowerCase();
  const name = e.ASSET_NAME ?? (isDefault ? usdc.name : undefined);
  const version = e.ASSET_VERSION ?? (isDefault ? usdc.version : undefined);
  if (name === undefined || version === undefined) {
    const missing = [name === undefined ? "ASSET_NAME" : undefined, version === undefined ? "ASSET_VERSION" : undefined].filter((k) => k !== undefined);
    throw new ConfigError(`Invalid configuration:\n  ${missing.join(", ")}: required with a custom ASSET (its EIP-712 domain name and version, as its contract reports them)`);
  }
  return { address, name, version };
}

function chainSettings(e: z.infer<typeof EnvSchema>): ChainSettings {
  const common = { facilitatorTimeoutMs: e.FACILITATOR_TIMEOUT_MS, devnetPort: e.DEVNET_PORT };
  if (e.NETWORK === undefined) {
    const remoteOnly = (["PAY_TO", "FACILITATOR_URL", "RPC_URL", "FACILITATOR_PRIVATE_KEY", "ASSET", "ASSET_NAME", "ASSET_VERSION"] as const).filter(
      (k) => e[k] !== undefined,
    );
    if (remoteOnly.length > 0) {
      throw new ConfigError(`Invalid configuration:\n  ${remoteOnly.join(", ")}: set NETWORK as well (without NETWORK Tollgate runs its own devnet)`);
    }
    return { kind: "devnet", network: "eip155:84532", ...common, ...(e.DEVNET_RPC_URL === undefined ? {} : { devnetRpcUrl: e.DEVNET_RPC_URL }) };
  }
  const network = e.NETWORK as `eip155:${number}`;
  if (e.PAY_TO === undefined) throw new ConfigError("Invalid configuration:\n  PAY_TO: required when NETWORK is set");
  if (e.FACILITATOR_URL === undefined && (e.RPC_URL === undefined || e.FACILITATOR_PRIVATE_KEY === undefined)) {
    throw new ConfigError("Invalid configuration:\n  FACILITATOR_URL: required when NETWORK is set (or RPC_URL and FACILITATOR_PRIVATE_KEY for the in-process facilitator)");
  }
  if (e.FACILITATOR_PRIVATE_KEY !== undefined && WELL_KNOWN_DEV_KEYS.has(e.FACILITATOR_PRIVATE_KEY.toLowerCase())) {
    throw new ConfigError("Invalid configuration:\n  FACILITATOR_PRIVATE_KEY: a well-known devnet key is refused on a real network");
  }
  const settings: ChainSettings = { kind: "remote", network, payTo: e.PAY_TO as `0x${string}`, ...common };
  const asset = assetSettings(e, network);
  if (asset !== undefined) settings.asset = asset;
  if (e.FACILITATOR_URL !== undefined) settings.facilitatorUrls = e.FACILITATOR_URL;
  if (e.RPC_URL !== undefined) settings.rpcUrl = e.RPC_URL;
  if (e.FACILITATOR_PRIVATE_KEY !== undefined) settings.facilitatorPrivateKey = e.FACILITATOR_PRIVATE_KEY as `0x${string}`;
  return settings;
}
