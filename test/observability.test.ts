import { decodePaymentResponseHeader } from "@x402/core/http";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { createWalletClient, http } from "viem";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { devUsdcAbi } from "../contracts-abi/abi.ts";
import { createPayingFetch } from "../examples/paying-fetch.ts";
import { devnetPrivateKey, devnetTestAccount } from "../src/devnet/accounts.ts";
import { devnetChain } from "../src/devnet/chain.ts";
import { startFakeOpenAI, type FakeOpenAI } from "./fakes/openai-upstream.ts";
import { startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from "./support/gateway.ts";
import { capturingLogger } from "./support/log-capture.ts";
import { approvePermit2 } from "./support/permit2.ts";
import { recordingPayingFetch } from "./support/recording-fetch.ts";

/**
 * /metrics and the per-call log line after real paid calls on the devnet: the official x402
 * clients pay, the in-process facilitator settles on the hardhat chain, and the counters must
 * move by exactly what the ledger and the chain show.
 */

const MODEL = "gpt-4o-mini";
const NETWORK = "eip155:84532";
const UPSTREAM_KEY = "sk-test-upstream-secret-4242";
const QUOTE_SECRET = "observability-quote-secret-8f3a9c1d7e2b5046";
const log = capturingLogger("debug");
let gateway: TestGateway;
let upstream: FakeOpenAI;

beforeAll(async () => {
  upstream = await startFakeOpenAI({ content: "Counted and logged." });
  gateway = await startTestGateway({ OPENAI_API_KEY: UPSTREAM_KEY, OPENAI_BASE_URL: upstream.url, QUOTE_SECRET }, { logger: log.logger });
});

afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});

/** One sample of the Prometheus text format: the line whose name and whole label set match (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (JSON.stringify(Object.entries(found).sort()) === JSON.stringify(Object.entries(labels).sort())) return Number(match[3]);
  }
  return 0;
}

async function scrape(): Promise<string> {
  const res = await fetch(`${gateway.url}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

const balanceOf = (address: `0x${string}`) => gateway.publicClient.readContract({ address: gateway.dev.info.asset, abi: devUsdcAbi, functionName: "balanceOf", args: [address] });
const chatBody = (content: string, extra: Record<string, unknown> = {}) => JSON.stringify({ model: MODEL, messages: [{ role: "user", content }], max_tokens: 64, ...extra });

/** The info lines of the captured log, parsed, with the given msg. */
function logLines(msg: string): Array<Record<string, unknown>> {
  return log.lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line["msg"] === msg && line["level"] === 30);
}

/** An exact-paying @x402/fetch that keeps every PAYMENT-SIGNATURE header it sends. */
function recordingExactFetch(account: ReturnType<typeof devnetTestAccount>) {
  return recordingPayingFetch(new ExactEvmScheme(account), { network: NETWORK, asset: gateway.dev.info.asset });
}

describe("metrics after paid calls", () => {
  it("count an exact call's requests, payment, revenue, upstream cost, upstream first byte and settlement by what moved", async () => {
    const account = devnetTestAccount(6);
    await gateway.dev.faucet(account.address, 5_000_000n);
    const payTo = gateway.dev.info.payTo;
    const [before, payToBefore] = [await scrape(), await balanceOf(payTo)];

    const { fetch: paying } = recordingExactFetch(account);
    const res = await paying(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: chatBody("count me") });
    expect(res.status).toBe(200);
    const requestId = res.headers.get("x-tollgate-request-id") ?? "";
    const row = await gateway.runtime.deps.ledger.get(requestId);
    expect(row?.status).toBe("settled");
    const charged = row?.charged ?? 0n;
    const upstreamCost = row?.upstreamCost ?? 0n;
    expect(charged).toBeGreaterThan(0n);
    expect(upstreamCost).toBeGreaterThan(0n);
    // The payment counters are written when the request's work ends, just after the response.
    await vi.waitFor(async () => expect(sample(await scrape(), "tollgate_payments_total", { scheme: "exact", outcome: "settled" })).toBe(sample(before, "tollgate_payments_total", { scheme: "exact", outcome: "settled" }) + 1));

    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);
    const chat = { route: "/v1/chat/completions", method: "POST" };
    // @x402/fetch asks once (402), then pays (200).
    expect(delta("tollgate_http_requests_total", { ...chat, status: "402" })).toBe(1);
    expect(delta("tollgate_http_requests_total", { ...chat, status: "200" })).toBe(1);
    expect(delta("tollgate_http_request_duration_seconds_count", chat)).toBe(2);
    expect(delta("tollgate_revenue_atomic_units_total", { scheme: "exact" })).toBe(Number(charged));
    // Revenue is what reached payTo on chain.
    expect(BigInt(delta("tollgate_revenue_atomic_units_total", { scheme: "exact" }))).toBe((await balanceOf(payTo)) - payToBefore);
    expect(delta("tollgate_upstream_cost_atomic_units_total", { provider: "openai" })).toBe(Number(upstreamCost));
    expect(delta("tollgate_upstream_first_byte_seconds_count", { provider: "openai", mode: "chat" })).toBe(1);
    expect(delta("tollgate_settlements_total", { scheme: "exact", outcome: "settled" })).toBe(1);
    expect(delta("tollgate_settlement_duration_seconds_count", { scheme: "exact", outcome: "settled" })).toBe(1);
    expect(delta("tollgate_settlement_failures_total", { scheme: "exact", outcome: "unpaid" })).toBe(0);
    // The /metrics scrapes themselves are counted too.
    expect(delta("tollgate_http_requests_total", { route: "/metrics", method: "GET", status: "200" })).toBeGreaterThanOrEqual(2);
  });

  it("count a streamed upto call's revenue as its charge, below the maximum signed", async () => {
    const account = devnetTestAccount(7);
    await gateway.dev.faucet(account.address, 5_000_000n);
    const rpc = gateway.dev.info.rpcUrl;
    await approvePermit2({ wallet: createWalletClient({ account, chain: devnetChain(rpc), transport: http(rpc, { retryCount: 0 }) }), publicClient: gateway.publicClient, token: gateway.dev.info.asset });
    const paying = createPayingFetch({ privateKey: devnetPrivateKey(account), allowedAsset: { network: NETWORK, asset: gateway.dev.info.asset }, upto: { publicClient: gateway.publicClient } });
    const before = await scrape();

    const res = await paying.fetch(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: chatBody("stream me", { stream: true, max_tokens: 4_000 }) });
    expect(res.status).toBe(200);
    await res.text();
    const row = await gateway.runtime.deps.ledger.get(res.headers.get("x-tollgate-request-id") ?? "");
    expect(row?.status).toBe("settled");
    expect(row?.charged).toBeLessThan(row?.amount ?? 0n);
    await vi.waitFor(async () => expect(sample(await scrape(), "tollgate_payments_total", { scheme: "upto", outcome: "settled" })).toBe(sample(before, "tollgate_payments_total", { scheme: "upto", outcome: "settled" }) + 1));

    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);
    expect(delta("tollgate_revenue_atomic_units_total", { scheme: "upto" })).toBe(Number(row?.charged));
    expect(delta("tollgate_settlements_total", { scheme: "upto", outcome: "settled" })).toBe(1);
    expect(delta("tollgate_upstream_first_byte_seconds_count", { provider: "openai", mode: "stream" })).toBe(1);
    expect(delta("tollgate_upstream_cost_atomic_units_total", { provider: "openai" })).toBe(Number(row?.upstreamCost));
  });

  it("count a refused payment under its scheme, and nothing as revenue or settlement", async () => {
    const account = devnetTestAccount(8);
    await gateway.dev.faucet(account.address, 5_000_000n);
    const { fetch: paying, sent } = recordingExactFetch(account);
    expect((await paying(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: chatBody("once") })).status).toBe(200);
    await vi.waitFor(() => expect(logLines("paid call").length).toBeGreaterThan(0));
    const before = await scrape();

    // The same signed payment again: refused as a replay, nothing served.
    const replay = await fetch(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", "PAYMENT-SIGNATURE": sent[0] ?? "" }, body: chatBody("once") });
    expect(replay.status).toBe(409);
    await vi.waitFor(async () => expect(sample(await scrape(), "tollgate_payments_total", { scheme: "exact", outcome: "refused" })).toBe(sample(before, "tollgate_payments_total", { scheme: "exact", outcome: "refused" }) + 1));
    const after = await scrape();
    expect(sample(after, "tollgate_http_requests_total", { route: "/v1/chat/completions", method: "POST", status: "409" })).toBe(sample(before, "tollgate_http_requests_total", { route: "/v1/chat/completions", method: "POST", status: "409" }) + 1);
    expect(sample(after, "tollgate_revenue_atomic_units_total", { scheme: "exact" })).toBe(sample(before, "tollgate_revenue_atomic_units_total", { scheme: "exact" }));
    expect(sample(after, "tollgate_settlements_total", { scheme: "exact", outcome: "settled" })).toBe(sample(before, "tollgate_settlements_total", { scheme: "exact", outcome: "settled" }));

    const refused = logLines("payment refused").find((line) => line["requestId"] === replay.headers.get("x-tollgate-request-id"));
    expect(refused).toMatchObject({ event: "payment_refused", route: "/v1/chat/completions", scheme: "exact", code: "payment_replayed" });
  });

  it("show the health table as it is at the scrape, every gauge on the same scrape", async () => {
    const { health } = gateway.runtime.deps;
    const labels = { model: MODEL, provider: "openai" };
    health.record({ ...labels, ok: false, now: Date.now() });
    let text = await scrape();
    let now = health.snapshot(Date.now())[`openai/${MODEL}`];
    expect(sample(text, "tollgate_upstream_error_ratio", labels)).toBeCloseTo(now?.errorRate ?? -1, 9);
    health.record({ ...labels, ok: true, latencyMs: 4_321, ttftMs: 1_234, now: Date.now() });
    text = await scrape();
    now = health.snapshot(Date.now())[`openai/${MODEL}`];
    expect(sample(text, "tollgate_upstream_error_ratio", labels)).toBeCloseTo(now?.errorRate ?? -1, 9);
    expect(sample(text, "tollgate_upstream_latency_seconds", labels)).toBeCloseTo((now?.latencyMs ?? 0) / 1000, 9);
    expect(sample(text, "tollgate_upstream_ttft_seconds", labels)).toBeCloseTo((now?.ttftMs ?? 0) / 1000, 9);
    expect(sample(text, "tollgate_circuit_state", labels)).toBe({ closed: 0, half_open: 1, open: 2 }[now?.state ?? "open"]);
  });
});

describe("the per-call log line", () => {
  it("is one info line per paid call with what was paid, charged and settled, and never a signature, key or ABI", async () => {
    const account = devnetTestAccount(9);
    await gateway.dev.faucet(account.address, 5_000_000n);
    const { fetch: paying, sent } = recordingExactFetch(account);
    const res = await paying(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: chatBody("log me") });
    expect(res.status).toBe(200);
    const requestId = res.headers.get("x-tollgate-request-id");
    const receipt = decodePaymentResponseHeader(res.headers.get("PAYMENT-RESPONSE") ?? "");
    const row = await gateway.runtime.deps.ledger.get(requestId ?? "");
    await vi.waitFor(() => expect(logLines("paid call").filter((line) => line["requestId"] === requestId)).toHaveLength(1));

    const line = logLines("paid call").find((l) => l["requestId"] === requestId);
    expect(line).toMatchObject({
      event: "call",
      route: "/v1/chat/completions",
      wallet: account.address.toLowerCase(),
      model: MODEL,
      provider: "openai",
      scheme: "exact",
      price: row?.amount.toString(),
      charged: row?.charged?.toString(),
      upstreamCost: row?.upstreamCost?.toString(),
      status: "settled",
      tx: receipt.transaction,
    });
    const ms = line?.["ms"] as Record<string, unknown>;
    for (const stage of ["total", "upstream", "settle"]) expect(ms[stage], stage).toEqual(expect.any(Number));

    // Nothing secret in any line of the whole run, at debug level.
    const everything = log.lines.join("\n");
    const payload = JSON.parse(Buffer.from(sent[0] ?? "", "base64").toString("utf8")) as { payload: { signature: string } };
    for (const secret of [sent[0] ?? "", payload.payload.signature, UPSTREAM_KEY, QUOTE_SECRET, TEST_ADMIN_TOKEN, devnetPrivateKey(account), gateway.dev.info.demoAgent.privateKey]) {
      expect(secret.length).toBeGreaterThan(10);
      expect(everything).not.toContain(secret);
      expect(everything).not.toContain(secret.slice(2, 34));
    }
    expect(everything).not.toMatch(/"stateMutability"|"inputs":\[|authorization"?:\s*\{/i);
  });
});
