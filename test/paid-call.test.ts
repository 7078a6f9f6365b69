import { decodePaymentRequiredHeader, decodePaymentResponseHeader } from "@x402/core/http";
import { x402Client } from "@x402/core/client";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devUsdcAbi } from "../contracts-abi/abi.ts";
import { devnetPrivateKey, devnetTestAccount } from "../src/devnet/accounts.ts";
import { openLedger } from "../src/ledger/open.ts";
import { createPayingFetch } from "../examples/paying-fetch.ts";
import { startFakeOpenAI, type FakeOpenAI } from "./fakes/openai-upstream.ts";
import { startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from "./support/gateway.ts";
import { base64Json, signAuthorization } from "./support/sign-payment.ts";

/**
 * The paid call end to end on the real devnet: hardhat chain, DevUSDC with real EIP-3009
 * signatures, the in-process x402 facilitator, a real SQLite ledger, and a loopback upstream
 * speaking OpenAI's wire format. Clients are the official @x402/fetch and openai packages.
 */

const MODEL = "gpt-4o-mini";
const body = (content: string, extra: Record<string, unknown> = {}) => ({ model: MODEL, messages: [{ role: "user", content }], max_tokens: 64, ...extra });

let gateway: TestGateway;
let upstream: FakeOpenAI;

beforeAll(async () => {
  upstream = await startFakeOpenAI({ content: "Tolls for every call, settled on chain." });
  gateway = await startTestGateway({ OPENAI_API_KEY: "sk-test-upstream", OPENAI_BASE_URL: upstream.url });
});

afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});

async function fundedAgent(n: number, amount = 5_000_000n) {
  const account = devnetTestAccount(n);
  await gateway.dev.faucet(account.address, amount);
  return account;
}

function balanceOf(address: `0x${string}`): Promise<bigint> {
  return gateway.publicClient.readContract({ address: gateway.dev.info.asset, abi: devUsdcAbi, functionName: "balanceOf", args: [address] });
}

function post(path: string, payload: unknown, headers: Record<string, string> = {}) {
  return fetch(`${gateway.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof payload === "string" ? payload : JSON.stringify(payload),
  });
}

/** A fetch that records the headers of every request it sends, to replay a payment later. */
function recordingFetch() {
  const sent: Headers[] = [];
  const f: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    sent.push(new Headers(request.headers));
    return fetch(request);
  };
  return { fetch: f, sent };
}

describe("unpaid call", () => {
  it("answers 402 with a v2 PAYMENT-REQUIRED header and a v1 body that ask for the same payment", async () => {
    const res = await post("/v1/chat/completions", body("Write a haiku about tolls"));
    expect(res.status).toBe(402);
    const header = res.headers.get("PAYMENT-REQUIRED");
    expect(header).toBeTruthy();
    const v2 = decodePaymentRequiredHeader(header ?? "");
    const v1 = (await res.json()) as { x402Version: number; accepts: Array<Record<string, unknown>>; route: { model: string } };
    const a2 = v2.accepts.find((a) => a.scheme === "exact");
    const a1 = v1.accepts[0];
    expect(v2.x402Version).toBe(2);
    expect(v1.x402Version).toBe(1);
    expect(a2?.scheme).toBe("exact");
    expect(a1?.["maxAmountRequired"]).toBe(a2?.amount);
    expect(a1?.["asset"]).toBe(a2?.asset);
    expect(a1?.["payTo"]).toBe(a2?.payTo);
    expect(a2?.network).toBe("eip155:84532");
    expect(a1?.["network"]).toBe("base-sepolia");
    expect(a2?.asset).toBe(gateway.dev.info.asset);
    expect(a2?.extra["name"]).toBe("USDC");
    expect(a2?.extra["version"]).toBe("2");
    expect(BigInt(a2?.amount ?? "0")).toBeGreaterThan(0n);
    expect(v1.route.model).toBe(MODEL);
    expect(res.headers.get("x-tollgate-model")).toBe(MODEL);
  });
});

describe("paid call", () => {
  it("serves a call paid through @x402/fetch, moves exactly the quoted amount on chain, and records it", async () => {
    const agent = await fundedAgent(4);
    const quote = await post("/v1/chat/completions", body("Summarise the x402 protocol"));
    const quoted = BigInt(decodePaymentRequiredHeader(quote.headers.get("PAYMENT-REQUIRED") ?? "").accepts.find((a) => a.scheme === "exact")?.amount ?? "0");
    const payTo = gateway.dev.info.payTo;
    const [payerBefore, payToBefore] = await Promise.all([balanceOf(agent.address), balanceOf(payTo)]);

    const paying = createPayingFetch({ privateKey: devnetKey(4), allowedAsset: { network: "eip155:84532", asset: gateway.dev.info.asset } });
    const res = await paying.fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body("Summarise the x402 protocol")),
    });
    expect(res.status).toBe(200);
    const completion = (await res.json()) as { choices: Array<{ message: { content: string } }>; usage: { prompt_tokens: number; cost: string; cost_details: Record<string, string> } };
    expect(completion.choices[0]?.message.content).toBe("Tolls for every call, settled on chain.");
    // What the call cost, in the body (OpenRouter's usage.cost) and the headers; exact charges the maximum.
    expect(completion.usage.prompt_tokens).toBeGreaterThan(0);
    expect(completion.usage.cost).toBe(res.headers.get("x-tollgate-charged"));
    // The usage cost no more than the price; under exact the difference becomes credit (README "Credit").
    const usageCost = BigInt(completion.usage.cost_details["usage_cost"] ?? "-1");
    expect(usageCost).toBeGreaterThan(0n);
    expect(usageCost).toBeLessThanOrEqual(quoted);
    expect(completion.usage.cost_details).toEqual({ amount: quoted.toString(), maximum: quoted.toString(), usage_cost: usageCost.toString(), credit_used: "0", asset: gateway.dev.info.asset, network: "eip155:84532" });
    expect(res.headers.get("x-tollgate-max-price")).toBe(res.headers.get("x-tollgate-price"));
    expect(res.headers.get("x-tollgate-charged")).toBe(res.headers.get("x-tollgate-price"));
    const receipt = decodePaymentResponseHeader(res.headers.get("PAYMENT-RESPONSE") ?? "");
    expect(receipt.success).toBe(true);
    expect(receipt.transaction).toMatch(/^0x[0-9a-f]{64}$/);
    expect(res.headers.get("x-tollgate-provider")).toBe("openai");

    const [payerAfter, payToAfter] = await Promise.all([balanceOf(agent.address), balanceOf(payTo)]);
    expect(payerBefore - payerAfter).toBe(quoted);
    expect(payToAfter - payToBefore).toBe(quoted);

    const requestId = res.headers.get("x-tollgate-request-id") ?? "";
    const ledger = await openLedger({ dataDir: gateway.dataDir });
    try {
      const row = await ledger.get(requestId);
      expect(row?.status).toBe("settled");
      expect(row?.amount).toBe(quoted);
      expect(row?.charged).toBe(quoted);
      expect(row?.txHash).toBe(receipt.transaction);
      expect(row?.payer).toBe(agent.address.toLowerCase());
      expect(row?.model).toBe(MODEL);
      expect(row?.promptTokens).toBeGreaterThan(0);
    } finally {
      await ledger.close();
    }

    const admin = await fetch(`${gateway.url}/admin/wallets/${agent.address}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    expect(admin.status).toBe(200);
    type Money = { amount: string; usd: string };
    const detail = (await admin.json()) as {
      totals: { calls: number; spent: Money };
      byModel: Array<{ model: string }>;
      recent: Array<{ id: string; maximum: Money; charged: Money | null; upstreamCost: Money | null; promptTokens: number; completionTokens: number }>;
    };
    expect(detail.totals.spent.amount).toBe(quoted.toString());
    expect(detail.byModel.map((m) => m.model)).toEqual([MODEL]);
    // The operator sees the maximum, the charge, the usage and the upstream cost of each call.
    const call = detail.recent.find((c) => c.id === requestId);
    expect(call?.maximum.amount).toBe(quoted.toString());
    expect(call?.charged?.amount).toBe(quoted.toString());
    expect(call?.promptTokens).toBeGreaterThan(0);
    expect(call?.completionTokens).toBeGreaterThan(0);
    expect(BigInt(call?.upstreamCost?.amount ?? "0")).toBeGreaterThan(0n);
    expect(BigInt(call?.upstreamCost?.amount ?? "0")).toBeLessThan(quoted);
  });

  it("refuses the same payment sent again without calling the upstream", async () => {
    await fundedAgent(5);
    // The paying client sends through a recorder so we can read the payment header it sent.
    const recorder = recordingFetch();
    const client = new x402Client().register("eip155:*", new ExactEvmScheme(devnetTestAccount(5)));
    client.setSpendControls({ allowedAssets: [{ network: "eip155:84532", asset: gateway.dev.info.asset }] });
    const payingRecorded = wrapFetchWithPayment(recorder.fetch, client);

    const payload = JSON.stringify(body("Translate 'toll' into French"));
    const first = await payingRecorded(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: payload });
    expect(first.status).toBe(200);
    const paymentHeader = recorder.sent.map((h) => h.get("PAYMENT-SIGNATURE")).find((h) => h !== null);
    expect(paymentHeader).toBeTruthy();
    const upstreamCalls = upstream.requests.length;

    const replay = await post("/v1/chat/completions", payload, { "PAYMENT-SIGNATURE": paymentHeader ?? "" });
    expect(replay.status).toBe(409);
    expect(((await replay.json()) as { error: { code: string } }).error.code).toBe("payment_replayed");
    expect(upstream.requests.length).toBe(upstreamCalls);
  });

  it("streams a paid call through the official openai client and delivers the receipt", async () => {
    await fundedAgent(6);
    const paying = createPayingFetch({ privateKey: devnetKey(6), allowedAsset: { network: "eip155:84532", asset: gateway.dev.info.asset } });
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "unused", fetch: paying.fetch, maxRetries: 0 });
    const { data, response } = await openai.chat.completions
      .create({ model: MODEL, messages: [{ role: "user", content: "Stream me a sentence" }], max_tokens: 64, stream: true })
      .withResponse();
    let text = "";
    for await (const chunk of data) text += chunk.choices[0]?.delta?.content ?? "";
    expect(text).toBe("Tolls for every call, settled on chain.");
    expect(response.headers.get("x-tollgate-model")).toBe(MODEL);
    const receipt = paying.receipts.at(-1);
    expect(receipt?.success).toBe(true);
    expect(receipt?.transaction).toMatch(/^0x[0-9a-f]{64}$/);
    const sent = upstream.requests.at(-1)?.body as { stream?: boolean; stream_options?: { include_usage?: boolean } };
    expect(sent.stream).toBe(true);
    expect(sent.stream_options?.include_usage).toBe(true);
  });

  it("accepts and settles a v1 payment sent as X-PAYMENT", async () => {
    const agent = await fundedAgent(7);
    const payload = body("Classify this: great product!");
    const challenge = (await (await post("/v1/chat/completions", payload)).json()) as { accepts: Array<{ maxAmountRequired: string; payTo: `0x${string}`; network: string }> };
    const requirement = challenge.accepts[0];
    if (requirement === undefined) throw new Error("no v1 requirement");
    const signed = await signAuthorization(agent, { asset: gateway.dev.info.asset, chainId: 84532 }, { to: requirement.payTo, value: BigInt(requirement.maxAmountRequired) });
    const before = await balanceOf(agent.address);
    const res = await post("/v1/chat/completions", payload, {
      "X-PAYMENT": base64Json({ x402Version: 1, scheme: "exact", network: requirement.network, payload: signed }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("PAYMENT-RESPONSE")).toBeNull();
    const receipt = decodePaymentResponseHeader(res.headers.get("X-PAYMENT-RESPONSE") ?? "");
    expect(receipt.success).toBe(true);
    expect(before - (await balanceOf(agent.address))).toBe(BigInt(requirement.maxAmountRequired));
  });
});

describe("failed calls are never charged", () => {
  it("answers 502 and settles nothing when every provider fails", async () => {
    const agent = await fundedAgent(10);
    upstream.setBehaviour({ error: { status: 500, message: "upstream exploded" } });
    try {
      const paying = createPayingFetch({ privateKey: devnetKey(10), allowedAsset: { network: "eip155:84532", asset: gateway.dev.info.asset } });
      const before = await balanceOf(agent.address);
      const res = await paying.fetch(`${gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body("This call will fail upstream")),
      });
      expect(res.status).toBe(502);
      const error = (await res.json()) as { error: { code: string; message: string } };
      expect(error.error.code).toBe("upstream_error");
      expect(error.error.message).toMatch(/not charged/);
      expect(await balanceOf(agent.address)).toBe(before);
      const row = await gateway.runtime.deps.ledger.get(res.headers.get("x-tollgate-request-id") ?? "");
      expect(row?.status).toBe("failed");
      expect(row?.txHash).toBeNull();
    } finally {
      upstream.resetBehaviour({ content: "Tolls for every call, settled on chain." });
    }
  });

  it("ends a stream that breaks mid-way with an error event and settles nothing", async () => {
    const agent = await fundedAgent(11);
    // The first events reach the agent, then the upstream drops the connection.
    // The gate opens once the paid call reached the upstream, whatever the 402 round trip took.
    const arrived = upstream.waitForRequests(upstream.requests.length + 1);
    upstream.setBehaviour({ streamGate: arrived.then(() => new Promise((resolve) => setTimeout(resolve, 300))), dropAfterEvents: 3 });
    try {
      const paying = createPayingFetch({ privateKey: devnetKey(11), allowedAsset: { network: "eip155:84532", asset: gateway.dev.info.asset } });
      const before = await balanceOf(agent.address);
      const res = await paying.fetch(`${gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body("Stream that breaks", { stream: true })),
      });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toMatch(/"code":"upstream_error"/);
      expect(text).not.toMatch(/PAYMENT-RESPONSE/);
      expect(paying.receipts).toHaveLength(0);
      expect(await balanceOf(agent.address)).toBe(before);
      const row = await gateway.runtime.deps.ledger.get(res.headers.get("x-tollgate-request-id") ?? "");
      expect(row?.status).toBe("failed");
    } finally {
      upstream.resetBehaviour({ content: "Tolls for every call, settled on chain." });
    }
  });
});

function devnetKey(n: number): `0x${string}` {
  return devnetPrivateKey(devnetTestAccount(n));
}
