import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { decodePaymentRequiredHeader, decodePaymentResponseHeader } from "@x402/core/http";
import { parseAbi } from "viem";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { devUsdcAbi } from "../contracts-abi/abi.ts";
import { devnetTestAccount } from "../src/devnet/accounts.ts";
import { startDevChain, type DevChain } from "../src/devnet/chain.ts";
import { mintUsdc } from "../src/devnet/contracts.ts";
import { createSettler } from "../src/call/settlement.ts";
import { startFakeOpenAI, type FakeOpenAI } from "./fakes/openai-upstream.ts";
import { startFacilitatorServer, type FacilitatorServer } from "./support/facilitator-server.ts";
import { startGatewayOnChain, type ChainGateway } from "./support/gateway.ts";
import { base64Json, relayDecoy, signAuthorization } from "./support/sign-payment.ts";

/**
 * Facilitator and chain faults around a paid call, on the devnet with real signatures. Before
 * serving, a fault means a clear 5xx and nothing charged; after serving, the call is recorded as
 * pending and settled later exactly once; a payer who drains or cancels between verify and
 * settle owes a debt and is refused until it is paid.
 */

const MODEL = "gpt-4o-mini";
let chain: DevChain;
let upstream: FakeOpenAI;
let facilitator: FacilitatorServer;
let gateway: ChainGateway;
let nextAccount = 0;

beforeAll(async () => {
  chain = await startDevChain();
  upstream = await startFakeOpenAI({ content: "Paid and served." });
  facilitator = await startFacilitatorServer(chain);
  gateway = await startGatewayOnChain({
    rpcUrl: chain.rpcUrl,
    asset: chain.token,
    payTo: chain.accounts.payTo.address,
    facilitatorUrls: [facilitator.url],
    env: { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: upstream.url, SETTLE_RETRY_INTERVAL_MS: "3600000" },
  });
});

afterAll(async () => {
  await gateway?.close();
  await facilitator?.close();
  await upstream?.close();
  await chain?.stop();
});

afterEach(() => {
  facilitator.fault = { verify: { kind: "none" }, settle: { kind: "none" } };
  facilitator.beforeSettle = undefined;
});

async function newAgent(amount = 2_000_000n) {
  const account = devnetTestAccount(nextAccount++);
  await mintUsdc({ walletClient: chain.walletClientFor(chain.accounts.deployer), publicClient: chain.publicClient, token: chain.token, to: account.address, amount });
  return account;
}

const balanceOf = (address: `0x${string}`) => chain.publicClient.readContract({ address: chain.token, abi: devUsdcAbi, functionName: "balanceOf", args: [address] });

async function paidCall(agent: ReturnType<typeof devnetTestAccount>, content: string, nonce?: `0x${string}`) {
  const body = JSON.stringify({ model: MODEL, messages: [{ role: "user", content }], max_tokens: 32 });
  const challenge = await fetch(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body });
  const accepted = decodePaymentRequiredHeader(challenge.headers.get("PAYMENT-REQUIRED") ?? "").accepts.find((a) => a.scheme === "exact");
  if (accepted === undefined) throw new Error("no requirement");
  const signed = await signAuthorization(agent, { asset: chain.token, chainId: 84532 }, { to: accepted.payTo as `0x${string}`, value: BigInt(accepted.amount), ...(nonce ? { nonce } : {}) });
  const res = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "PAYMENT-SIGNATURE": base64Json({ x402Version: 2, accepted, payload: signed }) },
    body,
  });
  return { res, amount: BigInt(accepted.amount), nonce: signed.authorization.nonce as `0x${string}`, requestId: res.headers.get("x-tollgate-request-id") ?? "" };
}

describe("facilitator faults before serving", () => {
  for (const fault of [{ kind: "status", status: 503 }, { kind: "malformed" }, { kind: "hang" }] as const) {
    it(`answers 503 and charges nothing when /verify ${fault.kind === "status" ? "fails with 503" : fault.kind === "hang" ? "times out" : "answers garbage"}`, async () => {
      const agent = await newAgent();
      facilitator.fault.verify = fault;
      const before = await balanceOf(agent.address);
      const upstreamCalls = upstream.requests.length;
      const { res, requestId } = await paidCall(agent, `verify fault ${fault.kind}`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("facilitator_unavailable");
      expect(upstream.requests.length).toBe(upstreamCalls);
      expect(await balanceOf(agent.address)).toBe(before);
      expect((await gateway.runtime.deps.ledger.get(requestId))?.status).toBe("released");
    });
  }
});

describe("facilitator faults after serving", () => {
  for (const fault of [{ kind: "status", status: 502 }, { kind: "malformed" }, { kind: "hang" }] as const) {
    it(`delivers the call, records it pending when /settle ${fault.kind === "hang" ? "times out" : fault.kind === "status" ? "fails with 502" : "answers garbage"}, and settles it once later`, async () => {
      const agent = await newAgent();
      facilitator.fault.settle = fault;
      const before = await balanceOf(agent.address);
      const { res, amount, requestId } = await paidCall(agent, `settle fault ${fault.kind}`);
      expect(res.status).toBe(200);
      const receipt = decodePaymentResponseHeader(res.headers.get("PAYMENT-RESPONSE") ?? "");
      expect(receipt).toMatchObject({ success: false, errorReason: "settlement_pending" });
      expect((await gateway.runtime.deps.ledger.get(requestId))?.status).toBe("pending");
      expect(await balanceOf(agent.address)).toBe(before);

      facilitator.fault.settle = { kind: "none" };
      const swept = await gateway.runtime.deps.settler.sweep();
      expect(swept.settled).toBeGreaterThanOrEqual(1);
      const row = await gateway.runtime.deps.ledger.get(requestId);
      expect(row?.status).toBe("settled");
      expect(row?.txHash).toMatch(/^0x[0-9a-f]{64}$/);
      expect(before - (await balanceOf(agent.address))).toBe(amount);
      // A second sweep finds nothing left to do: settlement is idempotent.
      expect((await gateway.runtime.deps.settler.sweep()).settled).toBe(0);
    });
  }

  it("settles at once when the facilitator reports settlement_pending but the transfer landed", async () => {
    const agent = await newAgent();
    facilitator.fault.settle = { kind: "report_pending" };
    const before = await balanceOf(agent.address);
    const { res, amount, requestId } = await paidCall(agent, "reported pending");
    expect(res.status).toBe(200);
    const receipt = decodePaymentResponseHeader(res.headers.get("PAYMENT-RESPONSE") ?? "");
    expect(receipt.success).toBe(true);
    const row = await gateway.runtime.deps.ledger.get(requestId);
    expect(row?.status).toBe("settled");
    expect(row?.txHash).toBe(receipt.transaction);
    expect(before - (await balanceOf(agent.address))).toBe(amount);
  });

  it("falls back to the next facilitator when the first is down", async () => {
    const fallback = await startGatewayOnChain({
      rpcUrl: chain.rpcUrl,
      asset: chain.token,
      payTo: chain.accounts.payTo.address,
      facilitatorUrls: ["http://127.0.0.1:9", facilitator.url],
      env: { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: upstream.url, SETTLE_RETRY_INTERVAL_MS: "3600000" },
    });
    try {
      const agent = await newAgent();
      const body = JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "fallback" }], max_tokens: 32 });
      const challenge = await fetch(`${fallback.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body });
      const accepted = decodePaymentRequiredHeader(challenge.headers.get("PAYMENT-REQUIRED") ?? "").accepts.find((a) => a.scheme === "exact");
      if (accepted === undefined) throw new Error("no requirement");
      const signed = await signAuthorization(agent, { asset: chain.token, chainId: 84532 }, { to: accepted.payTo as `0x${string}`, value: BigInt(accepted.amount) });
      const res = await fetch(`${fallback.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", "PAYMENT-SIGNATURE": base64Json({ x402Version: 2, accepted, payload: signed }) },
        body,
      });
      expect(res.status).toBe(200);
      expect(decodePaymentResponseHeader(res.headers.get("PAYMENT-RESPONSE") ?? "").success).toBe(true);
    } finally {
      await fallback.close();
    }
  });
});

describe("chain faults: the payer undoes the payment between verify and settle", () => {
  it("records a drained balance as a debt, refuses the wallet, and serves it again once the debt is paid", async () => {
    const agent = await newAgent(1_000_000n);
    facilitator.beforeSettle = async () => {
      const all = await balanceOf(agent.address);
      const wallet = chain.walletClientFor(agent);
      const hash = await wallet.writeContract({ address: chain.token, abi: devUsdcAbi, functionName: "transfer", args: [chain.accounts.deployer.address, all] });
      await chain.publicClient.waitForTransactionReceipt({ hash });
    };
    const { res, amount, requestId } = await paidCall(agent, "drain me");
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("settlement_failed");
    expect((await gateway.runtime.deps.ledger.get(requestId))?.status).toBe("unpaid");
    facilitator.beforeSettle = undefined;

    await mintUsdc({ walletClient: chain.walletClientFor(chain.accounts.deployer), publicClient: chain.publicClient, token: chain.token, to: agent.address, amount: 1_000_000n });
    const refused = await paidCall(agent, "may I?");
    expect(refused.res.status).toBe(402);
    const refusal = (await refused.res.json()) as { error: { code: string; message: string; owed: string } };
    expect(refusal.error.code).toBe("unpaid_debt");
    expect(refusal.error.owed).toBe(amount.toString());

    const debtUrl = `${gateway.url}/v1/debts/${agent.address}`;
    const challenge = await fetch(debtUrl, { method: "POST" });
    expect(challenge.status).toBe(402);
    const accepted = decodePaymentRequiredHeader(challenge.headers.get("PAYMENT-REQUIRED") ?? "").accepts.find((a) => a.scheme === "exact");
    if (accepted === undefined) throw new Error("no debt requirement");
    expect(accepted.amount).toBe(amount.toString());
    const signed = await signAuthorization(agent, { asset: chain.token, chainId: 84532 }, { to: accepted.payTo as `0x${string}`, value: amount });
    const paid = await fetch(debtUrl, { method: "POST", headers: { "PAYMENT-SIGNATURE": base64Json({ x402Version: 2, accepted, payload: signed }) } });
    expect(paid.status).toBe(200);
    expect((await gateway.runtime.deps.ledger.get(requestId))?.status).toBe("repaid");
    expect((await fetch(debtUrl, { method: "POST" })).status).toBe(200);

    const again = await paidCall(agent, "now?");
    expect(again.res.status).toBe(200);
  });

  it("records a cancelled authorization as a debt", async () => {
    const agent = await newAgent();
    const cancelAbi = parseAbi(["function cancelAuthorization(address authorizer, bytes32 nonce, bytes signature)"]);
    facilitator.beforeSettle = async (payload) => {
      const nonce = (payload.payload as { authorization: { nonce: `0x${string}` } }).authorization.nonce;
      const signature = await agent.signTypedData({
        domain: { name: "USDC", version: "2", chainId: 84532, verifyingContract: chain.token },
        types: { CancelAuthorization: [{ name: "authorizer", type: "address" }, { name: "nonce", type: "bytes32" }] },
        primaryType: "CancelAuthorization",
        message: { authorizer: agent.address, nonce },
      });
      const hash = await chain.walletClientFor(agent).writeContract({ address: chain.token, abi: cancelAbi, functionName: "cancelAuthorization", args: [agent.address, nonce, signature] });
      await chain.publicClient.waitForTransactionReceipt({ hash });
    };
    const before = await balanceOf(agent.address);
    const { res, requestId } = await paidCall(agent, "cancel me");
    expect(res.status).toBe(502);
    const row = await gateway.runtime.deps.ledger.get(requestId);
    expect(row?.status).toBe("unpaid");
    expect(row?.error).toMatch(/cancelled/);
    expect(await balanceOf(agent.address)).toBe(before);
  });
});

/** The payer's second authorization with the same nonce, to itself for 1 unit, relayed by the deployer. */
const decoyFor = (agent: ReturnType<typeof devnetTestAccount>, nonce: `0x${string}`) =>
  relayDecoy({ payer: agent, nonce, token: { asset: chain.token, chainId: 84532 }, relayer: chain.walletClientFor(chain.accounts.deployer), publicClient: chain.publicClient });

const randomNonce = () => `0x${randomBytes(32).toString("hex")}` as `0x${string}`;

describe("a settlement counts only when the money moved", () => {
  it("refuses a facilitator's success reply naming the payer's decoy transaction, and records a debt", async () => {
    const agent = await newAgent();
    const nonce = randomNonce();
    facilitator.beforeSettle = async () => {
      facilitator.fault.settle = { kind: "claim", transaction: await decoyFor(agent, nonce) };
    };
    const payToBefore = await balanceOf(chain.accounts.payTo.address);
    const { res, requestId } = await paidCall(agent, "lying facilitator", nonce);
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("settlement_failed");
    const row = await gateway.runtime.deps.ledger.get(requestId);
    expect(row).toMatchObject({ status: "unpaid", txHash: null });
    expect(row?.error).toMatch(/nonce consumed without paying payTo/);
    expect(await balanceOf(chain.accounts.payTo.address)).toBe(payToBefore);
    expect((await paidCall(agent, "and again?")).res.status).toBe(402);
  });

  it("does not take another call's real settlement as this call's: stays pending, then settles its own", async () => {
    const agent = await newAgent();
    const first = await paidCall(agent, "a real settlement");
    expect(first.res.status).toBe(200);
    const realTx = (await gateway.runtime.deps.ledger.get(first.requestId))?.txHash;
    if (realTx == null) throw new Error("first call did not settle");

    facilitator.fault.settle = { kind: "claim", transaction: realTx };
    const before = await balanceOf(agent.address);
    const second = await paidCall(agent, "same amount, same payer, replayed receipt");
    expect(second.res.status).toBe(200);
    expect(decodePaymentResponseHeader(second.res.headers.get("PAYMENT-RESPONSE") ?? "")).toMatchObject({ success: false, errorReason: "settlement_pending" });
    expect((await gateway.runtime.deps.ledger.get(second.requestId))?.status).toBe("pending");

    facilitator.fault.settle = { kind: "none" };
    await gateway.runtime.deps.settler.sweep();
    const row = await gateway.runtime.deps.ledger.get(second.requestId);
    expect(row?.status).toBe("settled");
    expect(row?.txHash).not.toBe(realTx);
    expect(before - (await balanceOf(agent.address))).toBe(second.amount);
  });

  it("records a pending call as expired, charging nothing, once its authorization ran out unused", async () => {
    const agent = await newAgent();
    facilitator.fault.settle = { kind: "status", status: 502 };
    const before = await balanceOf(agent.address);
    const { res, requestId } = await paidCall(agent, "pending until too late");
    expect(res.status).toBe(200);
    expect((await gateway.runtime.deps.ledger.get(requestId))?.status).toBe("pending");
    facilitator.fault.settle = { kind: "none" };
    // A settler an hour ahead: every authorization signed now has run out for it.
    const later = createSettler({ ...gateway.runtime.deps, now: () => Date.now() + 3_600_000 }, { abandonAfterMs: 3_600_000 });
    const settleCalls = facilitator.calls.settle;
    await later.sweep();
    expect(facilitator.calls.settle).toBe(settleCalls);
    expect(await gateway.runtime.deps.ledger.get(requestId)).toMatchObject({ status: "expired", txHash: null });
    expect(await balanceOf(agent.address)).toBe(before);
  });

  it("records a debt when the background sweep finds the nonce consumed by a decoy", async () => {
    const agent = await newAgent();
    const nonce = randomNonce();
    facilitator.fault.settle = { kind: "status", status: 502 };
    const { res, requestId } = await paidCall(agent, "pending, then front-run", nonce);
    expect(res.status).toBe(200);
    expect((await gateway.runtime.deps.ledger.get(requestId))?.status).toBe("pending");

    await decoyFor(agent, nonce);
    facilitator.fault.settle = { kind: "none" };
    const swept = await gateway.runtime.deps.settler.sweep();
    expect(swept.unpaid).toBeGreaterThanOrEqual(1);
    expect(await gateway.runtime.deps.ledger.get(requestId)).toMatchObject({ status: "unpaid", txHash: null });
    const refused = await paidCall(agent, "may I?");
    expect(refused.res.status).toBe(402);
    expect(((await refused.res.json()) as { error: { code: string } }).error.code).toBe("unpaid_debt");
  });
});

describe("settlement timing and chain outages", () => {
  async function withGateway(env: Record<string, string>, rpcUrl: string, run: (g: ChainGateway) => Promise<void>) {
    const g = await startGatewayOnChain({
      rpcUrl,
      asset: chain.token,
      payTo: chain.accounts.payTo.address,
      facilitatorUrls: [facilitator.url],
      env: { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: upstream.url, SETTLE_RETRY_INTERVAL_MS: "3600000", ...env },
    });
    const previous = gateway;
    gateway = g;
    try {
      await run(g);
    } finally {
      gateway = previous;
      await g.close();
    }
  }

  it("with SETTLE_TIMING=after_response answers before settling, then settles", async () => {
    await withGateway({ SETTLE_TIMING: "after_response" }, chain.rpcUrl, async (g) => {
      const agent = await newAgent();
      facilitator.fault.settle = { kind: "delay", ms: 300 };
      const before = await balanceOf(agent.address);
      const { res, amount, requestId } = await paidCall(agent, "answer first");
      expect(res.status).toBe(200);
      expect(res.headers.get("PAYMENT-RESPONSE")).toBeNull();
      expect((await g.runtime.deps.ledger.get(requestId))?.status).toBe("served");
      await g.runtime.deps.settler.stop(); // waits for the settlement in flight
      expect((await g.runtime.deps.ledger.get(requestId))?.status).toBe("settled");
      expect(before - (await balanceOf(agent.address))).toBe(amount);
    });
  });

  it("keeps a call pending while the RPC is down, even after the facilitator settles it, until the chain shows the transfer", async () => {
    const rpc = await startSwitchableRpc(chain.rpcUrl);
    try {
      await withGateway({}, rpc.url, async (g) => {
        const agent = await newAgent();
        rpc.down = true;
        facilitator.fault.settle = { kind: "status", status: 500 };
        const before = await balanceOf(agent.address);
        const { res, requestId, amount } = await paidCall(agent, "rpc down");
        expect(res.status).toBe(200);
        expect((await g.runtime.deps.ledger.get(requestId))?.status).toBe("pending");

        // The facilitator settles for real, but its word is not proof: the row stays pending.
        facilitator.fault.settle = { kind: "none" };
        await g.runtime.deps.settler.sweep();
        expect(before - (await balanceOf(agent.address))).toBe(amount);
        expect(await g.runtime.deps.ledger.get(requestId)).toMatchObject({ status: "pending", txHash: null });

        rpc.down = false;
        await g.runtime.deps.settler.sweep();
        const row = await g.runtime.deps.ledger.get(requestId);
        expect(row?.status).toBe("settled");
        expect(row?.txHash).toMatch(/^0x[0-9a-f]{64}$/);
      });
    } finally {
      await rpc.close();
    }
  });
});

/** A loopback JSON-RPC proxy to the devnet that can be switched off (every request then fails). */
async function startSwitchableRpc(target: string) {
  const server = createServer((req, res) => {
    if (state.down) {
      res.destroy();
      return;
    }
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    req.on("end", () => {
      fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body })
        .then(async (upstream) => res.writeHead(upstream.status, { "content-type": "application/json" }).end(await upstream.text()))
        .catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const state = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    down: false,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  return state;
}
