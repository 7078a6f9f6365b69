import { decodePaymentRequiredHeader } from "@x402/core/http";
import { createWalletClient, http, parseSignature } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devUsdcAbi } from "../contracts-abi/abi.ts";
import { devnetTestAccount } from "../src/devnet/accounts.ts";
import { devnetChain } from "../src/devnet/chain.ts";
import { startFakeOpenAI, type FakeOpenAI } from "./fakes/openai-upstream.ts";
import { startTestGateway, type TestGateway } from "./support/gateway.ts";
import { base64Json, signAuthorization } from "./support/sign-payment.ts";

/** One signed payment buys one call, however many times and however fast it is sent. */

const MODEL = "gpt-4o-mini";
const body = JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "One payment, one call" }], max_tokens: 16 });
let gateway: TestGateway;
let upstream: FakeOpenAI;

beforeAll(async () => {
  upstream = await startFakeOpenAI({ delayFirstByteMs: 50 });
  gateway = await startTestGateway({ OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: upstream.url });
});

afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});

const balanceOf = (address: `0x${string}`) =>
  gateway.publicClient.readContract({ address: gateway.dev.info.asset, abi: devUsdcAbi, functionName: "balanceOf", args: [address] });

async function signedHeader(agent: ReturnType<typeof devnetTestAccount>) {
  const challenge = await fetch(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body });
  const accepted = decodePaymentRequiredHeader(challenge.headers.get("PAYMENT-REQUIRED") ?? "").accepts.find((a) => a.scheme === "exact");
  if (accepted === undefined) throw new Error("no requirement");
  const signed = await signAuthorization(agent, { asset: gateway.dev.info.asset, chainId: 84532 }, { to: accepted.payTo as `0x${string}`, value: BigInt(accepted.amount) });
  return { header: base64Json({ x402Version: 2, accepted, payload: signed }), amount: BigInt(accepted.amount), signed };
}

describe("replay under concurrency", () => {
  it("serves and settles exactly one of 100 concurrent requests carrying the same payment", async () => {
    const agent = devnetTestAccount(12);
    await gateway.dev.faucet(agent.address, 5_000_000n);
    const { header, amount } = await signedHeader(agent);
    const before = await balanceOf(agent.address);
    const upstreamBefore = upstream.requests.length;

    const responses = await Promise.all(
      Array.from({ length: 100 }, () =>
        fetch(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", "PAYMENT-SIGNATURE": header }, body }),
      ),
    );
    const statuses = responses.map((r) => r.status);
    const codes = await Promise.all(responses.map(async (r) => (r.status === 200 ? "ok" : ((await r.json()) as { error: { code: string } }).error.code)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(codes.filter((c) => c === "payment_replayed")).toHaveLength(99);
    expect(upstream.requests.length - upstreamBefore).toBe(1);
    expect(before - (await balanceOf(agent.address))).toBe(amount);
    const wallet = await gateway.runtime.deps.ledger.wallet(agent.address);
    expect(wallet?.totals.calls).toBe(1);
    expect(wallet?.totals.spent).toBe(amount);
  });

  it("refuses a payment whose nonce was already used on chain, before any upstream call", async () => {
    const agent = devnetTestAccount(13);
    await gateway.dev.faucet(agent.address, 5_000_000n);
    const { header, signed } = await signedHeader(agent);
    // The agent (or anyone holding the signature) submits the authorization itself first.
    const { authorization: a, signature } = signed;
    const wallet = createWalletClient({
      account: agent,
      chain: devnetChain(gateway.dev.info.rpcUrl),
      transport: http(gateway.dev.info.rpcUrl, { retryCount: 0 }),
    });
    const { v, r, s } = parseSignature(signature);
    const tx = await wallet.writeContract({
      address: gateway.dev.info.asset,
      abi: devUsdcAbi,
      functionName: "transferWithAuthorization",
      args: [a.from, a.to as `0x${string}`, BigInt(a.value), BigInt(a.validAfter), BigInt(a.validBefore), a.nonce as `0x${string}`, Number(v), r, s],
    });
    await gateway.publicClient.waitForTransactionReceipt({ hash: tx });
    const upstreamBefore = upstream.requests.length;

    const res = await fetch(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", "PAYMENT-SIGNATURE": header }, body });
    expect(res.status).toBe(402);
    const error = (await res.json()) as { error: { code: string; message: string } };
    expect(error.error.code).toBe("payment_rejected");
    expect(error.error.message).toMatch(/nonce|used/i);
    expect(upstream.requests.length).toBe(upstreamBefore);
  });
});
