import {
  domainSeparator,
  parseEventLogs,
  parseSignature,
  toHex,
  type Address,
  type Hash,
  type Hex,
  type TypedDataDomain,
} from "viem";
import type { HDAccount } from "viem/accounts";
import { generatePrivateKey } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devUsdcAbi } from "../contracts-abi/abi.ts";
import { devnetTestAccount } from "../src/devnet/accounts.ts";
import { DEMO_AGENT_FUNDING, startDevChain, type DevChain } from "../src/devnet/chain.ts";
import { DEV_USDC_DOMAIN, mintUsdc } from "../src/devnet/contracts.ts";
import { TRANSFER_WITH_AUTHORIZATION_TYPES } from "./support/sign-payment.ts";

// EIP-3009 typed data, as x402 clients sign it; receiveWithAuthorization signs the same fields.
const authorizationFields = TRANSFER_WITH_AUTHORIZATION_TYPES.TransferWithAuthorization;
const types = {
  TransferWithAuthorization: authorizationFields,
  ReceiveWithAuthorization: authorizationFields,
  CancelAuthorization: [
    { name: "authorizer", type: "address" },
    { name: "nonce", type: "bytes32" },
  ],
} as const;

interface Authorization {
  from: Address;
  to: Address;
  value: bigint;
  validAfter: bigint;
  validBefore: bigint;
  nonce: Hex;
}

let dev: DevChain;
let domain: TypedDataDomain;

beforeAll(async () => {
  dev = await startDevChain();
  domain = { name: "USDC", version: "2", chainId: 84532, verifyingContract: dev.token };
});

afterAll(async () => {
  await dev?.stop();
});

const randomNonce = (): Hex => generatePrivateKey();

async function chainNow(): Promise<bigint> {
  return (await dev.publicClient.getBlock()).timestamp;
}

async function balanceOf(owner: Address): Promise<bigint> {
  return dev.publicClient.readContract({ address: dev.token, abi: devUsdcAbi, functionName: "balanceOf", args: [owner] });
}

async function isSpent(authorizer: Address, nonce: Hex): Promise<boolean> {
  return dev.publicClient.readContract({
    address: dev.token,
    abi: devUsdcAbi,
    functionName: "authorizationState",
    args: [authorizer, nonce],
  });
}

/** A fresh authorization from the demo agent (funded with 1000 USDC) to payTo, valid now. */
async function authorization(overrides: Partial<Authorization> = {}): Promise<Authorization> {
  const now = await chainNow();
  return {
    from: dev.accounts.demoAgent.address,
    to: dev.accounts.payTo.address,
    value: 1_250_000n,
    validAfter: now - 600n,
    validBefore: now + 300n,
    nonce: randomNonce(),
    ...overrides,
  };
}

function sign(
  signer: HDAccount,
  primaryType: "TransferWithAuthorization" | "ReceiveWithAuthorization",
  message: Authorization,
): Promise<Hex> {
  return signer.signTypedData({ domain, types, primaryType, message });
}

function vrs(signature: Hex): readonly [number, Hex, Hex] {
  const { v, r, s } = parseSignature(signature);
  if (v === undefined) throw new Error("expected a legacy (v = 27/28) signature");
  return [Number(v), r, s];
}

function args(a: Authorization) {
  return [a.from, a.to, a.value, a.validAfter, a.validBefore, a.nonce] as const;
}

/** Submits as the facilitator does: a third party pays the gas. */
async function submitTransfer(a: Authorization, signature: Hex, form: "vrs" | "bytes", gas?: bigint): Promise<Hash> {
  const wallet = dev.walletClientFor(dev.accounts.facilitator);
  const hash =
    form === "vrs"
      ? await wallet.writeContract({
          address: dev.token,
          abi: devUsdcAbi,
          functionName: "transferWithAuthorization",
          args: [...args(a), ...vrs(signature)],
          ...(gas === undefined ? {} : { gas }),
        })
      : await wallet.writeContract({
          address: dev.token,
          abi: devUsdcAbi,
          functionName: "transferWithAuthorization",
          args: [...args(a), signature],
          ...(gas === undefined ? {} : { gas }),
        });
  const receipt = await dev.publicClient.waitForTransactionReceipt({ hash });
  expect(receipt.status).toBe("success");
  return hash;
}

describe("DevUSDC token metadata", () => {
  it("has ERC-20 name() equal to its EIP-712 domain name, version 2 and 6 decimals", async () => {
    const read = <F extends "name" | "symbol" | "decimals" | "version" | "DOMAIN_SEPARATOR" | "eip712Domain">(
      functionName: F,
    ) => dev.publicClient.readContract({ address: dev.token, abi: devUsdcAbi, functionName });
    const [name, symbol, decimals, version, separator, eip712] = await Promise.all([
      read("name"),
      read("symbol"),
      read("decimals"),
      read("version"),
      read("DOMAIN_SEPARATOR"),
      read("eip712Domain"),
    ]);
    const [, domainName, domainVersion, chainId, verifyingContract] = eip712;

    expect(name).toBe("USDC");
    expect(domainName).toBe(name);
    expect(symbol).toBe("USDC");
    expect(decimals).toBe(6);
    expect(version).toBe("2");
    expect(domainVersion).toBe("2");
    expect({ name: domainName, version: domainVersion }).toEqual(DEV_USDC_DOMAIN); // what the gateway's 402s tell clients to sign
    expect(chainId).toBe(84532n);
    expect(verifyingContract.toLowerCase()).toBe(dev.token.toLowerCase());
    expect(separator).toBe(domainSeparator({ domain }));
  });
});

describe("transferWithAuthorization (EIP-3009)", () => {
  it.each(["vrs", "bytes"] as const)("moves exactly the signed amount (%s signature form)", async (form) => {
    const auth = await authorization({ value: 1_234_567n });
    const signature = await sign(dev.accounts.demoAgent, "TransferWithAuthorization", auth);
    const [fromBefore, toBefore] = await Promise.all([balanceOf(auth.from), balanceOf(auth.to)]);

    const hash = await submitTransfer(auth, signature, form);

    expect(await balanceOf(auth.from)).toBe(fromBefore - 1_234_567n);
    expect(await balanceOf(auth.to)).toBe(toBefore + 1_234_567n);
    const receipt = await dev.publicClient.getTransactionReceipt({ hash });
    const used = parseEventLogs({ abi: devUsdcAbi, logs: receipt.logs, eventName: "AuthorizationUsed" });
    expect(used.map((log) => log.args)).toEqual([{ authorizer: auth.from, nonce: auth.nonce }]);
  });

  it("marks the nonce as used in authorizationState", async () => {
    const auth = await authorization();
    const signature = await sign(dev.accounts.demoAgent, "TransferWithAuthorization", auth);
    expect(await isSpent(auth.from, auth.nonce)).toBe(false);

    await submitTransfer(auth, signature, "bytes");

    expect(await isSpent(auth.from, auth.nonce)).toBe(true);
  });

  it("refuses a nonce that was already used", async () => {
    const auth = await authorization();
    const signature = await sign(dev.accounts.demoAgent, "TransferWithAuthorization", auth);
    await submitTransfer(auth, signature, "vrs");

    await expect(submitTransfer(auth, signature, "vrs")).rejects.toThrow(/authorization is used or canceled/);
    await expect(submitTransfer(auth, signature, "bytes")).rejects.toThrow(/authorization is used or canceled/);
  });

  it("refuses an authorization whose validBefore has passed", async () => {
    const now = await chainNow();
    const auth = await authorization({ validAfter: now - 600n, validBefore: now - 1n });
    const signature = await sign(dev.accounts.demoAgent, "TransferWithAuthorization", auth);

    await expect(submitTransfer(auth, signature, "vrs")).rejects.toThrow(/authorization is expired/);
  });

  it("refuses an authorization whose validAfter is still ahead", async () => {
    const now = await chainNow();
    const auth = await authorization({ validAfter: now + 3600n, validBefore: now + 7200n });
    const signature = await sign(dev.accounts.demoAgent, "TransferWithAuthorization", auth);

    await expect(submitTransfer(auth, signature, "vrs")).rejects.toThrow(/authorization is not yet valid/);
  });

  it("treats validAfter and validBefore as exclusive bounds, like USDC", async () => {
    // Pin the mining block's timestamp; an explicit gas limit skips estimation, so the
    // transaction is mined (and reverts) in exactly that block.
    const gas = 200_000n;
    const at = async (t: bigint) => dev.testClient.setNextBlockTimestamp({ timestamp: t });

    let t = (await chainNow()) + 100n;
    const startsNow = await authorization({ validAfter: t, validBefore: t + 300n });
    await at(t);
    await expect(
      submitTransfer(startsNow, await sign(dev.accounts.demoAgent, "TransferWithAuthorization", startsNow), "vrs", gas),
    ).rejects.toThrow(/authorization is not yet valid/);

    t += 100n;
    const endsNow = await authorization({ validAfter: t - 300n, validBefore: t });
    await at(t);
    await expect(
      submitTransfer(endsNow, await sign(dev.accounts.demoAgent, "TransferWithAuthorization", endsNow), "vrs", gas),
    ).rejects.toThrow(/authorization is expired/);

    t += 100n;
    const justInside = await authorization({ validAfter: t - 1n, validBefore: t + 1n });
    await at(t);
    await submitTransfer(justInside, await sign(dev.accounts.demoAgent, "TransferWithAuthorization", justInside), "vrs", gas);
    expect(await isSpent(justInside.from, justInside.nonce)).toBe(true);
  });

  it.each(["vrs", "bytes"] as const)("refuses a signature by anyone other than from (%s form)", async (form) => {
    const auth = await authorization();
    const forged = await sign(devnetTestAccount(0), "TransferWithAuthorization", auth);
    const before = await balanceOf(auth.from);

    await expect(submitTransfer(auth, forged, form)).rejects.toThrow(/invalid signature/);
    expect(await balanceOf(auth.from)).toBe(before);
    expect(await isSpent(auth.from, auth.nonce)).toBe(false);
  });

  it("refuses a signature over different terms (a raised value)", async () => {
    const auth = await authorization({ value: 1_000_000n });
    const signature = await sign(dev.accounts.demoAgent, "TransferWithAuthorization", auth);

    await expect(submitTransfer({ ...auth, value: 2_000_000n }, signature, "bytes")).rejects.toThrow(/invalid signature/);
  });

  it("refuses to move more than the payer holds, saying so", async () => {
    const poor = devnetTestAccount(1);
    const auth = await authorization({ from: poor.address, value: 1n });
    const signature = await sign(poor, "TransferWithAuthorization", auth);

    await expect(submitTransfer(auth, signature, "bytes")).rejects.toThrow(/transfer amount exceeds balance/);
  });

  it("accepts a bytes signature that the payer's ERC-1271 wallet approves, and refuses one it rejects", async () => {
    // Minimal wallets, hand-assembled: isValidSignature returns the ERC-1271 magic value 0x1626ba7e
    // for every input (PUSH4 1626ba7e PUSH1 e0 SHL PUSH1 0 MSTORE PUSH1 20 PUSH1 0 RETURN), or zero.
    const approving: Address = "0x0000000000000000000000000000000000001271";
    const rejecting: Address = "0x0000000000000000000000000000000000001272";
    await dev.testClient.setCode({ address: approving, bytecode: "0x631626ba7e60e01b60005260206000f3" });
    await dev.testClient.setCode({ address: rejecting, bytecode: "0x60206000f3" });
    const deployer = dev.walletClientFor(dev.accounts.deployer);
    for (const wallet of [approving, rejecting]) {
      await mintUsdc({ walletClient: deployer, publicClient: dev.publicClient, token: dev.token, to: wallet, amount: 5_000_000n });
    }
    const opaqueSignature = toHex(new Uint8Array(96).fill(7));

    const approved = await authorization({ from: approving, value: 5_000_000n });
    await submitTransfer(approved, opaqueSignature, "bytes");
    expect(await balanceOf(approving)).toBe(0n);

    const refused = await authorization({ from: rejecting, value: 5_000_000n });
    await expect(submitTransfer(refused, opaqueSignature, "bytes")).rejects.toThrow(/invalid signature/);
  });
});

describe("cancelAuthorization (EIP-3009)", () => {
  it.each(["vrs", "bytes"] as const)("makes a later transfer with that nonce fail (%s form)", async (form) => {
    const auth = await authorization();
    const transferSignature = await sign(dev.accounts.demoAgent, "TransferWithAuthorization", auth);
    const cancelSignature = await dev.accounts.demoAgent.signTypedData({
      domain,
      types,
      primaryType: "CancelAuthorization",
      message: { authorizer: auth.from, nonce: auth.nonce },
    });

    const wallet = dev.walletClientFor(dev.accounts.facilitator);
    const hash =
      form === "vrs"
        ? await wallet.writeContract({
            address: dev.token,
            abi: devUsdcAbi,
            functionName: "cancelAuthorization",
            args: [auth.from, auth.nonce, ...vrs(cancelSignature)],
          })
        : await wallet.writeContract({
            address: dev.token,
            abi: devUsdcAbi,
            functionName: "cancelAuthorization",
            args: [auth.from, auth.nonce, cancelSignature],
          });
    const receipt = await dev.publicClient.waitForTransactionReceipt({ hash });
    const canceled = parseEventLogs({ abi: devUsdcAbi, logs: receipt.logs, eventName: "AuthorizationCanceled" });
    expect(canceled.map((log) => log.args)).toEqual([{ authorizer: auth.from, nonce: auth.nonce }]);
    expect(await isSpent(auth.from, auth.nonce)).toBe(true);

    await expect(submitTransfer(auth, transferSignature, form)).rejects.toThrow(/authorization is used or canceled/);
  });

  it("refuses a cancellation not signed by the authorizer", async () => {
    const auth = await authorization();
    const forged = await devnetTestAccount(0).signTypedData({
      domain,
      types,
      primaryType: "CancelAuthorization",
      message: { authorizer: auth.from, nonce: auth.nonce },
    });

    await expect(
      dev.walletClientFor(dev.accounts.facilitator).writeContract({
        address: dev.token,
        abi: devUsdcAbi,
        functionName: "cancelAuthorization",
        args: [auth.from, auth.nonce, forged],
      }),
    ).rejects.toThrow(/invalid signature/);
    expect(await isSpent(auth.from, auth.nonce)).toBe(false);
  });
});

describe("receiveWithAuthorization (EIP-3009)", () => {
  it("lets only the payee submit it", async () => {
    const auth = await authorization({ value: 750_000n });
    const signature = await sign(dev.accounts.demoAgent, "ReceiveWithAuthorization", auth);
    const call = { address: dev.token, abi: devUsdcAbi, functionName: "receiveWithAuthorization" } as const;

    await expect(
      dev.walletClientFor(dev.accounts.facilitator).writeContract({ ...call, args: [...args(auth), ...vrs(signature)] }),
    ).rejects.toThrow(/caller must be the payee/);

    const before = await balanceOf(auth.to);
    const hash = await dev.walletClientFor(dev.accounts.payTo).writeContract({ ...call, args: [...args(auth), signature] });
    expect((await dev.publicClient.waitForTransactionReceipt({ hash })).status).toBe("success");
    expect(await balanceOf(auth.to)).toBe(before + 750_000n);
  });

  it("refuses a TransferWithAuthorization signature (the type hashes differ)", async () => {
    const auth = await authorization();
    const signature = await sign(dev.accounts.demoAgent, "TransferWithAuthorization", auth);

    await expect(
      dev.walletClientFor(dev.accounts.payTo).writeContract({
        address: dev.token,
        abi: devUsdcAbi,
        functionName: "receiveWithAuthorization",
        args: [...args(auth), signature],
      }),
    ).rejects.toThrow(/invalid signature/);
  });
});

describe("permit (EIP-2612)", () => {
  // The EIP-2612 Permit type, spelled as in the EIP, signed in the token's one domain (USDC, 2).
  const permitTypes = {
    Permit: [
      { name: "owner", type: "address" },
      { name: "spender", type: "address" },
      { name: "value", type: "uint256" },
      { name: "nonce", type: "uint256" },
      { name: "deadline", type: "uint256" },
    ],
  } as const;

  interface PermitFields {
    owner: Address;
    spender: Address;
    value: bigint;
    nonce: bigint;
    deadline: bigint;
  }

  const nonceOf = (owner: Address) =>
    dev.publicClient.readContract({ address: dev.token, abi: devUsdcAbi, functionName: "nonces", args: [owner] });
  const allowance = (owner: Address, spender: Address) =>
    dev.publicClient.readContract({ address: dev.token, abi: devUsdcAbi, functionName: "allowance", args: [owner, spender] });

  async function permitFor(owner: HDAccount, overrides: Partial<PermitFields> = {}): Promise<PermitFields> {
    return {
      owner: owner.address,
      spender: devnetTestAccount(3).address,
      value: 7_000_000n,
      nonce: await nonceOf(owner.address),
      deadline: (await chainNow()) + 300n,
      ...overrides,
    };
  }

  /** Submits as a gas sponsor does: someone other than the owner sends it. */
  async function submitPermit(p: PermitFields, signature: Hex, gas?: bigint): Promise<void> {
    const hash = await dev.walletClientFor(dev.accounts.facilitator).writeContract({
      address: dev.token,
      abi: devUsdcAbi,
      functionName: "permit",
      args: [p.owner, p.spender, p.value, p.deadline, ...vrs(signature)],
      ...(gas === undefined ? {} : { gas }),
    });
    expect((await dev.publicClient.waitForTransactionReceipt({ hash })).status).toBe("success");
  }

  const signPermit = (signer: HDAccount, p: PermitFields) =>
    signer.signTypedData({ domain, types: permitTypes, primaryType: "Permit", message: p });

  it("sets the allowance the owner signed for, in the token's EIP-712 domain, and spends one nonce", async () => {
    const owner = devnetTestAccount(4);
    const p = await permitFor(owner, { value: 7_000_000n });
    expect(p.nonce).toBe(0n);

    await submitPermit(p, await signPermit(owner, p));

    expect(await allowance(owner.address, p.spender)).toBe(7_000_000n);
    expect(await nonceOf(owner.address)).toBe(1n);
  });

  it("refuses the same permit twice (its nonce is spent)", async () => {
    const owner = devnetTestAccount(5);
    const p = await permitFor(owner);
    const signature = await signPermit(owner, p);
    await submitPermit(p, signature);

    await expect(submitPermit(p, signature)).rejects.toThrow(/invalid signature/);
  });

  it("refuses a permit signed by anyone other than the owner, or in version 1 of the domain", async () => {
    const owner = devnetTestAccount(6);
    const p = await permitFor(owner);

    await expect(submitPermit(p, await signPermit(devnetTestAccount(0), p))).rejects.toThrow(/invalid signature/);
    // OpenZeppelin's ERC20Permit would have signed in version "1"; USDC (and DevUSDC) in "2".
    const versionOne = await owner.signTypedData({ domain: { ...domain, version: "1" }, types: permitTypes, primaryType: "Permit", message: p });
    await expect(submitPermit(p, versionOne)).rejects.toThrow(/invalid signature/);
    expect(await allowance(owner.address, p.spender)).toBe(0n);
    expect(await nonceOf(owner.address)).toBe(0n);
  });

  it("accepts a permit up to and including its deadline second, and refuses it after", async () => {
    const owner = devnetTestAccount(7);
    const gas = 200_000n; // skips estimation, so the transaction is mined in the pinned block
    let t = (await chainNow()) + 100n;
    const onTime = await permitFor(owner, { deadline: t });
    await dev.testClient.setNextBlockTimestamp({ timestamp: t });
    await submitPermit(onTime, await signPermit(owner, onTime), gas);

    t += 100n;
    const late = await permitFor(owner, { deadline: t - 1n, value: 1n });
    await dev.testClient.setNextBlockTimestamp({ timestamp: t });
    await expect(submitPermit(late, await signPermit(owner, late), gas)).rejects.toThrow(/permit is expired/);
    expect(await allowance(owner.address, late.spender)).toBe(onTime.value);
  });
});

describe("minting", () => {
  it("funds the demo agent with 1000 USDC at start", async () => {
    // Other tests spend from it, so read the Transfer from the zero address instead of the balance.
    const logs = await dev.publicClient.getContractEvents({
      address: dev.token,
      abi: devUsdcAbi,
      eventName: "Transfer",
      args: { from: "0x0000000000000000000000000000000000000000", to: dev.accounts.demoAgent.address },
      fromBlock: 0n,
    });
    expect(logs[0]?.args.value).toBe(DEMO_AGENT_FUNDING);
  });

  it("lets the minter mint", async () => {
    const to = devnetTestAccount(2).address;
    const before = await balanceOf(to);
    await mintUsdc({
      walletClient: dev.walletClientFor(dev.accounts.deployer),
      publicClient: dev.publicClient,
      token: dev.token,
      to,
      amount: 42n,
    });
    expect(await balanceOf(to)).toBe(before + 42n);
  });

  it("refuses mint from an account without MINTER_ROLE", async () => {
    const outsider = devnetTestAccount(0);
    await expect(
      mintUsdc({
        walletClient: dev.walletClientFor(outsider),
        publicClient: dev.publicClient,
        token: dev.token,
        to: outsider.address,
        amount: 1n,
      }),
    ).rejects.toThrow(/AccessControlUnauthorizedAccount/);
  });
});
