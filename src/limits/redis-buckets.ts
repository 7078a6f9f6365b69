import { createHash } from "node:crypto";
import { Redis } from "ioredis";
import { z } from "zod";
import type { Logger } from "../lib/logger.ts";
import { messageOf } from "../lib/errors.ts";
import type { MemoryBuckets } from "./memory-buckets.ts";
import { FLOAT_NOISE_MS, type BucketLimit, type BucketStore, type TakeResult } from "./token-bucket.ts";

/**
 * token-bucket.ts `takeFrom` as one Lua script, so a take is atomic across every gateway process
 * sharing the Redis. The clock is Redis's own (`TIME`; allowed in scripts since Redis 5 replicates
 * effects, not scripts), so the gateways' clocks never matter. A bucket is a hash {tokens, at}
 * that expires once it would be full again; a refused take writes nothing.
 * Returns {allowed 0|1, whole tokens left, ms until the next whole token (0 when full)}.
 */
const TAKE_SCRIPT = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local saved = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = burst
if saved[1] then
  tokens = math.min(burst, tonumber(saved[1]) + math.max(0, now - tonumber(saved[2])) * rate / 1000)
end
local allowed = 0
if tokens >= 1 then
  allowed = 1
  tokens = tokens - 1
  redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', now)
  redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 1000)
end
local wait = 0
if tokens < burst then wait = math.ceil((math.floor(tokens) + 1 - tokens) * 1000 / rate - ${FLOAT_NOISE_MS}) end
return {allowed, math.floor(tokens), wait}
`;
const TAKE_SHA = createHash("sha1").update(TAKE_SCRIPT).digest("hex");

const TakeReply = z.tuple([z.union([z.literal(0), z.literal(1)]), z.int().min(0), z.int().min(0)]);

/** A take that Redis has not answered by then counts as Redis being down. */
export const REDIS_TIMEOUT_MS = 250;
/** How long start-up waits for the first connection before it starts with Redis counted down. */
const CONNECT_TIMEOUT_MS = 2_000;

export interface RedisBucketsOptions {
  url: string;
  /** Prefix of every key this gateway writes (several gateways, or tests, can share one Redis). */
  keyPrefix: string;
  /** Where takes go while Redis cannot be reached. */
  fallback: MemoryBuckets;
  logger: Logger;
}

/**
 * Buckets in Redis, shared by every gateway process that points at it. While Redis cannot be
 * reached (refused, timed out, a script error) each take goes to `fallback`, this process's own
 * buckets with the same limits: the gateway keeps serving and keeps limiting, each process on its
 * own (README "Rate limits"). It never waits for Redis to come back: commands are not queued
 * while disconnected, and the client reconnects in the background. Resolves once connected, or
 * after a refused or timed-out first connection, already in that fallback.
 */
export async function createRedisBuckets(options: RedisBucketsOptions): Promise<BucketStore> {
  const { fallback, logger, keyPrefix } = options;
  const redis = new Redis(options.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: REDIS_TIMEOUT_MS,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  let degraded = false;
  // ioredis reports every failed reconnect; one line per outage is enough.
  redis.on("error", (err: unknown) => noteDown(err));
  redis.on("ready", noteUp);
  function noteUp(): void {
    if (!degraded) return;
    degraded = false;
    logger.info("rate limits: Redis is back; buckets are shared again");
  }
  function noteDown(err: unknown): void {
    if (degraded) return;
    degraded = true;
    logger.warn({ reason: messageOf(err) }, "rate limits: Redis unreachable; limiting in this process until it is back");
  }

  await new Promise<void>((resolve) => {
    if (redis.status === "ready") resolve();
    redis.once("ready", resolve);
    redis.once("error", () => resolve());
    setTimeout(resolve, CONNECT_TIMEOUT_MS).unref();
  });

  async function evalTake(key: string, limit: BucketLimit): Promise<unknown> {
    const args = [keyPrefix + key, String(limit.ratePerSecond), String(limit.burst)];
    try {
      return await redis.evalsha(TAKE_SHA, 1, ...args);
    } catch (error) {
      if (!messageOf(error).startsWith("NOSCRIPT")) throw error;
      return await redis.eval(TAKE_SCRIPT, 1, ...args);
    }
  }

  return {
    async take(key, limit): Promise<TakeResult> {
      try {
        const [allowed, remaining, nextTokenMs] = TakeReply.parse(await evalTake(key, limit));
        if (degraded) noteUp();
        return { allowed: allowed === 1, remaining, nextTokenMs };
      } catch (error) {
        noteDown(error);
        return fallback.take(key, limit);
      }
    },
    async close() {
      redis.disconnect();
      await fallback.close();
    },
  };
}
