import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { decodePaymentRequiredHeader, decodePaymentResponseHeader } from "@x402/core/http";
import { toClientEvmSigner } from "@x402/evm";
import { UptoEvmScheme } from "@x402/evm/upto/client";
import OpenAI from "openai";
import { createWalletClient, http } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devUsdcAbi } from "../contracts-abi/abi.ts";
import { createPayingFetch } from "../examples/paying-fetch.ts";
import { devnetPrivateKey, devnetTestAccount } from "../src/devnet/accounts.ts";
import { devnetChain } from "../src/devnet/chain.ts";
import { CANONICAL_PERMIT2 } from "../src/devnet/contracts.ts";
import { parseUptoPayment } from "../src/payment/permit2-payload.ts";
import { chargeFor } from "../src/payment/pricing.ts";
import { runReconcileCli } from "../src/reconcile-cli.ts";
import { startFakeOpenAI, type FakeOpenAI } from "./fakes/openai-upstream.ts";
import { startTestGateway, type TestGateway } from "./support/gateway.ts";
import { approvePermit2, spendPermit2NonceElsewhere } from "./support/permit2.ts";
import { recordingPayingFetch } from "./support/recording-fetch.ts";

/**
 * x402 `upto` end to end on the devnet (issue 12): the gateway offers upto before exact, the
 * official @x402/fetch client with @x402/evm's upto scheme signs a Permit2 maximum, and the
 * gateway settles what the call cost by the usage the upstream reported: the transfer on chain,
 * the ledger's charge and the formula agree, below the maximum.
 */

const MODEL = "gpt-4o-mini";
const NETWORK = "eip155:84532";
let gateway: TestGateway;
let upstream: FakeOpenAI;

beforeAll(async () => {
  upstream = await startFakeOpenAI({ content: "Upto: pay for the tokens, not the cap." });
  gateway = await startTestGateway({ OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: upstream.url });
});

afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});

const balanceOf = (address: `0x${string}`) => gateway.publicClient.readContract({ address: gateway.dev.info.asset, abi: devUsdcAbi, functionName: "balanceOf", args: [address] });

/** A funded agent that approved Permit2 once (the scheme's one-time step), and its paying fetch. */
async function uptoAgent(n: number) {
  const account = devnetTestAccount(n);
  await gateway.dev.faucet(account.address, 5_000_000n);
  const rpc = gateway.dev.info.rpcUrl;
  const wallet = createWalletClient({ account, chain: devnetChain(rpc), transport: http(rpc, { retryCount: 0 }) });
  await approvePermit2({ wallet, publicClient: gateway.publicClient, token: gateway.dev.info.asset });
  return { account, fetch: uptoFetch(account).fetch };
}

/** @x402/fetch with the official upto client for `account`, recording each PAYMENT-SIGNATURE it sends. */
function uptoFetch(account: ReturnType<typeof devnetTestAccount>) {
  return recordingPayingFetch(new UptoEvmScheme(toClientEvmSigner(account, gateway.publicClient)), { network: NETWORK, asset: gateway.dev.info.asset });
}

/** The formula over the usage the ledger recorded from the upstream. */
function expectedCharge(row: { promptTokens: number | null; completionTokens: number | null; cachedPromptTokens: number | null; amount: bigint }) {
  const { markupBps, minPrice } = gateway.runtime.deps.pricing;
  const usage = { promptTokens: row.promptTokens ?? 0, completionTokens: row.completionTokens ?? 0, cachedPromptTokens: row.cachedPromptTokens ?? 0 };
  return chargeFor({ rates: gateway.runtime.deps.catalog.rates(MODEL), usage, markupBps, minPrice, maximum: row.amount });
}

describe("the 402", () => {
  it("offers upto first and exact second, for the same maximum, and keeps exact alone in the v1 body", async () => {
    const res = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "Hello" }], max_tokens: 512 }),
    });
    expect(res.status).toBe(402);
    const accepts = decodePaymentRequiredHeader(res.headers.get("PAYMENT-REQUIRED") ?? "").accepts;
    expect(accepts.map((a) => a.scheme)).toEqual(["upto", "exact"]);
    expect(accepts[0]?.amount).toBe(accepts[1]?.amount);
    expect(accepts[0]?.extra["facilitatorAddress"]).toMatch(/^0x[0-9a-f]{40}$/);
    // The devnet's facilitator takes EIP-2612 permits, so the 402 says so.
    expect(Object.keys(decodePaymentRequiredHeader(res.headers.get("PAYMENT-REQUIRED") ?? "").extensions ?? {})).toEqual(["eip2612GasSponsoring", "sign-in-with-x"]);
    const v1 = (await res.json()) as { accepts: Array<{ scheme: string }> };
    expect(v1.accepts.map((a) => a.scheme)).toEqual(["exact"]);
  });
});

describe("an upto call", () => {
  it("settles what the call cost by its usage, below the signed maximum, through @x402/fetch and openai", async () => {
    const agent = await uptoAgent(0);
    const before = await balanceOf(agent.account.address);
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "unused", fetch: agent.fetch, maxRetries: 0 });
    const { data, response } = await openai.chat.completions
      .create({ model: MODEL, messages: [{ role: "user", content: "Say something short about tolls" }], max_tokens: 2_000 })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe("Upto: pay for the tokens, not the cap.");
    const receipt = decodePaymentResponseHeader(response.headers.get("PAYMENT-RESPONSE") ?? "");
    expect(receipt.success).toBe(true);

    const row = await gateway.runtime.deps.ledger.get(response.headers.get("x-tollgate-request-id") ?? "");
    if (row == null || row.charged === null) throw new Error("no charged row");
    const paid = before - (await balanceOf(agent.account.address));
    expect(row.status).toBe("settled");
    expect(paid).toBe(row.charged);
    expect(row.charged).toBe(expectedCharge(row));
    expect(row.charged).toBeLessThan(row.amount);
    expect(response.headers.get("x-tollgate-charged")).not.toBe(response.headers.get("x-tollgate-max-price"));
    const usage = data.usage as unknown as { cost_details: { amount: string; maximum: string } };
    expect(usage.cost_details).toMatchObject({ amount: row.charged.toString(), maximum: row.amount.toString() });
  });

  it("is what the example agent's paying fetch picks when it registers upto and exact", async () => {
    const agent = await uptoAgent(5);
    const paying = createPayingFetch({
      privateKey: devnetPrivateKey(agent.account),
      allowedAsset: { network: NETWORK, asset: gateway.dev.info.asset },
      upto: { publicClient: gateway.publicClient },
    });
    const res = await paying.fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "Either will do" }], max_tokens: 1_000 }),
    });
    expect(res.status).toBe(200);
    const row = await gateway.runtime.deps.ledger.get(res.headers.get("x-tollgate-request-id") ?? "");
    expect(JSON.parse(row?.payment ?? "{}")).toMatchObject({ requirements: { scheme: "upto" } });
    expect(row?.charged).toBeLessThan(row?.amount ?? 0n);
    expect(paying.receipts.at(-1)?.success).toBe(true);
  });

  it("settles a stream read to the end at its usage, with the receipt in the SSE comment", async () => {
    const agent = await uptoAgent(1);
    const before = await balanceOf(agent.account.address);
    const res = await agent.fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "Stream a few words" }], max_tokens: 2_000, stream: true }),
    });
    const text = await res.text();
    expect(text).toContain("data: [DONE]");
    expect(text).toMatch(/^: PAYMENT-RESPONSE /m);
    const row = await gateway.runtime.deps.ledger.get(res.headers.get("x-tollgate-request-id") ?? "");
    if (row == null || row.charged === null) throw new Error("no charged row");
    expect(row.status).toBe("settled");
    expect(before - (await balanceOf(agent.account.address))).toBe(row.charged);
    expect(row.charged).toBe(expectedCharge(row));
    expect(row.charged).toBeLessThan(row.amount);
  });

  it("charges a stream the agent leaves after content began for the tokens generated until it left", async () => {
    const agent = await uptoAgent(4);
    let release = () => {};
    upstream.setBehaviour({ streamGate: new Promise<void>((resolve) => (release = resolve)) });
    try {
      const before = await balanceOf(agent.account.address);
      const controller = new AbortController();
      const res = await agent.fetch(`${gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "Start, then I leave" }], max_tokens: 2_000, stream: true }),
        signal: controller.signal,
      });
      const requestId = res.headers.get("x-tollgate-request-id") ?? "";
      const reader = res.body?.getReader();
      let text = "";
      while (!text.includes('"content":"Upto:')) {
        const step = await reader?.read();
        if (step === undefined || step.done) throw new Error("stream ended early");
        text += new TextDecoder().decode(step.value);
      }
      controller.abort();
      let row = await gateway.runtime.deps.ledger.get(requestId);
      for (let i = 0; i < 200 && row?.status !== "settled"; i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        row = await gateway.runtime.deps.ledger.get(requestId);
      }
      if (row == null || row.charged === null) throw new Error(`not settled: ${row?.status}`);
      expect(row.status).toBe("settled");
      expect(row.usageEstimated).toBe(true); // the upstream's usage chunk never came
      expect(row.charged).toBe(expectedCharge(row));
      expect(row.charged).toBeLessThan(row.amount);
      expect(before - (await balanceOf(agent.account.address))).toBe(row.charged);
    } finally {
      release();
      upstream.resetBehaviour();
    }
  });

  it("serves a payer that never approved Permit2: its EIP-2612 permit travels with the payment (gas sponsoring)", async () => {
    const account = devnetTestAccount(7);
    await gateway.dev.faucet(account.address, 5_000_000n);
    const allowance = () => gateway.publicClient.readContract({ address: gateway.dev.info.asset, abi: devUsdcAbi, functionName: "allowance", args: [account.address, CANONICAL_PERMIT2] });
    expect(await allowance()).toBe(0n);
    const before = await balanceOf(account.address);
    const res = await uptoFetch(account).fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "No approve transaction, please" }], max_tokens: 1_000 }),
    });
    expect(res.status).toBe(200);
    const row = await gateway.runtime.deps.ledger.get(res.headers.get("x-tollgate-request-id") ?? "");
    if (row == null || row.charged === null) throw new Error("no charged row");
    expect(row.status).toBe("settled");
    expect(JSON.parse(row.payment)).toMatchObject({ payload: { extensions: { eip2612GasSponsoring: { info: { from: account.address } } } } });
    expect(before - (await balanceOf(account.address))).toBe(row.charged);
    expect(await allowance()).toBeGreaterThan(0n); // the permit set it, paid for by the facilitator
  });

  it("refuses the same upto signature a second time, without calling the upstream", async () => {
    const agent = await uptoAgent(2);
    const { fetch: recording, sent } = uptoFetch(agent.account);
    const body = JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "Once only" }], max_tokens: 100 });
    expect((await recording(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body })).status).toBe(200);
    const upstreamCalls = upstream.requests.length;
    const replay = await fetch(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", "PAYMENT-SIGNATURE": sent[0] ?? "" }, body });
    expect(replay.status).toBe(409);
    expect(((await replay.json()) as { error: { code: string } }).error.code).toBe("payment_replayed");
    expect(upstream.requests.length).toBe(upstreamCalls);
  });
});

describe("concurrent upto calls from one wallet", () => {
  it("settle while the balance covers them, leave debts when it does not, and never record a charge that did not move", async () => {
    const account = devnetTestAccount(6);
    const rpc = gateway.dev.info.rpcUrl;
    const wallet = createWalletClient({ account, chain: devnetChain(rpc), transport: http(rpc, { retryCount: 0 }) });
    await approvePermit2({ wallet, publicClient: gateway.publicClient, token: gateway.dev.info.asset });
    const body = (i: number) => JSON.stringify({ model: MODEL, messages: [{ role: "user", content: `Concurrent ${i}` }], max_tokens: 2_000 });
    const quote = await fetch(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: body(0) });
    const maximum = BigInt(decodePaymentRequiredHeader(quote.headers.get("PAYMENT-REQUIRED") ?? "").accepts[0]?.amount ?? "0");
    // Enough for any one maximum, not for 12: each verify passes, the settlements run it down.
    await gateway.dev.faucet(account.address, maximum + maximum / 4n);
    const paying = uptoFetch(account).fetch;
    const [before, payToBefore] = await Promise.all([balanceOf(account.address), balanceOf(gateway.dev.info.payTo)]);

    const responses = await Promise.all(
      Array.from({ length: 12 }, (_, i) => paying(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: body(i + 1) })),
    );
    const rows = [];
    for (const res of responses) {
      await res.text();
      const row = await gateway.runtime.deps.ledger.get(res.headers.get("x-tollgate-request-id") ?? "");
      if (row !== undefined) rows.push({ row, status: res.status });
    }
    const settled = rows.filter(({ row }) => row.status === "settled");
    console.info(`concurrent upto: ${rows.map(({ row, status }) => `${row.status}/${status}`).join(" ")}`);
    const unpaid = rows.filter(({ row }) => row.status === "unpaid");
    // Served calls end settled or as debts; refusals before serving leave released rows.
    expect(rows.every(({ row }) => ["settled", "unpaid", "released"].includes(row.status))).toBe(true);
    expect(settled.every(({ status }) => status === 200)).toBe(true);
    expect(unpaid.every(({ status }) => status === 502)).toBe(true);
    expect(settled.length).toBeGreaterThan(0);
    expect(unpaid.length).toBeGreaterThan(0);
    const charged = settled.reduce((sum, { row }) => sum + (row.charged ?? 0n), 0n);
    expect(before - (await balanceOf(account.address))).toBe(charged);
    expect((await balanceOf(gateway.dev.info.payTo)) - payToBefore).toBe(charged);
  });
});

describe("the upto front-run", () => {
  it("records a debt, not a settlement, when the payer spends its permit's nonce elsewhere while the call runs", async () => {
    const agent = await uptoAgent(3);
    const { fetch: paying, sent } = uptoFetch(agent.account);

    let release = () => {};
    upstream.setBehaviour({ holdFirstByte: new Promise<void>((resolve) => (release = resolve)) });
    const payToBefore = await balanceOf(gateway.dev.info.payTo);
    try {
      const arrived = upstream.waitForRequests(upstream.requests.length + 1);
      const body = JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "Front-run me" }], max_tokens: 2_000 });
      const responding = paying(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body });
      await arrived;
      const payment = parseUptoPayment(JSON.parse(Buffer.from(sent[0] ?? "", "base64").toString("utf8")));
      const rpc = gateway.dev.info.rpcUrl;
      await spendPermit2NonceElsewhere({
        payer: agent.account,
        authorization: payment.authorization,
        wallet: createWalletClient({ account: agent.account, chain: devnetChain(rpc), transport: http(rpc, { retryCount: 0 }) }),
        publicClient: gateway.publicClient,
        chainId: 84532,
      });
      release();
      const res = await responding;
      expect(res.status).toBe(502);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("settlement_failed");
      const row = await gateway.runtime.deps.ledger.get(res.headers.get("x-tollgate-request-id") ?? "");
      expect(row).toMatchObject({ status: "unpaid", txHash: null });
      expect(row?.error).toMatch(/nonce consumed without paying payTo/);
      expect(await balanceOf(gateway.dev.info.payTo)).toBe(payToBefore);
    } finally {
      release();
      upstream.resetBehaviour();
    }
    const next = await agent.fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "And now?" }], max_tokens: 100 }),
    });
    expect(next.status).toBe(402);
    const refusal = (await next.json()) as { error: { code: string; owed: string } };
    expect(refusal.error.code).toBe("unpaid_debt");
    // The debt is what the call cost, not the maximum the payer signed.
    const debts = await gateway.runtime.deps.ledger.debts(agent.account.address);
    expect(debts.map((d) => d.charged)).not.toContain(null);
    expect(BigInt(refusal.error.owed)).toBe(debts.reduce((sum, d) => sum + (d.charged ?? 0n), 0n));
    expect(BigInt(refusal.error.owed)).toBeLessThan(debts.reduce((sum, d) => sum + d.amount, 0n));
  });
});

describe("npm run agent", () => {
  it("pays with upto (its permit instead of an approve) and prints the maximum, the charge and the usage", async () => {
    const repo = fileURLToPath(new URL("..", import.meta.url));
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ["--import", "tsx", "examples/agent.ts", "Write a haiku about tolls"], { cwd: repo, env: { ...process.env, TOLLGATE_URL: gateway.url } }, (error, out, err) =>
        resolve({ code: error === null ? 0 : Number(error.code ?? -1), stdout: out, stderr: err }),
      );
    });
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const field = (name: string) => new RegExp(`^${name}:\\s+(.+)$`, "m").exec(stdout)?.[1] ?? "";
    const maximum = Number(field("maximum").split(" ")[0]);
    const charged = Number(field("charged").split(" ")[0]);
    expect(charged).toBeGreaterThan(0);
    expect(charged).toBeLessThan(maximum);
    expect(field("usage")).toMatch(/^\d+ prompt \+ \d+ completion tokens$/);
    expect(field("settlement")).toMatch(/^0x[0-9a-f]{64} on eip155:84532$/);
  });
});

describe("npm run reconcile after upto calls", () => {
  it("finds every upto settlement proven by its own rule and its transfer equal to the charge", async () => {
    const { code, stdout } = await reconcileCliJson(["--from-block", "0", "--rpc", gateway.dev.info.rpcUrl, "--token", gateway.dev.info.asset, "--pay-to", gateway.dev.info.payTo, "--data-dir", gateway.dataDir, "--json"]);
    const report = JSON.parse(stdout) as { matched: number; mismatches: unknown[] };
    expect(report.mismatches).toEqual([]);
    expect(code).toBe(0);
    const upto = (await gateway.runtime.deps.ledger.listSettled({ since: new Date(0) })).filter((row) => JSON.parse(row.payment).requirements.scheme === "upto");
    expect(upto.length).toBeGreaterThan(3);
    expect(report.matched).toBeGreaterThanOrEqual(upto.length);
  });
});

async function reconcileCliJson(args: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = "";
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !["RPC_URL", "ASSET", "PAY_TO", "DATA_DIR", "DATABASE_URL"].includes(name)));
  const code = await runReconcileCli(args, env, { stdout: (text) => (stdout += text), stderr: () => {} });
  return { code, stdout };
}
