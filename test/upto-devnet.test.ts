/**
 * The x402 `upto` scheme end to end on the devnet, offline, as on Base Sepolia: the official
 * @x402/evm upto client signs (through @x402/core's x402Client), the gateway's in-process
 * facilitator (@x402/evm's upto facilitator) verifies and settles, and the devnet's Permit2,
 * x402UptoPermit2Proxy and DevUSDC move the money. Every outcome is read back from the chain.
 *
 * Phase-dependent amount (specs/schemes/upto/scheme_upto_evm.md §2): the requirements carry the
 * signed maximum at /verify and the actual charge at /settle.
 */
import { x402Client } from "@x402/core/client";
import type { PaymentPayload, PaymentRequirements, SettleResponse } from "@x402/core/types";
import { toClientEvmSigner, type UptoPermit2Payload } from "@x402/evm";
import { UptoEvmScheme } from "@x402/evm/upto/client";
import { getAddress, parseEventLogs, type Address, type Hash } from "viem";
import type { HDAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devUsdcAbi, x402UptoPermit2ProxyAbi } from "../contracts-abi/abi.ts";
import { devnetTestAccount } from "../src/devnet/accounts.ts";
import { startDevChain, type DevChain } from "../src/devnet/chain.ts";
import { CANONICAL_PERMIT2, CANONICAL_X402_UPTO_PERMIT2_PROXY, mintUsdc } from "../src/devnet/contracts.ts";
import { createInProcessFacilitator, type InProcessFacilitator } from "../src/payment/facilitator.ts";
import { approvePermit2, permit2NonceSpent, revertOf, uptoRevertAbi } from "./support/permit2.ts";

const NETWORK = "eip155:84532" as const;
const FUNDS = 10_000_000n; // 10 USDC per payer
const MAX = 5_000_000n; // the signed maximum: 5 USDC

let dev: DevChain;
let facilitator: InProcessFacilitator;
/** What the facilitator's /supported says its upto settler is (extra.facilitatorAddress). */
let facilitatorAddress: Address;
let token: Address;

beforeAll(async () => {
  dev = await startDevChain();
  token = getAddress(dev.token);
  facilitator = createInProcessFacilitator({ wallet: dev.walletClientFor(dev.accounts.facilitator), network: NETWORK });
  const upto = (await facilitator.client.getSupported()).kinds.find((k) => k.scheme === "upto");
  facilitatorAddress = getAddress(String(upto?.extra?.facilitatorAddress));
});

afterAll(async () => {
  await dev?.stop();
});

let nextPayer = 0;

/** A fresh payer holding FUNDS; `approved`: it sent the one-time approve(Permit2, max) (Phase 1, option A). */
async function payer(approved: boolean): Promise<HDAccount> {
  const account = devnetTestAccount(nextPayer++);
  await mintUsdc({ walletClient: dev.walletClientFor(dev.accounts.deployer), publicClient: dev.publicClient, token, to: account.address, amount: FUNDS });
  if (approved) {
    await approvePermit2({ wallet: dev.walletClientFor(account), publicClient: dev.publicClient, token });
  }
  return account;
}

/** What a resource server offers for upto (the spec's example 402, with the devnet's token). */
function offer(overrides: Partial<PaymentRequirements> = {}): PaymentRequirements {
  return {
    scheme: "upto",
    network: NETWORK,
    asset: token,
    amount: MAX.toString(),
    payTo: dev.accounts.payTo.address,
    maxTimeoutSeconds: 300,
    extra: { name: "USDC", version: "2", facilitatorAddress },
    ...overrides,
  };
}

/**
 * The official client's payment for `requirements`. `sponsorPermit`: the 402 declares the
 * eip2612GasSponsoring extension, so a payer without a Permit2 allowance signs an EIP-2612
 * permit instead. The signer reads the chain through the devnet's public client, without which
 * the client silently skips the permit (x402 issue #3458).
 */
async function pay(account: HDAccount, requirements: PaymentRequirements, sponsorPermit = false): Promise<PaymentPayload> {
  const client = new x402Client().register(NETWORK, new UptoEvmScheme(toClientEvmSigner(account, dev.publicClient)));
  // A v2 client pays only default assets (real USDC) until told about others.
  client.setSpendControls({ allowedAssets: [{ network: NETWORK, asset: token }] });
  return client.createPaymentPayload({
    x402Version: 2,
    resource: { url: "http://127.0.0.1:8402/v1/chat/completions" },
    accepts: [requirements],
    ...(sponsorPermit ? { extensions: { eip2612GasSponsoring: {} } } : {}),
  });
}

/** /settle for the actual cost: the same requirements with `amount` replaced (spec, Phase 4). */
function settle(payload: PaymentPayload, requirements: PaymentRequirements, actual: bigint): Promise<SettleResponse> {
  return facilitator.client.settle(payload, { ...requirements, amount: actual.toString() });
}

const balanceOf = (owner: Address) => dev.publicClient.readContract({ address: token, abi: devUsdcAbi, functionName: "balanceOf", args: [owner] });
const facilitatorTxCount = () => dev.publicClient.getTransactionCount({ address: dev.accounts.facilitator.address });

function permit2Nonce(payload: PaymentPayload): bigint {
  return BigInt((payload.payload as unknown as UptoPermit2Payload).permit2Authorization.nonce);
}

/**
 * Why the proxy refuses this payment right now, as the facilitator's own eth_call would see it,
 * decoded (the facilitator itself only reports a generic reason): the fact the test relies on.
 */
async function proxyRefusal(payload: PaymentPayload, amount: bigint): Promise<string> {
  const { permit2Authorization: a, signature } = payload.payload as unknown as UptoPermit2Payload;
  const call = dev.publicClient.simulateContract({
    account: dev.accounts.facilitator.address,
    address: CANONICAL_X402_UPTO_PERMIT2_PROXY,
    abi: uptoRevertAbi,
    functionName: "settle",
    args: [
      { permitted: { token: getAddress(a.permitted.token), amount: BigInt(a.permitted.amount) }, nonce: BigInt(a.nonce), deadline: BigInt(a.deadline) },
      amount,
      getAddress(a.from),
      { to: getAddress(a.witness.to), facilitator: getAddress(a.witness.facilitator), validAfter: BigInt(a.witness.validAfter) },
      signature,
    ],
  });
  return (await revertOf(call)).errorName;
}

/** The token Transfers of a settlement transaction, as (from, to, value). */
async function transfersIn(hash: Hash) {
  const receipt = await dev.publicClient.getTransactionReceipt({ hash: hash });
  expect(receipt.status).toBe("success");
  return parseEventLogs({ abi: devUsdcAbi, logs: receipt.logs, eventName: "Transfer" })
    .filter((log) => getAddress(log.address) === token)
    .map((log) => log.args);
}

describe("/supported", () => {
  it("lists v2 upto on eip155:84532 with extra.facilitatorAddress, beside the unchanged exact kinds, and eip2612GasSponsoring", async () => {
    const supported = await facilitator.client.getSupported();

    expect(supported.kinds).toContainEqual({ x402Version: 2, scheme: "upto", network: NETWORK, extra: { facilitatorAddress: dev.accounts.facilitator.address } });
    expect(supported.kinds.filter((k) => k.scheme === "upto")).toHaveLength(1); // upto has no v1
    expect(supported.kinds).toContainEqual({ x402Version: 2, scheme: "exact", network: NETWORK });
    expect(supported.kinds).toContainEqual({ x402Version: 1, scheme: "exact", network: "base-sepolia" });
    expect(supported.extensions).toEqual(["eip2612GasSponsoring"]);
    expect(supported.signers["eip155:*"]).toEqual([dev.accounts.facilitator.address]);
  });
});

describe("a payer who approved Permit2 once", () => {
  it("signs a maximum and is charged the actual cost: the chain's one Transfer equals the settled amount", async () => {
    const account = await payer(true);
    const requirements = offer();
    const payload = await pay(account, requirements);
    expect(payload.extensions).toBeUndefined(); // an allowance exists: no permit needed

    expect(await facilitator.client.verify(payload, requirements)).toEqual({ isValid: true, payer: account.address });
    const payToBefore = await balanceOf(requirements.payTo as Address);

    const result = await settle(payload, requirements, 1_234_567n);

    expect(result).toMatchObject({ success: true, network: NETWORK, payer: account.address, amount: "1234567" });
    expect(await transfersIn(result.transaction as Hash)).toEqual([{ from: account.address, to: requirements.payTo, value: 1_234_567n }]);
    expect(await balanceOf(account.address)).toBe(FUNDS - 1_234_567n);
    expect(await balanceOf(requirements.payTo as Address)).toBe(payToBefore + 1_234_567n);
    expect(await permit2NonceSpent(dev, account.address, permit2Nonce(payload))).toBe(true);
  });

  it("pays again with the same one approval (Permit2 nonces are per payment, the allowance stays)", async () => {
    const account = await payer(true);
    for (const actual of [10_000n, 20_000n]) {
      const requirements = offer();
      const payload = await pay(account, requirements);
      expect((await facilitator.client.verify(payload, requirements)).isValid).toBe(true);
      const result = await settle(payload, requirements, actual);
      expect(await transfersIn(result.transaction as Hash)).toEqual([{ from: account.address, to: requirements.payTo, value: actual }]);
    }
    expect(await balanceOf(account.address)).toBe(FUNDS - 30_000n);
  });
});

describe("a payer with no Permit2 allowance", () => {
  it("pays with an EIP-2612 permit instead of an approve transaction when the 402 declares eip2612GasSponsoring", async () => {
    const account = await payer(false);
    const requirements = offer();
    const payload = await pay(account, requirements, true);

    // The client signed a permit of Permit2 for the maximum, in the token's domain (USDC, 2).
    expect(payload.extensions?.eip2612GasSponsoring).toMatchObject({
      info: { from: account.address, asset: token, spender: CANONICAL_PERMIT2, amount: MAX.toString(), nonce: "0", version: "1" },
    });
    expect(await facilitator.client.verify(payload, requirements)).toEqual({ isValid: true, payer: account.address });

    const result = await settle(payload, requirements, 400_000n);

    expect(result).toMatchObject({ success: true, amount: "400000" });
    const receipt = await dev.publicClient.getTransactionReceipt({ hash: result.transaction as Hash });
    expect(parseEventLogs({ abi: x402UptoPermit2ProxyAbi, logs: receipt.logs, eventName: "SettledWithPermit" })).toHaveLength(1);
    expect(await transfersIn(result.transaction as Hash)).toEqual([{ from: account.address, to: requirements.payTo, value: 400_000n }]);
    // The payer never sent a transaction, and Permit2 keeps what is left of the permitted maximum.
    expect(await dev.publicClient.getTransactionCount({ address: account.address })).toBe(0);
    expect(await dev.publicClient.readContract({ address: token, abi: devUsdcAbi, functionName: "allowance", args: [account.address, CANONICAL_PERMIT2] })).toBe(
      MAX - 400_000n,
    );
  });

  it("is refused with permit2_allowance_required when the 402 does not declare the extension", async () => {
    const account = await payer(false);
    const requirements = offer();
    const payload = await pay(account, requirements, false);
    expect(payload.extensions).toBeUndefined();

    expect(await facilitator.client.verify(payload, requirements)).toEqual({
      isValid: false,
      invalidReason: "permit2_allowance_required",
      payer: account.address,
    });
    const txCount = await facilitatorTxCount();
    expect(await settle(payload, requirements, 1_000n)).toMatchObject({ success: false, errorReason: "permit2_allowance_required", transaction: "" });
    expect(await facilitatorTxCount()).toBe(txCount);
  });
});

describe("refusals", () => {
  it("refuses a permit whose deadline is under 6 s away by the facilitator's clock (permit2_deadline_expired), before any chain call", async () => {
    const account = await payer(true);
    const requirements = offer({ maxTimeoutSeconds: 5 }); // the client signs deadline = now + 5

    const payload = await pay(account, requirements);

    expect(await facilitator.client.verify(payload, requirements)).toMatchObject({ isValid: false, invalidReason: "permit2_deadline_expired" });
  });

  it("refuses a permit whose deadline has passed on chain (Permit2's SignatureExpired) as permit2_simulation_failed, sending nothing", async () => {
    const account = await payer(true);
    const requirements = offer();
    const payload = await pay(account, requirements);
    const snapshot = await dev.testClient.snapshot();
    try {
      // The chain's clock passes the deadline (now + 300) while the facilitator's does not.
      await dev.testClient.increaseTime({ seconds: 600 });
      await dev.testClient.mine({ blocks: 1 });
      const txCount = await facilitatorTxCount();
      expect(await proxyRefusal(payload, 1_000n)).toBe("SignatureExpired");

      expect(await facilitator.client.verify(payload, requirements)).toMatchObject({ isValid: false, invalidReason: "permit2_simulation_failed" });
      expect(await settle(payload, requirements, 1_000n)).toMatchObject({ success: false, errorReason: "permit2_simulation_failed", transaction: "" });
      expect(await facilitatorTxCount()).toBe(txCount);
    } finally {
      await dev.testClient.revert({ id: snapshot });
    }
  });

  it("refuses to settle more than the signed maximum (invalid_upto_evm_payload_settlement_exceeds_amount), sending nothing", async () => {
    const account = await payer(true);
    const requirements = offer();
    const payload = await pay(account, requirements);
    const txCount = await facilitatorTxCount();
    expect(await proxyRefusal(payload, MAX + 1n)).toBe("AmountExceedsPermitted");

    expect(await settle(payload, requirements, MAX + 1n)).toMatchObject({
      success: false,
      errorReason: "invalid_upto_evm_payload_settlement_exceeds_amount",
      transaction: "",
    });
    expect(await facilitatorTxCount()).toBe(txCount);
    expect(await permit2NonceSpent(dev, account.address, permit2Nonce(payload))).toBe(false);
  });

  it("refuses a permit whose witness names another facilitator (upto_facilitator_mismatch)", async () => {
    const account = await payer(true);
    const requirements = offer({ extra: { name: "USDC", version: "2", facilitatorAddress: devnetTestAccount(15).address } });
    const payload = await pay(account, requirements);
    expect(await proxyRefusal(payload, 1_000n)).toBe("UnauthorizedFacilitator"); // were our facilitator to send it anyway

    expect(await facilitator.client.verify(payload, requirements)).toMatchObject({ isValid: false, invalidReason: "upto_facilitator_mismatch" });
    expect(await settle(payload, requirements, 1_000n)).toMatchObject({ success: false, errorReason: "upto_facilitator_mismatch", transaction: "" });
  });

  it("refuses a payment settled before (Permit2's InvalidNonce) as permit2_simulation_failed, sending nothing", async () => {
    const account = await payer(true);
    const requirements = offer();
    const payload = await pay(account, requirements);
    expect((await settle(payload, requirements, 5_000n)).success).toBe(true);
    const txCount = await facilitatorTxCount();
    expect(await proxyRefusal(payload, 5_000n)).toBe("InvalidNonce");

    // The diagnosis reads balance and allowance, not Permit2's nonce bitmap, so the reason is generic.
    expect(await facilitator.client.verify(payload, requirements)).toMatchObject({ isValid: false, invalidReason: "permit2_simulation_failed" });
    expect(await settle(payload, requirements, 5_000n)).toMatchObject({ success: false, errorReason: "permit2_simulation_failed", transaction: "" });
    expect(await facilitatorTxCount()).toBe(txCount);
    expect(await balanceOf(account.address)).toBe(FUNDS - 5_000n);
  });

  it("refuses a payer whose balance is below the maximum (permit2_insufficient_balance), though the charge would fit", async () => {
    const account = await payer(true);
    const requirements = offer({ amount: (FUNDS + 1n).toString() });
    const payload = await pay(account, requirements);

    expect(await facilitator.client.verify(payload, requirements)).toMatchObject({ isValid: false, invalidReason: "permit2_insufficient_balance" });
    // The facilitator simulates the maximum, which the token refuses; the 1,000 charge alone would pass.
    expect(await proxyRefusal(payload, FUNDS + 1n)).toBe("ERC20InsufficientBalance");
    // Settle re-verifies against the signed maximum, not the charge (spec, Settle-Time Verification).
    expect(await settle(payload, requirements, 1_000n)).toMatchObject({ success: false, errorReason: "permit2_insufficient_balance" });
  });

  it("reports a second, concurrent settle of one payment that loses at Permit2 (InvalidNonce) only as an undecoded revert", async () => {
    const account = await payer(true);
    const requirements = offer();
    const payload = await pay(account, requirements);
    await dev.testClient.setAutomine(false);
    try {
      // The first settle's transaction waits in the mempool; the second passes the facilitator's
      // simulation (latest block) and then fails gas estimation against the pending one.
      const first = settle(payload, requirements, 1_000n);
      while ((await dev.publicClient.getBlock({ blockTag: "pending" })).transactions.length === 0) await dev.publicClient.getChainId();
      const second = await settle(payload, requirements, 2_000n);

      // @x402/evm's proxy ABI lacks Permit2's errors, so InvalidNonce() arrives as its selector
      // 0x756688fe under the exact scheme's generic code, not as permit2_invalid_nonce.
      expect(second).toMatchObject({ success: false, transaction: "" });
      expect(second.errorReason).toMatch(/^invalid_exact_evm_transaction_failed: .*0x756688fe/s);

      await dev.testClient.mine({ blocks: 1 });
      const won = await first;
      expect(await transfersIn(won.transaction as Hash)).toEqual([{ from: account.address, to: requirements.payTo, value: 1_000n }]);
    } finally {
      await dev.testClient.setAutomine(true);
    }
  });
});

describe("settling zero (for issue 12 item 5)", () => {
  it("answers success with no transaction and amount 0, leaving the Permit2 nonce unused", async () => {
    const account = await payer(true);
    const requirements = offer();
    const payload = await pay(account, requirements);
    const [txCount, block] = await Promise.all([facilitatorTxCount(), dev.publicClient.getBlockNumber()]);
    expect(await proxyRefusal(payload, 0n)).toBe("InvalidAmount"); // the proxy would refuse a zero transfer

    expect(await settle(payload, requirements, 0n)).toEqual({ success: true, transaction: "", network: NETWORK, payer: account.address, amount: "0" });

    expect(await facilitatorTxCount()).toBe(txCount);
    expect(await dev.publicClient.getBlockNumber()).toBe(block);
    expect(await permit2NonceSpent(dev, account.address, permit2Nonce(payload))).toBe(false);
    expect(await balanceOf(account.address)).toBe(FUNDS);
  });

  it("leaves the permit live: the same payload still settles later, up to the maximum, until its deadline", async () => {
    const account = await payer(true);
    const requirements = offer();
    const payload = await pay(account, requirements);
    expect((await settle(payload, requirements, 0n)).success).toBe(true);

    const later = await settle(payload, requirements, 3_000n);

    expect(later).toMatchObject({ success: true, amount: "3000" });
    expect(await transfersIn(later.transaction as Hash)).toEqual([{ from: account.address, to: requirements.payTo, value: 3_000n }]);
  });

  it("still re-verifies the signed maximum on chain: a payer who moved its funds away gets a failed zero settlement", async () => {
    const account = await payer(true);
    const requirements = offer();
    const payload = await pay(account, requirements);
    const drain = await dev.walletClientFor(account).writeContract({ address: token, abi: devUsdcAbi, functionName: "transfer", args: [devnetTestAccount(15).address, FUNDS - 1n] });
    await dev.publicClient.waitForTransactionReceipt({ hash: drain });

    expect(await settle(payload, requirements, 0n)).toMatchObject({ success: false, errorReason: "permit2_insufficient_balance", transaction: "" });
  });
});
