import { decodePaymentRequiredHeader } from "@x402/core/http";
import { x402Client } from "@x402/core/client";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { createSIWxClientExtension, wrapFetchWithSIWx } from "@x402/extensions/sign-in-with-x";
import { wrapFetchWithPayment } from "@x402/fetch";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devUsdcAbi } from "../contracts-abi/abi.ts";
import { devnetTestAccount } from "../src/devnet/accounts.ts";
import type { CallRow } from "../src/ledger/types.ts";
import { chargeFor } from "../src/payment/pricing.ts";
import { runReconcileCli } from "../src/reconcile-cli.ts";
import { startFakeOpenAI, type FakeOpenAI } from "./fakes/openai-upstream.ts";
import { raceOnHeldUpstream } from "./support/race.ts";
import { startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from "./support/gateway.ts";

/**
 * Credit for exact payers (issue 12 item 6), on the devnet with the official clients: an exact
 * call pays its price on chain and what it did not cost becomes credit; a wallet that signs in
 * with x402 sign-in-with-x gets calls its credit covers with no transaction, and a 402 reduced by
 * its credit otherwise; a proof is good once; concurrent calls never spend the same credit twice.
 */

const NETWORK = "eip155:84532";
const MODEL = "gpt-4o";
const CONTENT = "Credit: pay the price, keep the change.";
let gateway: TestGateway;
let upstream: FakeOpenAI;

beforeAll(async () => {
  upstream = await startFakeOpenAI({ content: CONTENT });
  gateway = await startTestGateway({ OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: upstream.url });
});

afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});

const ledger = () => gateway.runtime.deps.ledger;
const balanceOf = (address: `0x${string}`) => gateway.publicClient.readContract({ address: gateway.dev.info.asset, abi: devUsdcAbi, functionName: "balanceOf", args: [address] });
const chat = (content: string, maxTokens: number) => JSON.stringify({ model: MODEL, messages: [{ role: "user", content }], max_tokens: maxTokens });
const post = (body: string, headers: Record<string, string> = {}) => ({ method: "POST", headers: { "content-type": "application/json", ...headers }, body });
const url = () => `${gateway.url}/v1/chat/completions`;

/** A funded agent with the official clients: exact payments, sign-in-with-x, and both composed. */
async function agent(n: number) {
  const account = devnetTestAccount(n);
  await gateway.dev.faucet(account.address, 2_000_000n);
  const exactClient = () => new x402Client().register(NETWORK, new ExactEvmScheme(account)).setSpendControls({ allowedAssets: [{ network: NETWORK, asset: gateway.dev.info.asset }] });
  // Every SIGN-IN-WITH-X header the agent sends, to replay one later.
  const proofs: string[] = [];
  const recording: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const proof = request.headers.get("SIGN-IN-WITH-X");
    if (proof !== null) proofs.push(proof);
    return fetch(request);
  };
  return {
    account,
    proofs,
    /** Pays exact; signs in only when asked (the client extension's hook), so full credit serves for free. */
    signedIn: wrapFetchWithPayment(recording, exactClient().registerExtension(createSIWxClientExtension({ signers: [account] }))),
    /** Signs in first and pays the 402 that answers the proof: the one reduced by the wallet's credit. */
    signedInThenPays: wrapFetchWithPayment(wrapFetchWithSIWx(recording, account), exactClient()),
    /** Pays exact, never signs in. */
    exact: wrapFetchWithPayment(recording, exactClient()),
  };
}

async function rowOf(res: Response): Promise<CallRow> {
  const row = await ledger().get(res.headers.get("x-tollgate-request-id") ?? "");
  if (row === undefined) throw new Error("no ledger row for the response");
  return row;
}

function formulaCost(row: CallRow): bigint {
  const { markupBps, minPrice } = gateway.runtime.deps.pricing;
  const usage = { promptTokens: row.promptTokens ?? 0, completionTokens: row.completionTokens ?? 0, cachedPromptTokens: row.cachedPromptTokens ?? 0 };
  return chargeFor({ rates: gateway.runtime.deps.catalog.rates(row.model), usage, markupBps, minPrice, maximum: row.amount + (row.creditUsed ?? 0n) });
}

/** The 402's offers for `body`, asked with a sign-in proof the agent's SIWX fetch makes. */
async function quoteFor(body: string): Promise<bigint> {
  const res = await fetch(url(), post(body));
  expect(res.status).toBe(402);
  return BigInt(decodePaymentRequiredHeader(res.headers.get("PAYMENT-REQUIRED") ?? "").accepts.find((a) => a.scheme === "exact")?.amount ?? "0");
}

describe("credit for exact payers", () => {
  it("turns what an exact call did not cost into credit, spends it on a call with no transaction, then asks for payment again", async () => {
    const { account, signedIn, exact, proofs } = await agent(2);
    const payTo = gateway.dev.info.payTo;

    // 1. An exact call pays its price; the change becomes credit once the payment is in.
    const [payerBefore, payToBefore] = await Promise.all([balanceOf(account.address), balanceOf(payTo)]);
    const first = await exact(url(), post(chat("Earn some credit", 4_000)));
    expect(first.status).toBe(200);
    const earned = await rowOf(first);
    expect(earned).toMatchObject({ status: "settled", creditUsed: null });
    expect(earned.cost).toBe(formulaCost(earned));
    expect(earned.cost!).toBeLessThan(earned.amount);
    expect(payerBefore - (await balanceOf(account.address))).toBe(earned.amount);
    expect((await balanceOf(payTo)) - payToBefore).toBe(earned.amount);
    const credit = earned.amount - earned.cost!;
    expect(await ledger().creditBalance(account.address)).toBe(credit);
    expect(first.headers.get("x-tollgate-cost")).not.toBe(first.headers.get("x-tollgate-charged"));

    // 2. Signed in, a call the credit covers is served on the proof alone: no chain transaction.
    const price = await quoteFor(chat("Spend the credit", 1_000));
    expect(price).toBeLessThanOrEqual(credit);
    const [payerMid, payToMid] = await Promise.all([balanceOf(account.address), balanceOf(payTo)]);
    const covered = await signedIn(url(), post(chat("Spend the credit", 1_000)));
    expect(covered.status).toBe(200);
    expect(covered.headers.get("PAYMENT-RESPONSE")).toBeNull();
    expect(covered.headers.get("x-tollgate-credit-used")).not.toBeNull();
    const spent = await rowOf(covered);
    expect(spent).toMatchObject({ status: "settled", amount: 0n, creditUsed: price, charged: 0n, txHash: null, payer: account.address.toLowerCase() });
    expect(spent.cost).toBe(formulaCost(spent));
    expect(await balanceOf(account.address)).toBe(payerMid);
    expect(await balanceOf(payTo)).toBe(payToMid);
    expect(await ledger().creditBalance(account.address)).toBe(credit - spent.cost!);
    expect(proofs).toHaveLength(1);

    // 3. A replayed proof buys nothing: the same request with the same header gets a 402.
    const upstreamCalls = upstream.requests.length;
    const replay = await fetch(url(), post(chat("Spend the credit", 1_000), { "SIGN-IN-WITH-X": proofs[0]! }));
    expect(replay.status).toBe(402);
    expect(decodePaymentRequiredHeader(replay.headers.get("PAYMENT-REQUIRED") ?? "").error).toMatch(/already used/);
    expect(upstream.requests.length).toBe(upstreamCalls);
    expect(await ledger().creditBalance(account.address)).toBe(credit - spent.cost!);

    // A proof answers one challenge: its nonce is bound to the body and URL it was issued for.
    const elsewhere = await fetch(url(), post(chat("Another request entirely", 1_000), { "SIGN-IN-WITH-X": proofs[0]! }));
    expect(elsewhere.status).toBe(402);
    expect(decodePaymentRequiredHeader(elsewhere.headers.get("PAYMENT-REQUIRED") ?? "").error).toMatch(/invalid_siwx_nonce/);

    // 4. Credit that no longer covers the price: signed in, the agent gets a 402 again, with the
    // exact price reduced by its credit, first among the offers, and only its wallet can pay it.
    const left = await ledger().creditBalance(account.address);
    const big = chat("More than the credit", 16_000);
    const full = await quoteFor(big);
    expect(full).toBeGreaterThan(left);
    const probe = await wrapFetchWithSIWx(fetch, account)(url(), post(big));
    expect(probe.status).toBe(402);
    const reduced = decodePaymentRequiredHeader(probe.headers.get("PAYMENT-REQUIRED") ?? "");
    expect(reduced.accepts[0]).toMatchObject({ scheme: "exact", amount: (full - left).toString() });
    expect(reduced.error).toMatch(/credit/);
  });

  it("pays only the rest on chain when credit covers part of the price, and credits the change", async () => {
    const { account, exact, signedInThenPays } = await agent(3);
    const earnedRes = await exact(url(), post(chat("Earn a little credit", 2_000)));
    const earned = await rowOf(earnedRes);
    const credit = earned.amount - earned.cost!;
    const body = chat("Use credit and pay the rest", 8_000);
    const price = await quoteFor(body);
    expect(price).toBeGreaterThan(credit);

    const [payerBefore, payToBefore] = await Promise.all([balanceOf(account.address), balanceOf(gateway.dev.info.payTo)]);
    const res = await signedInThenPays(url(), post(body));
    expect(res.status).toBe(200);
    const row = await rowOf(res);
    expect(row).toMatchObject({ status: "settled", amount: price - credit, creditUsed: credit });
    expect(payerBefore - (await balanceOf(account.address))).toBe(price - credit);
    expect((await balanceOf(gateway.dev.info.payTo)) - payToBefore).toBe(price - credit);
    // Everything the call did not cost comes back: the credit it held and the on-chain part alike.
    expect(await ledger().creditBalance(account.address)).toBe(price - row.cost!);
  });

  it("refuses a quote that applies another wallet's credit", async () => {
    const owner = await agent(4);
    const thief = await agent(5);
    await owner.exact(url(), post(chat("Owner earns credit", 4_000)));
    const body = chat("Pay with someone else's credit", 8_000);
    const probe = await wrapFetchWithSIWx(fetch, owner.account)(url(), post(body));
    expect(probe.status).toBe(402);
    const reducedHeader = probe.headers.get("PAYMENT-REQUIRED") ?? "";
    // The thief pays the owner's reduced offer with its own wallet.
    const thiefClient = new x402Client().register(NETWORK, new ExactEvmScheme(thief.account)).setSpendControls({ allowedAssets: [{ network: NETWORK, asset: gateway.dev.info.asset }] });
    const replayed402: typeof fetch = async (input, init) => {
      const request = new Request(input, init);
      if (request.headers.get("PAYMENT-SIGNATURE") !== null) return fetch(request);
      return new Response("{}", { status: 402, headers: { "PAYMENT-REQUIRED": reducedHeader } });
    };
    const before = await ledger().creditBalance(owner.account.address);
    const res = await wrapFetchWithPayment(replayed402, thiefClient)(url(), post(body));
    expect(res.status).toBe(402);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("payment_mismatch");
    expect(await ledger().creditBalance(owner.account.address)).toBe(before);
  });

  it("never spends the same credit twice: concurrent credit-only calls serve exactly what the balance holds", async () => {
    const { account, exact } = await agent(6);
    await exact(url(), post(chat("Earn credit for a race", 16_000)));
    const body = (i: number) => chat(`Race ${String(i).padStart(2, "0")}`, 2_000);
    const price = await quoteFor(body(0));
    const balance = await ledger().creditBalance(account.address);
    const fits = Number(balance / price);
    expect(fits).toBeGreaterThanOrEqual(2);

    // Every hold is taken while the upstream holds its answer, so no change comes back mid-race.
    const signIn = wrapFetchWithSIWx(fetch, account);
    const responses = await raceOnHeldUpstream(upstream, () => Array.from({ length: fits + 4 }, (_, i) => signIn(url(), post(body(i + 1)))), 4, CONTENT);
    const served = responses.filter((res) => res.status === 200);
    expect(served).toHaveLength(fits);
    expect(responses.filter((res) => res.status === 402)).toHaveLength(4);
    const rows = await Promise.all(served.map(rowOf));
    const costs = rows.reduce((sum, row) => sum + row.cost!, 0n);
    expect(await ledger().creditBalance(account.address)).toBe(balance - costs);
  });

  it("works through the openai client: a credit-covered completion reports its cost and the credit used", async () => {
    const { account, exact, signedIn } = await agent(7);
    await exact(url(), post(chat("Earn credit for openai", 8_000)));
    const client = new OpenAI({ apiKey: "unused", baseURL: `${gateway.url}/v1`, fetch: signedIn, maxRetries: 0 });
    const before = await balanceOf(account.address);
    const completion = await client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "Hello on credit" }], max_tokens: 500 });
    expect(completion.choices[0]?.message.content).toBe(CONTENT);
    const details = (completion.usage as unknown as { cost_details: Record<string, string> }).cost_details;
    expect(BigInt(details["credit_used"] ?? "0")).toBeGreaterThan(0n);
    expect(await balanceOf(account.address)).toBe(before);
  });
});

describe("GET /v1/credits/:address", () => {
  it("shows the balance and its movements to the wallet that signs in, once per proof, and to no one else", async () => {
    const owner = await agent(8);
    const other = devnetTestAccount(9);
    await owner.exact(url(), post(chat("Earn credit to look at", 4_000)));
    const address = owner.account.address;

    const anonymous = await fetch(`${gateway.url}/v1/credits/${address}`);
    expect(anonymous.status).toBe(402);
    const challenge = decodePaymentRequiredHeader(anonymous.headers.get("PAYMENT-REQUIRED") ?? "");
    expect(challenge.accepts).toEqual([]);
    expect(challenge.extensions?.["sign-in-with-x"]).toBeDefined();

    // The official client: the sign-in hook answers the challenge, no payment is made.
    const sent: string[] = [];
    const client = new x402Client().registerExtension(createSIWxClientExtension({ signers: [owner.account] }));
    const res = await wrapFetchWithPayment(async (input, init) => {
      const request = new Request(input, init);
      const proof = request.headers.get("SIGN-IN-WITH-X");
      if (proof !== null) sent.push(proof);
      return fetch(request);
    }, client)(`${gateway.url}/v1/credits/${address}`);
    expect(res.status).toBe(200);
    const statement = (await res.json()) as { balance: { amount: string }; entries: Array<{ kind: string; amount: string }> };
    expect(BigInt(statement.balance.amount)).toBe(await ledger().creditBalance(address));
    expect(statement.entries.map((e) => e.kind)).toEqual(["change"]);
    // The operator sees the same balance, and each call's cost beside its price.
    const adminView = (await (await fetch(`${gateway.url}/admin/wallets/${address}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })).json()) as { credit: { amount: string }; recent: Array<{ cost: { amount: string } | null; maximum: { amount: string } }> };
    expect(adminView.credit.amount).toBe(statement.balance.amount);
    expect(BigInt(adminView.recent[0]?.maximum.amount ?? "0") - BigInt(adminView.recent[0]?.cost?.amount ?? "0")).toBe(BigInt(statement.balance.amount));

    const replay = await fetch(`${gateway.url}/v1/credits/${address}`, { headers: { "SIGN-IN-WITH-X": sent[0]! } });
    expect(replay.status).toBe(402);

    const stranger = await wrapFetchWithPayment(fetch, new x402Client().registerExtension(createSIWxClientExtension({ signers: [other] })))(`${gateway.url}/v1/credits/${address}`);
    expect(stranger.status).toBe(403);
    expect(((await stranger.json()) as { error: { code: string } }).error.code).toBe("sign_in_wrong_wallet");
  });

  it("leaves npm run reconcile clean: calls paid by credit alone have nothing on chain to compare", async () => {
    let stdout = "";
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !["RPC_URL", "ASSET", "PAY_TO", "DATA_DIR", "DATABASE_URL"].includes(name)));
    const code = await runReconcileCli(
      ["--rpc", gateway.dev.info.rpcUrl, "--pay-to", gateway.dev.info.payTo, "--token", gateway.dev.info.asset, "--data-dir", gateway.dataDir, "--from-block", "0", "--json"],
      env,
      { stdout: (text) => (stdout += text), stderr: () => {} },
    );
    const report = JSON.parse(stdout) as { clean: boolean; onCredit: number; mismatches: unknown[] };
    expect(report.mismatches).toEqual([]);
    expect(report.onCredit).toBeGreaterThan(0);
    expect(code).toBe(0);
  });
});
