import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devUsdcAbi } from "../contracts-abi/abi.ts";
import { createPayingFetch, type PayingFetch } from "../examples/paying-fetch.ts";
import { devnetPrivateKey, devnetTestAccount } from "../src/devnet/accounts.ts";
import type { CallStatus } from "../src/ledger/types.ts";
import { startFakeOpenAI, type FakeOpenAI } from "./fakes/openai-upstream.ts";
import { startTestGateway, type TestGateway } from "./support/gateway.ts";

/**
 * Who pays for a paid stream that does not end normally, on the devnet with real payments
 * (README, "Streams"): once content has reached the agent the call was served, so an agent that
 * leaves afterwards (at 95 %, after finish_reason, before [DONE]) pays the quoted price and the
 * upstream is stopped; an agent that leaves before any content, and a stream the upstream breaks,
 * pay nothing.
 */

let upstream: FakeOpenAI;
let gateway: TestGateway;
let paying: PayingFetch;
const agent = devnetTestAccount(5);
const CONTENT = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty";

beforeAll(async () => {
  upstream = await startFakeOpenAI({ content: CONTENT });
  gateway = await startTestGateway({ OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: upstream.url });
  await gateway.dev.faucet(agent.address, 20_000_000n);
  paying = createPayingFetch({ privateKey: devnetPrivateKey(agent), allowedAsset: { network: "eip155:84532", asset: gateway.dev.info.asset } });
});

afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});

const balanceOf = (address: `0x${string}`) => gateway.publicClient.readContract({ address: gateway.dev.info.asset, abi: devUsdcAbi, functionName: "balanceOf", args: [address] });

async function books() {
  const [agentBalance, payToBalance] = await Promise.all([balanceOf(agent.address), balanceOf(gateway.dev.info.payTo)]);
  return { agentBalance, payToBalance };
}

/** Waits until the call's row leaves the in-flight statuses (the gateway notices a disconnect asynchronously). */
async function finalStatus(requestId: string): Promise<CallStatus | undefined> {
  const inFlight: Array<CallStatus | undefined> = [undefined, "reserved", "verified", "served"];
  for (let i = 0; i < 200; i++) {
    const status = (await gateway.runtime.deps.ledger.get(requestId))?.status;
    if (!inFlight.includes(status)) return status;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return (await gateway.runtime.deps.ledger.get(requestId))?.status;
}

/** Starts a paid stream and reads it until `until` holds for the text so far, then hangs up. */
async function leaveStream(content: string, until: (text: string) => boolean) {
  const controller = new AbortController();
  const res = await paying.fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content }], max_tokens: 64, stream: true }),
    signal: controller.signal,
  });
  expect(res.status).toBe(200);
  const requestId = res.headers.get("x-tollgate-request-id") ?? "";
  const upstreamRequest = upstream.requests.at(-1);
  const reader = res.body?.getReader();
  if (reader === undefined) throw new Error("no body");
  const decoder = new TextDecoder();
  let text = "";
  while (!until(text)) {
    const step = await reader.read();
    if (step.done) throw new Error(`stream ended before the agent meant to leave: ${text}`);
    text += decoder.decode(step.value, { stream: true });
  }
  controller.abort();
  return { requestId, text, upstreamOutcome: upstreamRequest?.outcome };
}

describe("a paid stream the agent leaves", () => {
  it("charges the quoted price when the agent leaves after content began, and stops the upstream", async () => {
    let release = () => {};
    upstream.setBehaviour({ streamGate: new Promise<void>((resolve) => (release = resolve)) });
    try {
      const before = await books();
      const left = await leaveStream("leave after the first word", (text) => text.includes('"content":"one'));
      expect(await left.upstreamOutcome).toBe("client-closed");
      expect(await finalStatus(left.requestId)).toBe("settled");
      const row = await gateway.runtime.deps.ledger.get(left.requestId);
      const after = await books();
      expect(row?.txHash).toMatch(/^0x[0-9a-f]{64}$/);
      expect(before.agentBalance - after.agentBalance).toBe(row?.amount);
      expect(after.payToBalance - before.payToBalance).toBe(row?.amount);
    } finally {
      release();
      upstream.resetBehaviour();
    }
  });

  it("charges the quoted price when the agent leaves after finish_reason, before [DONE]", async () => {
    let release = () => {};
    upstream.setBehaviour({ doneGate: new Promise<void>((resolve) => (release = resolve)) });
    try {
      const before = await books();
      const left = await leaveStream("leave before done", (text) => text.includes('"finish_reason":"stop"'));
      expect(left.text).not.toContain("[DONE]");
      expect(await left.upstreamOutcome).toBe("client-closed");
      expect(await finalStatus(left.requestId)).toBe("settled");
      const row = await gateway.runtime.deps.ledger.get(left.requestId);
      expect(before.agentBalance - (await books()).agentBalance).toBe(row?.amount);
    } finally {
      release();
      upstream.resetBehaviour();
    }
  });

  it("charges nothing when the agent leaves before any content (only the role chunk arrived)", async () => {
    let release = () => {};
    upstream.setBehaviour({ streamGate: new Promise<void>((resolve) => (release = resolve)), streamGateAfterEvents: 1 });
    try {
      const before = await books();
      const left = await leaveStream("leave at the role chunk", (text) => text.includes('"role":"assistant"'));
      expect(left.text).not.toContain('"content":"one');
      expect(await left.upstreamOutcome).toBe("client-closed");
      expect(await finalStatus(left.requestId)).toBe("failed");
      const row = await gateway.runtime.deps.ledger.get(left.requestId);
      expect(row?.error).toMatch(/disconnected before any content/);
      expect(row?.txHash).toBeNull();
      expect(await books()).toEqual(before);
    } finally {
      release();
      upstream.resetBehaviour();
    }
  });
});

describe("a paid stream the upstream breaks", () => {
  it("charges nothing and ends with an upstream_error event, even after content was delivered", async () => {
    // The first word reaches the agent; only then does the upstream go on, and drop the connection.
    let release = () => {};
    upstream.setBehaviour({ streamGate: new Promise<void>((resolve) => (release = resolve)), dropAfterEvents: 3 });
    try {
      const before = await books();
      const res = await paying.fetch(`${gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "break after two words" }], max_tokens: 64, stream: true }),
      });
      const reader = res.body?.getReader();
      if (reader === undefined) throw new Error("no body");
      const decoder = new TextDecoder();
      let text = "";
      for (let step = await reader.read(); !step.done; step = await reader.read()) {
        text += decoder.decode(step.value, { stream: true });
        if (text.includes('"content":"one')) release();
      }
      expect(text).toContain('"content":"one');
      expect(text).toMatch(/"code":"upstream_error"/);
      expect(text).not.toContain("PAYMENT-RESPONSE");
      const requestId = res.headers.get("x-tollgate-request-id") ?? "";
      expect(await finalStatus(requestId)).toBe("failed");
      expect(await books()).toEqual(before);
    } finally {
      release();
      upstream.resetBehaviour();
    }
  });

  it("settles a stream read to the end and hands the receipt over in the SSE comment", async () => {
    const receipts = paying.receipts.length;
    const res = await paying.fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "read it all" }], max_tokens: 64, stream: true }),
    });
    const text = await res.text();
    expect(text).toContain("data: [DONE]");
    expect(text).toMatch(/^: PAYMENT-RESPONSE /m);
    expect(paying.receipts.length).toBe(receipts + 1);
    expect(await finalStatus(res.headers.get("x-tollgate-request-id") ?? "")).toBe("settled");
  });
});
