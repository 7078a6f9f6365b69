import { decodePaymentRequiredHeader } from "@x402/core/http";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devUsdcAbi } from "../contracts-abi/abi.ts";
import { createPayingFetch } from "../examples/paying-fetch.ts";
import { devnetPrivateKey, devnetTestAccount } from "../src/devnet/accounts.ts";
import { startFakeOpenAI, type FakeOpenAI } from "./fakes/openai-upstream.ts";
import { startTestGateway, type TestGateway } from "./support/gateway.ts";

/** POST /v1/embeddings: routed, priced, paid, recorded, through the official openai client. */

let gateway: TestGateway;
let upstream: FakeOpenAI;

beforeAll(async () => {
  upstream = await startFakeOpenAI();
  gateway = await startTestGateway({ OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: upstream.url });
  await gateway.dev.faucet(devnetTestAccount(0).address, 5_000_000n);
});

afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});

describe("embeddings", () => {
  it("answers 402 priced on the input tokens of the cheapest embedding model", async () => {
    const res = await fetch(`${gateway.url}/v1/embeddings`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ input: "toll roads" }) });
    expect(res.status).toBe(402);
    expect(res.headers.get("x-tollgate-model")).toBe("text-embedding-3-small");
    const accepted = decodePaymentRequiredHeader(res.headers.get("PAYMENT-REQUIRED") ?? "").accepts.find((a) => a.scheme === "exact");
    expect(BigInt(accepted?.amount ?? "0")).toBeGreaterThan(0n);
  });

  it("serves a paid embeddings call through the openai client, settles it and records it", async () => {
    const agent = devnetTestAccount(0);
    const paying = createPayingFetch({ privateKey: devnetPrivateKey(agent), allowedAsset: { network: "eip155:84532", asset: gateway.dev.info.asset } });
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "unused", fetch: paying.fetch, maxRetries: 0 });
    const before = await gateway.publicClient.readContract({ address: gateway.dev.info.asset, abi: devUsdcAbi, functionName: "balanceOf", args: [agent.address] });
    const { data, response } = await openai.embeddings.create({ model: "text-embedding-3-small", input: ["toll", "gate"], dimensions: 8 }).withResponse();
    expect(data.data).toHaveLength(2);
    expect(data.data[0]?.embedding).toHaveLength(8);
    expect(upstream.requests.at(-1)?.path).toBe("/v1/embeddings");
    const receipt = paying.receipts.at(-1);
    expect(receipt?.success).toBe(true);
    const row = await gateway.runtime.deps.ledger.get(response.headers.get("x-tollgate-request-id") ?? "");
    expect(row?.status).toBe("settled");
    expect(row?.task).toBe("embedding");
    expect(row?.promptTokens).toBeGreaterThan(0);
    const after = await gateway.publicClient.readContract({ address: gateway.dev.info.asset, abi: devUsdcAbi, functionName: "balanceOf", args: [agent.address] });
    expect(before - after).toBe(row?.amount);
  });

  it("refuses a chat model on /v1/embeddings and an embedding model on chat", async () => {
    const wrong = await fetch(`${gateway.url}/v1/embeddings`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "gpt-4o-mini", input: "x" }) });
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error: { param: string } }).error.param).toBe("model");
    const chat = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "text-embedding-3-small", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(chat.status).toBe(400);
    expect(((await chat.json()) as { error: { message: string } }).error.message).toMatch(/embedding model/);
  });

  it("refuses more dimensions than the model has before any 402", async () => {
    const res = await fetch(`${gateway.url}/v1/embeddings`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "text-embedding-3-small", input: "toll", dimensions: 4096 }) });
    expect(res.status).toBe(400);
    expect(res.headers.get("payment-required")).toBeNull();
    expect(((await res.json()) as { error: unknown }).error).toMatchObject({ code: "invalid_request", param: "dimensions", message: "'dimensions': 4096 is more than text-embedding-3-small's 1536" });
  });

  it("refuses a body without input, naming the field", async () => {
    const res = await fetch(`${gateway.url}/v1/embeddings`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "auto" }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe("input");
  });
});
