/**
 * The devnet's Permit2 (SignatureTransfer) and x402UptoPermit2Proxy, called directly: each
 * check the upto spec (specs/schemes/upto/scheme_upto_evm.md) and Permit2 make on chain, with
 * signatures made exactly as @x402/evm's upto client makes them (its exported EIP-712 types and
 * addresses). test/upto-devnet.test.ts drives the same contracts through the facilitator.
 */
import { PERMIT2_ADDRESS, uptoPermit2WitnessTypes, x402UptoPermit2ProxyABI, x402UptoPermit2ProxyAddress } from "@x402/evm";
import {
  domainSeparator,
  getAddress,
  keccak256,
  maxUint256,
  parseEventLogs,
  parseSignature,
  serializeCompactSignature,
  signatureToCompactSignature,
  toHex,
  type Abi,
  type Address,
  type Hash,
  type Hex,
} from "viem";
import type { HDAccount } from "viem/accounts";
import { formatAbiItem } from "viem/utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  devUsdcAbi,
  permit2Abi,
  permit2DeployedBytecode,
  x402UptoPermit2ProxyAbi,
  x402UptoPermit2ProxyDeployedBytecode,
} from "../contracts-abi/abi.ts";
import { devnetTestAccount } from "../src/devnet/accounts.ts";
import { startDevChain, type DevChain } from "../src/devnet/chain.ts";
import { CANONICAL_PERMIT2, CANONICAL_X402_UPTO_PERMIT2_PROXY, mintUsdc } from "../src/devnet/contracts.ts";
import { approvePermit2 as approveForPermit2, permit2NonceSpent, revertOf, uptoRevertAbi } from "./support/permit2.ts";

let dev: DevChain;

interface Upto {
  owner: Address;
  token: Address;
  max: bigint;
  nonce: bigint;
  deadline: bigint;
  to: Address;
  facilitator: Address;
  validAfter: bigint;
}

beforeAll(async () => {
  dev = await startDevChain();
});

afterAll(async () => {
  await dev?.stop();
});

const chainNow = async (): Promise<bigint> => (await dev.publicClient.getBlock()).timestamp;
const balanceOf = (owner: Address) =>
  dev.publicClient.readContract({ address: dev.token, abi: devUsdcAbi, functionName: "balanceOf", args: [owner] });
const allowance = (owner: Address, spender: Address) =>
  dev.publicClient.readContract({ address: dev.token, abi: devUsdcAbi, functionName: "allowance", args: [owner, spender] });

let nextNonce = 1000n;

/** A payer holding `funds` USDC, and (unless told otherwise) Permit2 approved for everything once. */
async function payer(index: number, funds = 10_000_000n, approvePermit2 = true): Promise<HDAccount> {
  const account = devnetTestAccount(index);
  await mintUsdc({ walletClient: dev.walletClientFor(dev.accounts.deployer), publicClient: dev.publicClient, token: dev.token, to: account.address, amount: funds });
  if (approvePermit2) {
    await approveForPermit2({ wallet: dev.walletClientFor(account), publicClient: dev.publicClient, token: dev.token });
  }
  return account;
}

async function upto(owner: HDAccount, overrides: Partial<Upto> = {}): Promise<Upto> {
  return {
    owner: owner.address,
    token: dev.token,
    max: 5_000_000n,
    nonce: nextNonce++,
    deadline: (await chainNow()) + 300n,
    to: dev.accounts.payTo.address,
    facilitator: dev.accounts.facilitator.address,
    validAfter: 0n,
    ...overrides,
  };
}

/** The payer's signature, made as @x402/evm's upto client makes it (spender: the upto proxy). */
function sign(signer: HDAccount, u: Upto): Promise<Hex> {
  return signer.signTypedData({
    domain: { name: "Permit2", chainId: dev.chainId, verifyingContract: PERMIT2_ADDRESS },
    types: uptoPermit2WitnessTypes,
    primaryType: "PermitWitnessTransferFrom",
    message: {
      permitted: { token: u.token, amount: u.max },
      spender: x402UptoPermit2ProxyAddress,
      nonce: u.nonce,
      deadline: u.deadline,
      witness: { to: u.to, facilitator: u.facilitator, validAfter: u.validAfter },
    },
  });
}

function settleArgs(u: Upto, amount: bigint, signature: Hex) {
  return [
    { permitted: { token: u.token, amount: u.max }, nonce: u.nonce, deadline: u.deadline },
    amount,
    u.owner,
    { to: u.to, facilitator: u.facilitator, validAfter: u.validAfter },
    signature,
  ] as const;
}

/** proxy.settle sent by `caller` (the facilitator unless a test says otherwise); the receipt's hash. */
async function settle(u: Upto, amount: bigint, signature: Hex, caller: HDAccount = dev.accounts.facilitator): Promise<Hash> {
  const hash = await dev.walletClientFor(caller).writeContract({
    address: CANONICAL_X402_UPTO_PERMIT2_PROXY,
    abi: uptoRevertAbi,
    functionName: "settle",
    args: settleArgs(u, amount, signature),
  });
  expect((await dev.publicClient.waitForTransactionReceipt({ hash })).status).toBe("success");
  return hash;
}

describe("placement", () => {
  it("puts both contracts at the addresses @x402/evm hard-codes", async () => {
    expect(CANONICAL_PERMIT2).toBe(PERMIT2_ADDRESS);
    expect(CANONICAL_X402_UPTO_PERMIT2_PROXY).toBe(x402UptoPermit2ProxyAddress);
    expect(await dev.publicClient.getCode({ address: PERMIT2_ADDRESS })).toBe(permit2DeployedBytecode);
    expect(await dev.publicClient.getCode({ address: x402UptoPermit2ProxyAddress })).toBe(x402UptoPermit2ProxyDeployedBytecode);
    expect(
      await dev.publicClient.readContract({ address: x402UptoPermit2ProxyAddress, abi: x402UptoPermit2ProxyAbi, functionName: "PERMIT2" }),
    ).toBe(PERMIT2_ADDRESS);
  });

  it("computes Permit2's EIP-712 domain separator for this chain and address, with no constructor run", async () => {
    const separator = await dev.publicClient.readContract({ address: CANONICAL_PERMIT2, abi: permit2Abi, functionName: "DOMAIN_SEPARATOR" });
    expect(separator).toBe(domainSeparator({ domain: { name: "Permit2", chainId: 84532, verifyingContract: PERMIT2_ADDRESS } }));
  });

  it("offers every function, event and error of @x402/evm's proxy ABI, with the same signatures", () => {
    const signatures = (abi: Abi) => abi.map((item) => `${item.type} ${formatAbiItem(item)}`);
    const ours = new Set(signatures(x402UptoPermit2ProxyAbi));
    // InvalidPermit2Address is the canonical proxy's constructor check; with no constructor
    // (PERMIT2 is a constant here) it cannot happen.
    const theirs = signatures(x402UptoPermit2ProxyABI).filter((s) => s !== "error InvalidPermit2Address()");
    expect(theirs.filter((s) => !ours.has(s))).toEqual([]);
  });

  it("uses the witness type string that the client's EIP-712 types encode", async () => {
    const read = <F extends "WITNESS_TYPE_STRING" | "WITNESS_TYPEHASH">(functionName: F) =>
      dev.publicClient.readContract({ address: CANONICAL_X402_UPTO_PERMIT2_PROXY, abi: x402UptoPermit2ProxyAbi, functionName });
    // EIP-712 encodeType of uptoPermit2WitnessTypes, primary type first, the rest alphabetical.
    const encodeType = (name: keyof typeof uptoPermit2WitnessTypes) =>
      `${name}(${uptoPermit2WitnessTypes[name].map((f) => `${f.type} ${f.name}`).join(",")})`;
    expect(await read("WITNESS_TYPE_STRING")).toBe(`Witness witness)${encodeType("TokenPermissions")}${encodeType("Witness")}`);
    expect(await read("WITNESS_TYPEHASH")).toBe(keccak256(toHex(encodeType("Witness"))));
  });
});

describe("settle", () => {
  it("moves the settled amount, not the signed maximum, to the witness's payee and spends the nonce", async () => {
    const owner = await payer(0);
    const u = await upto(owner, { max: 5_000_000n });
    const before = await balanceOf(u.to);

    const hash = await settle(u, 1_234_567n, await sign(owner, u));

    const receipt = await dev.publicClient.getTransactionReceipt({ hash });
    const transfers = parseEventLogs({ abi: devUsdcAbi, logs: receipt.logs, eventName: "Transfer" });
    expect(transfers.map((log) => [log.address, log.args])).toEqual([[dev.token, { from: owner.address, to: u.to, value: 1_234_567n }]]);
    expect(parseEventLogs({ abi: x402UptoPermit2ProxyAbi, logs: receipt.logs, eventName: "Settled" })).toHaveLength(1);
    expect(await balanceOf(u.to)).toBe(before + 1_234_567n);
    expect(await balanceOf(owner.address)).toBe(10_000_000n - 1_234_567n);
    expect(await permit2NonceSpent(dev, owner.address, u.nonce)).toBe(true);
  });

  it("settles the full maximum, and accepts a 64-byte EIP-2098 signature", async () => {
    const owner = await payer(1);
    const u = await upto(owner, { max: 2_000_000n });
    const compact = serializeCompactSignature(signatureToCompactSignature(parseSignature(await sign(owner, u))));
    expect((compact.length - 2) / 2).toBe(64);

    await settle(u, 2_000_000n, compact);

    expect(await balanceOf(owner.address)).toBe(8_000_000n);
  });

  it("refuses a replayed nonce (InvalidNonce)", async () => {
    const owner = await payer(2);
    const u = await upto(owner);
    const signature = await sign(owner, u);
    await settle(u, 1_000n, signature);

    expect(await revertOf(settle(u, 1_000n, signature))).toEqual({ errorName: "InvalidNonce", args: [] });
  });

  it("refuses a permit whose deadline has passed (SignatureExpired)", async () => {
    const owner = await payer(3);
    const u = await upto(owner, { deadline: (await chainNow()) - 1n });

    expect(await revertOf(settle(u, 1_000n, await sign(owner, u)))).toEqual({ errorName: "SignatureExpired", args: [u.deadline] });
    expect(await permit2NonceSpent(dev, owner.address, u.nonce)).toBe(false);
  });

  it("refuses more than the signed maximum (AmountExceedsPermitted)", async () => {
    const owner = await payer(4);
    const u = await upto(owner, { max: 5_000_000n });

    expect(await revertOf(settle(u, 5_000_001n, await sign(owner, u)))).toEqual({ errorName: "AmountExceedsPermitted", args: [] });
  });

  it("refuses a settlement of zero, leaving the nonce unused (InvalidAmount)", async () => {
    const owner = await payer(5);
    const u = await upto(owner);

    expect(await revertOf(settle(u, 0n, await sign(owner, u)))).toEqual({ errorName: "InvalidAmount", args: [] });
    expect(await permit2NonceSpent(dev, owner.address, u.nonce)).toBe(false);
  });

  it("lets only the witness's facilitator settle (UnauthorizedFacilitator)", async () => {
    const owner = await payer(6);
    const u = await upto(owner);
    const signature = await sign(owner, u);

    expect(await revertOf(settle(u, 1_000n, signature, devnetTestAccount(15)))).toEqual({ errorName: "UnauthorizedFacilitator", args: [] });
    await settle(u, 1_000n, signature); // the named facilitator still can
  });

  it("refuses a witness changed after signing: another facilitator or another payee (InvalidSigner)", async () => {
    const owner = await payer(7);
    const u = await upto(owner);
    const signature = await sign(owner, u);
    const outsider = devnetTestAccount(15);

    expect(await revertOf(settle({ ...u, facilitator: outsider.address }, 1_000n, signature, outsider))).toEqual({ errorName: "InvalidSigner", args: [] });
    expect(await revertOf(settle({ ...u, to: outsider.address }, 1_000n, signature))).toEqual({ errorName: "InvalidSigner", args: [] });
    expect(await permit2NonceSpent(dev, owner.address, u.nonce)).toBe(false);
  });

  it("refuses a settlement before the witness's validAfter (PaymentTooEarly)", async () => {
    const owner = await payer(8);
    const u = await upto(owner, { validAfter: (await chainNow()) + 3600n });

    expect(await revertOf(settle(u, 1_000n, await sign(owner, u)))).toEqual({ errorName: "PaymentTooEarly", args: [] });
  });

  it("refuses a permit the payer withdrew with invalidateUnorderedNonces (InvalidNonce)", async () => {
    const owner = await payer(9);
    const u = await upto(owner, { nonce: (77n << 8n) | 5n });
    const signature = await sign(owner, u);
    const hash = await dev.walletClientFor(owner).writeContract({
      address: CANONICAL_PERMIT2,
      abi: permit2Abi,
      functionName: "invalidateUnorderedNonces",
      args: [77n, 1n << 5n],
    });
    const receipt = await dev.publicClient.waitForTransactionReceipt({ hash });
    expect(parseEventLogs({ abi: permit2Abi, logs: receipt.logs, eventName: "UnorderedNonceInvalidation" }).map((l) => l.args)).toEqual([
      { owner: owner.address, word: 77n, mask: 32n },
    ]);

    expect(await revertOf(settle(u, 1_000n, signature))).toEqual({ errorName: "InvalidNonce", args: [] });
  });

  it("cannot pull from a payer who never approved Permit2 (the token's ERC20InsufficientAllowance)", async () => {
    const owner = await payer(10, 10_000_000n, false);
    const u = await upto(owner);

    expect(await revertOf(settle(u, 1_000n, await sign(owner, u)))).toEqual({
      errorName: "ERC20InsufficientAllowance",
      args: [CANONICAL_PERMIT2, 0n, 1_000n],
    });
  });
});

describe("settleWithPermit (eip2612GasSponsoring)", () => {
  const permitTypes = {
    Permit: [
      { name: "owner", type: "address" },
      { name: "spender", type: "address" },
      { name: "value", type: "uint256" },
      { name: "nonce", type: "uint256" },
      { name: "deadline", type: "uint256" },
    ],
  } as const;

  /** The EIP-2612 permit of Permit2 that @x402/evm's client signs: value = the upto maximum. */
  async function permit2612(owner: HDAccount, value: bigint, deadline: bigint) {
    const nonce = await dev.publicClient.readContract({ address: dev.token, abi: devUsdcAbi, functionName: "nonces", args: [owner.address] });
    const signature = await owner.signTypedData({
      domain: { name: "USDC", version: "2", chainId: dev.chainId, verifyingContract: dev.token },
      types: permitTypes,
      primaryType: "Permit",
      message: { owner: owner.address, spender: PERMIT2_ADDRESS, value, nonce, deadline },
    });
    const { r, s, v } = parseSignature(signature);
    return { value, deadline, r, s, v: Number(v) };
  }

  async function settleWithPermit(p: Awaited<ReturnType<typeof permit2612>>, u: Upto, amount: bigint, signature: Hex): Promise<Hash> {
    const hash = await dev.walletClientFor(dev.accounts.facilitator).writeContract({
      address: CANONICAL_X402_UPTO_PERMIT2_PROXY,
      abi: uptoRevertAbi,
      functionName: "settleWithPermit",
      args: [p, ...settleArgs(u, amount, signature)],
    });
    expect((await dev.publicClient.waitForTransactionReceipt({ hash })).status).toBe("success");
    return hash;
  }

  it("approves Permit2 with the payer's signed permit and settles, in one transaction the payer pays no gas for", async () => {
    const owner = await payer(11, 10_000_000n, false);
    const u = await upto(owner, { max: 3_000_000n });
    const ethBefore = await dev.publicClient.getBalance({ address: owner.address });

    const hash = await settleWithPermit(await permit2612(owner, u.max, u.deadline), u, 1_500_000n, await sign(owner, u));

    const receipt = await dev.publicClient.getTransactionReceipt({ hash });
    expect(parseEventLogs({ abi: x402UptoPermit2ProxyAbi, logs: receipt.logs, eventName: "SettledWithPermit" })).toHaveLength(1);
    expect(await balanceOf(owner.address)).toBe(8_500_000n);
    // Permit2 was approved for the maximum and pulled the settled amount.
    expect(await allowance(owner.address, PERMIT2_ADDRESS)).toBe(1_500_000n);
    expect(await dev.publicClient.getBalance({ address: owner.address })).toBe(ethBefore);
  });

  it("refuses a permit for another value than the upto maximum (Permit2612AmountMismatch)", async () => {
    const owner = await payer(12, 10_000_000n, false);
    const u = await upto(owner, { max: 3_000_000n });

    expect(await revertOf(settleWithPermit(await permit2612(owner, maxUint256, u.deadline), u, 1_000n, await sign(owner, u)))).toEqual({
      errorName: "Permit2612AmountMismatch",
      args: [],
    });
  });

  it("still settles when the permit fails but an allowance exists, reporting why the permit failed", async () => {
    const owner = await payer(13); // approved Permit2 already
    const u = await upto(owner, { max: 3_000_000n });
    const stale = { ...(await permit2612(owner, u.max, u.deadline)), deadline: u.deadline + 1n }; // no longer matches its signature

    const hash = await settleWithPermit(stale, u, 1_000n, await sign(owner, u));

    const logs = (await dev.publicClient.getTransactionReceipt({ hash })).logs;
    expect(parseEventLogs({ abi: x402UptoPermit2ProxyAbi, logs, eventName: "EIP2612PermitFailedWithReason" }).map((l) => l.args)).toEqual([
      { token: getAddress(dev.token), owner: owner.address, reason: "DevUSDC: invalid signature" },
    ]);
    expect(await balanceOf(owner.address)).toBe(10_000_000n - 1_000n);
  });
});
