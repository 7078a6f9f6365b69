import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createPayingFetch } from "../examples/paying-fetch.ts";
import { createApp } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";
import { createRateLimits } from "../src/deps.ts";
import { devnetPrivateKey, devnetTestAccount } from "../src/devnet/accounts.ts";
import type { RateLimits } from "../src/http/rate-limit.ts";
import { createLogger } from "../src/lib/logger.ts";
import { MemoryBuckets } from "../src/limits/memory-buckets.ts";
import { createRedisBuckets } from "../src/limits/redis-buckets.ts";
import type { BucketLimit, BucketStore } from "../src/limits/token-bucket.ts";
import { startFakeOpenAI, type FakeOpenAI } from "./fakes/openai-upstream.ts";
import { startTestGateway, type TestGateway } from "./support/gateway.ts";

/**
 * Rate limits on the real gateway (devnet, in-process facilitator, SQLite ledger, a loopback
 * OpenAI upstream) and on the real Redis at 127.0.0.1:6379 (REDIS_TEST_URL overrides), every
 * test under its own key prefix. Several app instances share the one runtime, each with the
 * limits of its test, as several gateway processes share a ledger.
 */

const REDIS_URL = process.env["REDIS_TEST_URL"] ?? "redis://127.0.0.1:6379";
const logger = createLogger({ level: "silent" });
const chat = { model: "gpt-4o-mini", max_tokens: 16, messages: [{ role: "user", content: "Say hi" }] };

let gateway: TestGateway;
let upstream: FakeOpenAI;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  upstream = await startFakeOpenAI({ content: "hi" });
  gateway = await startTestGateway({ OPENAI_API_KEY: "sk-test-upstream", OPENAI_BASE_URL: upstream.url });
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});

/** A unique key prefix, so tests (and parallel runs) never share a bucket by accident. */
const testPrefix = () => `tollgate-test:${randomUUID()}:`;

/**
 * Another app instance over the test gateway's runtime, with the rate limits `env` configures.
 * Its in-process buckets run on a stopped clock: nothing refills while a test runs, however slow.
 */
async function gatewayWith(env: Record<string, string>): Promise<string> {
  const limits = await createRateLimits(loadConfig(env).rateLimits, logger, () => 0);
  const server: Server = createServer(createApp({ ...gateway.runtime.deps, rateLimits: limits })).listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await limits.store.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function post(url: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

async function statuses(responses: Array<Promise<Response>>): Promise<number[]> {
  return (await Promise.all(responses)).map((r) => r.status);
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("the unpaid limit, per client address", () => {
  it("answers 429 rate_limited with Retry-After and the draft's RateLimit fields once the burst is used", async () => {
    const url = await gatewayWith({ RATE_LIMIT_UNPAID_PER_SECOND: "0.01", RATE_LIMIT_UNPAID_BURST: "2" });
    const first = await post(url, "/v1/route", chat);
    expect(first.status).toBe(200);
    expect(first.headers.get("ratelimit-policy")).toBe('"unpaid";q=2;w=200');
    expect(first.headers.get("ratelimit")).toBe('"unpaid";r=1;t=100');
    const second = await post(url, "/v1/chat/completions", chat);
    expect(second.status).toBe(402);
    expect(second.headers.get("ratelimit")).toBe('"unpaid";r=0;t=100');

    const refused = await post(url, "/v1/chat/completions", chat);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("100");
    expect(refused.headers.get("ratelimit-policy")).toBe('"unpaid";q=2;w=200');
    expect(refused.headers.get("ratelimit")).toBe('"unpaid";r=0;t=100');
    expect(refused.headers.get("payment-required")).toBeNull();
    expect(await refused.json()).toEqual({
      error: {
        message: "Too many requests without a payment from this address: the limit is 2 at once, then 0.01 per second; retry in 100 s",
        type: "rate_limit_error",
        code: "rate_limited",
        param: null,
        policy: "unpaid",
        retry_after: 100,
      },
    });
    expect((await post(url, "/v1/embeddings", { model: "auto", input: "hi" })).status).toBe(429);
    expect((await post(url, "/v1/route", chat)).status).toBe(429);
    // Endpoints that are not per call are not limited.
    expect((await fetch(`${url}/v1/models`)).status).toBe(200);
  });

  it("is off at a rate of 0: no 429 and no RateLimit fields", async () => {
    const url = await gatewayWith({ RATE_LIMIT_UNPAID_PER_SECOND: "0", RATE_LIMIT_UNPAID_BURST: "1" });
    const answers = await Promise.all([1, 2, 3].map(() => post(url, "/v1/route", chat)));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(answers[0]?.headers.get("ratelimit")).toBeNull();
  });

  it("ignores X-Forwarded-For from a peer that is not a trusted proxy", async () => {
    for (const trust of [{}, { TRUST_PROXY: "10.0.0.0/8,2001:db8::1" }]) {
      const url = await gatewayWith({ RATE_LIMIT_UNPAID_PER_SECOND: "0.01", RATE_LIMIT_UNPAID_BURST: "2", ...trust });
      const spoofed = ["198.51.100.1", "198.51.100.2", "198.51.100.3"].map((xff) => post(url, "/v1/route", chat, { "x-forwarded-for": xff }));
      expect((await statuses(spoofed)).sort()).toEqual([200, 200, 429]);
    }
  });

  it("counts the address a trusted proxy forwarded, and IPv6 clients per /64", async () => {
    const url = await gatewayWith({ RATE_LIMIT_UNPAID_PER_SECOND: "0.01", RATE_LIMIT_UNPAID_BURST: "1", TRUST_PROXY: "127.0.0.1, 192.0.2.0/24" });
    const via = (xff: string) => post(url, "/v1/route", chat, { "x-forwarded-for": xff }).then((r) => r.status);
    expect(await via("203.0.113.1")).toBe(200);
    expect(await via("203.0.113.1")).toBe(429);
    expect(await via("203.0.113.2")).toBe(200);
    // Through two trusted hops (192.0.2.7 forwarded to the proxy at 127.0.0.1) to the same client.
    expect(await via("203.0.113.2, 192.0.2.7")).toBe(429);
    // What the client wrote itself, left of the first untrusted hop, is never read.
    expect(await via("203.0.113.9, 198.51.100.4")).toBe(200);
    expect(await via("203.0.113.10, 198.51.100.4")).toBe(429);
    expect(await via("2001:db8:1:2::1")).toBe(200);
    expect(await via("2001:db8:1:2:ffff::5")).toBe(429);
    expect(await via("[2001:db8:1:3::1]:4711")).toBe(200);
    // An entry that is no address stops at the proxy that wrote it: counted as 127.0.0.1.
    expect(await via("not-an-address")).toBe(200);
    expect(await via("also-not-one")).toBe(429);
  });

  it("refuses junk payment headers once they have used the address's burst, so they cannot dodge the unpaid limit", async () => {
    const url = await gatewayWith({ RATE_LIMIT_UNPAID_PER_SECOND: "0.01", RATE_LIMIT_UNPAID_BURST: "2" });
    const junk = { "payment-signature": "bm90IGEgcGF5bWVudA==" };
    const first = await post(url, "/v1/chat/completions", chat, junk);
    expect(first.status).toBe(400);
    expect(((await first.json()) as { error: { code: string } }).error.code).toBe("invalid_payment_header");
    expect((await post(url, "/v1/chat/completions", chat, junk)).status).toBe(400);
    const refused = await post(url, "/v1/chat/completions", chat, junk);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("ratelimit")).toBe('"unpaid";r=0;t=100');
    expect((await post(url, "/v1/chat/completions", chat)).status).toBe(429);
  });
});

describe("the paid limit, per wallet", () => {
  it("refuses a wallet's paid call past its burst with 429 before anything is reserved, verified or served", async () => {
    const url = await gatewayWith({ RATE_LIMIT_PAID_PER_SECOND: "0.01", RATE_LIMIT_PAID_BURST: "1" });
    const agent = devnetTestAccount(3);
    await gateway.dev.faucet(agent.address, 5_000_000n);
    const paying = createPayingFetch({ privateKey: devnetPrivateKey(agent), allowedAsset: { network: "eip155:84532", asset: gateway.dev.info.asset } });
    upstream.resetBehaviour();

    const served = await paying.fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(chat) });
    expect(served.status).toBe(200);
    expect(served.headers.get("ratelimit-policy")).toBe('"paid";q=1;w=100');
    expect(served.headers.get("ratelimit")).toBe('"paid";r=0;t=100');
    expect(paying.receipts).toHaveLength(1);

    const refused = await paying.fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(chat) });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("100");
    expect(refused.headers.get("ratelimit-policy")).toBe('"paid";q=1;w=100');
    const body = (await refused.json()) as { error: { code: string; policy: string; message: string } };
    expect(body.error).toMatchObject({ code: "rate_limited", policy: "paid" });
    expect(body.error.message).toContain(agent.address.toLowerCase());
    // One row, one upstream call, one settlement: the refused payment was never reserved.
    const wallet = await gateway.runtime.deps.ledger.wallet(agent.address.toLowerCase() as `0x${string}`, { recent: 10 });
    expect(wallet?.recent.map((row) => row.status)).toEqual(["settled"]);
    expect(upstream.requests).toHaveLength(1);
    expect(paying.receipts).toHaveLength(1);

    // Another wallet has its own bucket.
    const other = devnetTestAccount(4);
    await gateway.dev.faucet(other.address, 5_000_000n);
    const otherPaying = createPayingFetch({ privateKey: devnetPrivateKey(other), allowedAsset: { network: "eip155:84532", asset: gateway.dev.info.asset } });
    expect((await otherPaying.fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(chat) })).status).toBe(200);
  });
});

describe("buckets shared through Redis", () => {
  const limit: BucketLimit = { policy: "unpaid", ratePerSecond: 0.001, burst: 20 };

  async function redisStore(url: string, keyPrefix: string): Promise<BucketStore> {
    const store = await createRedisBuckets({ url, keyPrefix, fallback: new MemoryBuckets(), logger });
    cleanups.push(() => store.close());
    return store;
  }

  it("lets exactly the burst through when two clients of one Redis take from one bucket at once", async () => {
    const prefix = testPrefix();
    const a = await redisStore(REDIS_URL, prefix);
    const b = await redisStore(REDIS_URL, prefix);
    const takes = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? a : b).take("unpaid:192.0.2.1", limit)));
    expect(takes.filter((t) => t.allowed)).toHaveLength(20);
    expect(takes.filter((t) => !t.allowed).every((t) => t.remaining === 0 && t.nextTokenMs > 0)).toBe(true);
  });

  it("keeps a bucket only until it would be full again", async () => {
    const prefix = testPrefix();
    const store = await redisStore(REDIS_URL, prefix);
    const probe = new Redis(REDIS_URL);
    cleanups.push(async () => void probe.disconnect());
    const tight: BucketLimit = { policy: "paid", ratePerSecond: 10, burst: 5 };
    expect(await probe.exists(`${prefix}paid:0xabc`)).toBe(0);
    expect(await store.take("paid:0xabc", tight)).toEqual({ allowed: true, remaining: 4, nextTokenMs: 100 });
    const ttl = await probe.pttl(`${prefix}paid:0xabc`);
    // One token at 10 per second refills in 100 ms; the key lives that long plus a second.
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1_100);
  });

  it("shares one address's allowance between two gateways on one Redis", async () => {
    const env = { RATE_LIMIT_UNPAID_PER_SECOND: "0.01", RATE_LIMIT_UNPAID_BURST: "3", REDIS_URL, RATE_LIMIT_KEY_PREFIX: testPrefix() };
    const [one, two] = [await gatewayWith(env), await gatewayWith(env)];
    const answers: number[] = [];
    for (let i = 0; i < 6; i += 1) answers.push((await post(i % 2 === 0 ? one : two, "/v1/route", chat)).status);
    // In-process buckets would have let 3 through each.
    expect(answers).toEqual([200, 200, 200, 429, 429, 429]);
  });

  it("keeps serving and limits in each process while Redis cannot be reached", async () => {
    const down = `redis://127.0.0.1:${await freePort()}`;
    const url = await gatewayWith({ RATE_LIMIT_UNPAID_PER_SECOND: "0.01", RATE_LIMIT_UNPAID_BURST: "2", REDIS_URL: down, RATE_LIMIT_KEY_PREFIX: testPrefix() });
    const answers: number[] = [];
    for (let i = 0; i < 3; i += 1) answers.push((await post(url, "/v1/route", chat)).status);
    expect(answers).toEqual([200, 200, 429]);
    const store = await redisStore(down, testPrefix());
    expect(await store.take("unpaid:192.0.2.1", limit)).toEqual({ allowed: true, remaining: 19, nextTokenMs: 1_000_000 });
  });
});
