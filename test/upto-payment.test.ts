/**
 * The payment-layer building blocks for accepting x402 `upto` (issue 12 items 2-3), against the
 * real parts: permits signed by the official @x402/evm UptoEvmScheme client, settled by the
 * in-process facilitator (@x402/evm's upto facilitator) through the devnet's Permit2 and
 * x402UptoPermit2Proxy, and judged from the chain by the gateway's own code:
 * parseUptoPayment + verifyUptoLocally (before anything is reserved), and the chain reader's
 * uptoPaymentProof / permit2NonceFate (after settlement, or when its answer was lost).
 */
import { x402Client } from "@x402/core/client";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { PERMIT2_ADDRESS, toClientEvmSigner, uptoPermit2WitnessTypes, x402UptoPermit2ProxyAddress } from "@x402/evm";
import { UptoEvmScheme } from "@x402/evm/upto/client";
import { encodeAbiParameters, getAddress, keccak256, toHex, type Address, type Hash, type Hex } from "viem";
import type { HDAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { permit2Abi } from "../contracts-abi/abi.ts";
import { devnetTestAccount } from "../src/devnet/accounts.ts";
import { startDevChain, type DevChain } from "../src/devnet/chain.ts";
import { CANONICAL_PERMIT2, CANONICAL_X402_UPTO_PERMIT2_PROXY, mintUsdc } from "../src/devnet/contracts.ts";
import { TollgateError } from "../src/lib/errors.ts";
import { createChainReader, type ChainReader } from "../src/payment/chain-reader.ts";
import { createInProcessFacilitator, type InProcessFacilitator } from "../src/payment/facilitator.ts";
import { parseUptoPayment, type UptoAuthorization, type UptoSubmission } from "../src/payment/permit2-payload.ts";
import { verifyUptoLocally, type UptoVerifyInput } from "../src/payment/permit2-verify.ts";
import type { PaymentTerms } from "../src/payment/terms.ts";
import type { ExpectedUptoPayment } from "../src/payment/upto-payment-proof.ts";
import { approvePermit2, uptoRevertAbi } from "./support/permit2.ts";

const NETWORK = "eip155:84532" as const;
const FUNDS = 10_000_000n;
const MAX = 5_000_000n;

let dev: DevChain;
let facilitator: InProcessFacilitator;
let facilitatorAddress: Address;
let token: Address;
let terms: PaymentTerms;
let chain: ChainReader;

beforeAll(async () => {
  dev = await startDevChain();
  token = getAddress(dev.token);
  facilitator = createInProcessFacilitator({ wallet: dev.walletClientFor(dev.accounts.facilitator), network: NETWORK });
  const upto = (await facilitator.client.getSupported()).kinds.find((k) => k.scheme === "upto");
  facilitatorAddress = getAddress(String(upto?.extra?.facilitatorAddress));
  terms = {
    network: NETWORK,
    chainId: dev.chainId,
    v1Network: "base-sepolia",
    asset: token,
    assetName: "USDC",
    assetVersion: "2",
    payTo: dev.accounts.payTo.address,
    maxTimeoutSeconds: 300,
  };
  chain = createChainReader({ rpcUrl: dev.rpcUrl });
});

afterAll(async () => {
  await dev?.stop();
});

let nextPayer = 0;

async function payer(approved = true): Promise<HDAccount> {
  const account = devnetTestAccount(nextPayer++);
  await mintUsdc({ walletClient: dev.walletClientFor(dev.accounts.deployer), publicClient: dev.publicClient, token, to: account.address, amount: FUNDS });
  if (approved) {
    await approvePermit2({ wallet: dev.walletClientFor(account), publicClient: dev.publicClient, token });
  }
  return account;
}

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

/** The official client's payment, and what the gateway parses from it (the header's JSON round trip). */
async function pay(account: HDAccount, requirements: PaymentRequirements, sponsorPermit = false): Promise<{ payload: PaymentPayload; submission: UptoSubmission }> {
  const client = new x402Client().register(NETWORK, new UptoEvmScheme(toClientEvmSigner(account, dev.publicClient)));
  client.setSpendControls({ allowedAssets: [{ network: NETWORK, asset: token }] });
  const payload = await client.createPaymentPayload({
    x402Version: 2,
    resource: { url: "http://127.0.0.1:8402/v1/chat/completions" },
    accepts: [requirements],
    ...(sponsorPermit ? { extensions: { eip2612GasSponsoring: {} } } : {}),
  });
  return { payload, submission: parseUptoPayment(JSON.parse(JSON.stringify(payload))) };
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

function refusal(run: () => unknown): TollgateError {
  try {
    run();
  } catch (error) {
    if (error instanceof TollgateError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

/** A permit the payer signs by hand, as the official client signs (its exported types), with any fields. */
function signPermit(account: HDAccount, auth: UptoAuthorization): Promise<Hex> {
  return account.signTypedData({
    domain: { name: "Permit2", chainId: dev.chainId, verifyingContract: PERMIT2_ADDRESS },
    types: uptoPermit2WitnessTypes,
    primaryType: "PermitWitnessTransferFrom",
    message: auth,
  });
}

/** The payload JSON the official client would send for a hand-signed permit. */
function payloadOf(auth: UptoAuthorization, signature: Hex, requirements: PaymentRequirements): PaymentPayload {
  const s = (n: bigint) => n.toString();
  return {
    x402Version: 2,
    resource: { url: "http://127.0.0.1:8402/v1/chat/completions" },
    accepted: requirements,
    payload: {
      signature,
      permit2Authorization: {
        from: getAddress(auth.from),
        permitted: { token: getAddress(auth.permitted.token), amount: s(auth.permitted.amount) },
        spender: getAddress(auth.spender),
        nonce: s(auth.nonce),
        deadline: s(auth.deadline),
        witness: { to: getAddress(auth.witness.to), facilitator: getAddress(auth.witness.facilitator), validAfter: s(auth.witness.validAfter) },
      },
    },
  };
}

function expected(submission: UptoSubmission, amount: bigint): ExpectedUptoPayment {
  return { asset: token, payer: submission.authorization.from, payTo: dev.accounts.payTo.address, amount, authorization: submission.authorization };
}

async function settled(payload: PaymentPayload, requirements: PaymentRequirements, charge: bigint): Promise<Hash> {
  const result = await facilitator.client.settle(payload, { ...requirements, amount: charge.toString() });
  expect(result).toMatchObject({ success: true });
  return result.transaction as Hash;
}

describe("verifyUptoLocally against the official client's signature", () => {
  /** One payer signs every permit here: nothing in this block touches its balance or nonces. */
  let signer: Promise<HDAccount> | undefined;
  const verifier = () => (signer ??= payer());
  const input = (submission: UptoSubmission, overrides: Partial<UptoVerifyInput> = {}): UptoVerifyInput => ({
    terms,
    authorization: submission.authorization,
    signature: submission.signature,
    expectedMaximum: MAX,
    facilitatorAddress,
    nowSeconds: nowSeconds(),
    ...overrides,
  });

  it("accepts the official client's permit and recovers the payer (EIP-712 digest identical to what the client signed)", async () => {
    const account = await verifier();
    const { submission } = await pay(account, offer());

    expect(verifyUptoLocally(input(submission))).toEqual({ payer: account.address.toLowerCase(), signatureChecked: true });
  });

  it.each([
    ["permitted.token", (a: UptoAuthorization) => ({ ...a, permitted: { ...a.permitted, token: devnetTestAccount(15).address.toLowerCase() as Address } }), "unsupported_payment", "wrong_asset"],
    ["spender", (a: UptoAuthorization) => ({ ...a, spender: CANONICAL_PERMIT2.toLowerCase() as Address }), "payment_mismatch", "wrong_spender"],
    ["witness.to", (a: UptoAuthorization) => ({ ...a, witness: { ...a.witness, to: devnetTestAccount(15).address.toLowerCase() as Address } }), "payment_mismatch", "pay_to_mismatch"],
    ["witness.facilitator", (a: UptoAuthorization) => ({ ...a, witness: { ...a.witness, facilitator: devnetTestAccount(15).address.toLowerCase() as Address } }), "payment_mismatch", "facilitator_mismatch"],
    ["permitted.amount up", (a: UptoAuthorization) => ({ ...a, permitted: { ...a.permitted, amount: MAX + 1n } }), "payment_mismatch", "maximum_above_quote"],
    ["permitted.amount down", (a: UptoAuthorization) => ({ ...a, permitted: { ...a.permitted, amount: MAX - 1n } }), "payment_mismatch", "maximum_below_quote"],
    ["witness.validAfter into the future", (a: UptoAuthorization) => ({ ...a, witness: { ...a.witness, validAfter: BigInt(nowSeconds() + 120) } }), "payment_expired", "not_yet_valid"],
    ["deadline into the past", (a: UptoAuthorization) => ({ ...a, deadline: BigInt(nowSeconds() - 1) }), "payment_expired", "expired"],
    ["deadline to 10 s from now", (a: UptoAuthorization) => ({ ...a, deadline: BigInt(nowSeconds() + 10) }), "payment_expired", "expires_too_soon"],
    ["deadline past a day", (a: UptoAuthorization) => ({ ...a, deadline: BigInt(nowSeconds() + 86_400 + 60) }), "payment_expired", "valid_too_long"],
  ])("refuses a permit whose %s is not the gateway's terms", async (_field, change, code, reason) => {
    const { submission } = await pay(await verifier(), offer());

    expect(refusal(() => verifyUptoLocally(input(submission, { authorization: change(submission.authorization) })))).toMatchObject({ code, details: { reason } });
  });

  it.each([
    ["from", (a: UptoAuthorization) => ({ ...a, from: devnetTestAccount(15).address.toLowerCase() as Address })],
    ["nonce", (a: UptoAuthorization) => ({ ...a, nonce: a.nonce ^ 1n })],
    ["deadline, still inside the window", (a: UptoAuthorization) => ({ ...a, deadline: a.deadline + 1n })],
    ["witness.validAfter, still in the past", (a: UptoAuthorization) => ({ ...a, witness: { ...a.witness, validAfter: 1n } })],
  ])("refuses a permit whose signed %s was changed after signing (invalid_signature)", async (_field, change) => {
    const { submission } = await pay(await verifier(), offer());

    expect(refusal(() => verifyUptoLocally(input(submission, { authorization: change(submission.authorization) })))).toMatchObject({ code: "invalid_signature" });
  });

  it("refuses a permit signed for other terms when the gateway's terms are those others: the digest binds token, maximum, payTo, facilitator and chain", async () => {
    const other = devnetTestAccount(15).address;
    const { submission } = await pay(await verifier(), offer());
    const a = submission.authorization;
    const lower = other.toLowerCase() as Address;
    for (const [authorization, overrides] of [
      [{ ...a, permitted: { ...a.permitted, token: lower } }, { terms: { ...terms, asset: other } }],
      [{ ...a, permitted: { ...a.permitted, amount: MAX + 1n } }, { expectedMaximum: MAX + 1n }],
      [{ ...a, witness: { ...a.witness, to: lower } }, { terms: { ...terms, payTo: other } }],
      [{ ...a, witness: { ...a.witness, facilitator: lower } }, { facilitatorAddress: other }],
      [a, { terms: { ...terms, chainId: 8453 } }],
    ] as const) {
      expect(refusal(() => verifyUptoLocally(input(submission, { authorization, ...overrides })))).toMatchObject({ code: "invalid_signature" });
    }
  });

  it("leaves a smart-wallet-shaped signature to the facilitator (signatureChecked: false) and refuses a malformed one", async () => {
    const { submission } = await pay(await verifier(), offer());
    const smart = `0x${"11".repeat(96)}` as const;

    expect(verifyUptoLocally(input(submission, { signature: smart }))).toMatchObject({ signatureChecked: false });
    expect(refusal(() => verifyUptoLocally(input(submission, { signature: `0x${"11".repeat(66)}` })))).toMatchObject({
      code: "invalid_signature",
      details: { reason: "malformed_signature" },
    });
  });
});

describe("upto settlement proof and nonce fate, on the chain", () => {
  it("proves the facilitator's settlement of this permit, and finds it from the nonce alone", async () => {
    const account = await payer();
    const requirements = offer();
    const { payload, submission } = await pay(account, requirements);
    const nonce = submission.authorization.nonce;
    expect(await chain.permit2NonceUsed(account.address, nonce)).toBe(false);
    expect(await chain.permit2NonceFate({ asset: token, payer: account.address, payTo: terms.payTo, nonce })).toEqual({ state: "unused" });

    const tx = await settled(payload, requirements, 1_234_567n);

    expect(await chain.uptoPaymentProof(tx, expected(submission, 1_234_567n))).toEqual({ state: "paid", transaction: tx });
    expect(await chain.permit2NonceUsed(account.address, nonce)).toBe(true);
    expect(await chain.permit2NonceFate({ asset: token, payer: account.address, payTo: terms.payTo, nonce })).toEqual({ state: "transferred", transaction: tx });
    // The proof is for the charge that was settled, not for any other amount.
    expect(await chain.uptoPaymentProof(tx, expected(submission, 1_234_568n))).toMatchObject({ state: "not_paid", reason: expect.stringMatching(/amount 1234567/) });
  });

  it("proves a settleWithPermit (eip2612GasSponsoring) settlement the same way", async () => {
    const account = await payer(false);
    const requirements = offer();
    const { payload, submission } = await pay(account, requirements, true);

    const tx = await settled(payload, requirements, 400_000n);

    expect(await chain.uptoPaymentProof(tx, expected(submission, 400_000n))).toEqual({ state: "paid", transaction: tx });
    expect(await chain.permit2NonceFate({ asset: token, payer: account.address, payTo: terms.payTo, nonce: submission.authorization.nonce })).toEqual({
      state: "transferred",
      transaction: tx,
    });
  });

  it("refuses the payer's front-run: the same Permit2 nonce spent through its own permit to itself, straight at Permit2", async () => {
    const account = await payer();
    const requirements = offer();
    const { payload, submission } = await pay(account, requirements);
    const a = submission.authorization;
    // The payer signs a second permit with the same nonce, naming itself as spender, and pulls 1 unit to itself.
    const own: UptoAuthorization = { ...a, spender: account.address.toLowerCase() as Address, witness: { ...a.witness, to: account.address.toLowerCase() as Address } };
    const witnessHash = keccak256(
      encodeAbiParameters(
        [{ type: "bytes32" }, { type: "address" }, { type: "address" }, { type: "uint256" }],
        [keccak256(toHex("Witness(address to,address facilitator,uint256 validAfter)")), own.witness.to, own.witness.facilitator, own.witness.validAfter],
      ),
    );
    const frontRun = await dev.walletClientFor(account).writeContract({
      address: CANONICAL_PERMIT2,
      abi: permit2Abi,
      functionName: "permitWitnessTransferFrom",
      args: [
        { permitted: { token, amount: a.permitted.amount }, nonce: a.nonce, deadline: a.deadline },
        { to: account.address, requestedAmount: 1n },
        account.address,
        witnessHash,
        "Witness witness)TokenPermissions(address token,uint256 amount)Witness(address to,address facilitator,uint256 validAfter)",
        await signPermit(account, own),
      ],
    });
    expect((await dev.publicClient.waitForTransactionReceipt({ hash: frontRun })).status).toBe("success");

    // Our settlement can no longer happen, and the nonce's fate says so without naming a payment.
    expect(await facilitator.client.settle(payload, { ...requirements, amount: "1000" })).toMatchObject({ success: false, transaction: "" });
    expect(await chain.permit2NonceUsed(account.address, a.nonce)).toBe(true);
    expect(await chain.permit2NonceFate({ asset: token, payer: account.address, payTo: terms.payTo, nonce: a.nonce })).toEqual({ state: "used_unknown" });
    // A facilitator that reported the front-run as our settlement is not believed.
    expect(await chain.uptoPaymentProof(frontRun, expected(submission, 1n))).toMatchObject({ state: "not_paid", reason: expect.stringMatching(/not a call to the x402 upto proxy/) });
  });

  it("refuses the payer's front-run through the facilitator itself: a second permit with the same nonce that pays the payer's other address", async () => {
    const account = await payer();
    const requirements = offer();
    const { payload, submission } = await pay(account, requirements);
    const elsewhere = devnetTestAccount(14).address;
    const a = submission.authorization;
    const other: UptoAuthorization = { ...a, witness: { ...a.witness, to: elsewhere.toLowerCase() as Address } };
    const otherRequirements = offer({ payTo: elsewhere });
    // A public facilitator settles any valid permit naming it; this one moves the money elsewhere.
    const stolen = await settled(payloadOf(other, await signPermit(account, other), otherRequirements), otherRequirements, 250_000n);

    expect(await chain.uptoPaymentProof(stolen, expected(submission, 250_000n))).toMatchObject({
      state: "not_paid",
      reason: expect.stringMatching(/witness\.to/),
    });
    expect(await facilitator.client.settle(payload, { ...requirements, amount: "250000" })).toMatchObject({ success: false });
    expect(await chain.permit2NonceFate({ asset: token, payer: account.address, payTo: terms.payTo, nonce: a.nonce })).toEqual({ state: "used_unknown" });
  });

  it("refuses a transaction that paid payTo the same amount for another permit of the same payer", async () => {
    const account = await payer();
    const requirements = offer();
    const ours = await pay(account, requirements);
    const another = await pay(account, requirements);
    const tx = await settled(another.payload, requirements, 777n);

    expect(await chain.uptoPaymentProof(tx, expected(ours.submission, 777n))).toMatchObject({ state: "not_paid", reason: expect.stringMatching(/nonce/) });
    expect(await chain.uptoPaymentProof(tx, expected(another.submission, 777n))).toEqual({ state: "paid", transaction: tx });
    expect(await chain.permit2NonceFate({ asset: token, payer: account.address, payTo: terms.payTo, nonce: ours.submission.authorization.nonce })).toEqual({ state: "unused" });
  });

  it("refuses someone else's settlement reported as ours, and a hash the chain does not know", async () => {
    const [mine, theirs] = [await payer(), await payer()];
    const requirements = offer();
    const ours = await pay(mine, requirements);
    const other = await pay(theirs, requirements);
    const tx = await settled(other.payload, requirements, 5_000n);

    expect(await chain.uptoPaymentProof(tx, expected(ours.submission, 5_000n))).toMatchObject({ state: "not_paid", reason: expect.stringMatching(/owner/) });
    const unknown = `0x${"42".repeat(32)}` as const;
    expect(await chain.uptoPaymentProof(unknown, expected(ours.submission, 5_000n))).toEqual({ state: "unknown", transaction: unknown });
  });

  it("refuses a mined but reverted settlement of this very permit", async () => {
    const account = await payer();
    const requirements = offer();
    const { payload, submission } = await pay(account, requirements);
    const a = submission.authorization;
    await settled(payload, requirements, 1_000n);
    // The facilitator sends the same settle again with a fixed gas limit and the node not mining
    // on send (hardhat would refuse the reverting transaction), so it is mined and reverts (InvalidNonce).
    await dev.testClient.setAutomine(false);
    const sent = dev.walletClientFor(dev.accounts.facilitator).writeContract({
      address: CANONICAL_X402_UPTO_PERMIT2_PROXY,
      abi: uptoRevertAbi,
      functionName: "settle",
      args: [
        { permitted: { token, amount: a.permitted.amount }, nonce: a.nonce, deadline: a.deadline },
        1_000n,
        account.address,
        { to: getAddress(a.witness.to), facilitator: getAddress(a.witness.facilitator), validAfter: a.witness.validAfter },
        submission.signature,
      ],
      gas: 300_000n,
    });
    let again: Hash;
    try {
      again = await sent;
      await dev.testClient.mine({ blocks: 1 });
    } finally {
      await dev.testClient.setAutomine(true);
    }
    expect((await dev.publicClient.waitForTransactionReceipt({ hash: again })).status).toBe("reverted");

    expect(await chain.uptoPaymentProof(again, expected(submission, 1_000n))).toMatchObject({ state: "not_paid", reason: "the transaction reverted" });
  });

  it("reports a nonce the payer invalidated as cancelled", async () => {
    const account = await payer();
    const requirements = offer();
    const { payload, submission } = await pay(account, requirements);
    const nonce = submission.authorization.nonce;
    const hash = await dev.walletClientFor(account).writeContract({
      address: CANONICAL_PERMIT2,
      abi: permit2Abi,
      functionName: "invalidateUnorderedNonces",
      args: [nonce >> 8n, 1n << (nonce & 0xffn)],
    });
    await dev.publicClient.waitForTransactionReceipt({ hash });

    expect(await chain.permit2NonceFate({ asset: token, payer: account.address, payTo: terms.payTo, nonce })).toEqual({ state: "cancelled" });
    expect(await facilitator.client.settle(payload, { ...requirements, amount: "1000" })).toMatchObject({ success: false });
  });

  it("uses the proxy @x402/evm hard-codes", () => {
    expect(CANONICAL_X402_UPTO_PERMIT2_PROXY).toBe(x402UptoPermit2ProxyAddress);
  });
});
