import { encodeAbiParameters, encodeEventTopics, parseAbi, type Log } from "viem";
import { describe, expect, it } from "vitest";
import { provePayment, type ExpectedPayment } from "./payment-proof.ts";

const abi = parseAbi([
  "event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce)",
  "event Transfer(address indexed from, address indexed to, uint256 value)",
]);

const asset = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
const otherToken = "0x036cbd53842c5426634e7929541ec2318f3dcf7e";
const payer = "0x90f79bf6eb2c4f870365e785982e1f101e93b906";
const payTo = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc";
const attacker = "0x15d34aaf54267db7d7c367839aaf71a00a2c6a65";
const nonce = `0x${"11".repeat(32)}` as const;
const otherNonce = `0x${"22".repeat(32)}` as const;
const tx = `0x${"ab".repeat(32)}` as const;
const expected: ExpectedPayment = { asset, payer, payTo, amount: 350n, nonce };

function used(authorizer: `0x${string}`, n: `0x${string}`, address: `0x${string}` = asset) {
  return { address, topics: encodeEventTopics({ abi, eventName: "AuthorizationUsed", args: { authorizer, nonce: n } }), data: "0x" as const };
}

function transfer(from: `0x${string}`, to: `0x${string}`, value: bigint, address: `0x${string}` = asset) {
  return { address, topics: encodeEventTopics({ abi, eventName: "Transfer", args: { from, to } }), data: encodeAbiParameters([{ type: "uint256" }], [value]) };
}

/** A receipt whose logs are `entries` in order, as an RPC returns them. */
function receipt(entries: Array<{ address: `0x${string}`; topics: unknown; data: `0x${string}` }>, status: "success" | "reverted" = "success") {
  const logs = entries.map((entry, logIndex) => ({ ...entry, logIndex, transactionHash: tx, blockNumber: 7n, blockHash: `0x${"cd".repeat(32)}`, transactionIndex: 0, removed: false }) as unknown as Log);
  return { transactionHash: tx, status, logs };
}

describe("provePayment", () => {
  it("proves a transferWithAuthorization that paid payTo exactly the charged amount", () => {
    expect(provePayment(receipt([used(payer, nonce), transfer(payer, payTo, 350n)]), expected)).toEqual({ state: "paid", transaction: tx });
  });

  it("accepts EIP-55 mixed-case addresses in the expectation", () => {
    const checksummed = { ...expected, payer: "0x90F79bf6EB2c4f870365E785982E1f101E93b906" as const };
    expect(provePayment(receipt([used(payer, nonce), transfer(payer, payTo, 350n)]), checksummed).state).toBe("paid");
  });

  it("refuses the front-run: the nonce used for a transfer back to the payer", () => {
    const proof = provePayment(receipt([used(payer, nonce), transfer(payer, payer, 1n)]), expected);
    expect(proof).toMatchObject({ state: "not_paid", reason: expect.stringMatching(/moved 1 units/) });
  });

  it("refuses a transfer of another amount, or to another address", () => {
    expect(provePayment(receipt([used(payer, nonce), transfer(payer, payTo, 349n)]), expected).state).toBe("not_paid");
    expect(provePayment(receipt([used(payer, nonce), transfer(payer, attacker, 350n)]), expected).state).toBe("not_paid");
  });

  it("refuses a reverted transaction whatever its logs", () => {
    expect(provePayment(receipt([used(payer, nonce), transfer(payer, payTo, 350n)], "reverted"), expected).state).toBe("not_paid");
  });

  it("refuses a transaction that paid payTo but never used this nonce (another call's settlement)", () => {
    expect(provePayment(receipt([used(payer, otherNonce), transfer(payer, payTo, 350n)]), expected)).toMatchObject({
      state: "not_paid",
      reason: expect.stringMatching(/does not use authorization/),
    });
  });

  it("does not lend one authorization's Transfer to another nonce in the same multicall", () => {
    // The attacker uses nonce N for itself, and in the same transaction settles another
    // authorization (N2) that really pays payTo the same amount. N2's Transfer is not N's.
    const multicall = receipt([used(payer, nonce), transfer(payer, attacker, 350n), used(payer, otherNonce), transfer(payer, payTo, 350n)]);
    expect(provePayment(multicall, expected).state).toBe("not_paid");
    expect(provePayment(multicall, { ...expected, nonce: otherNonce }).state).toBe("paid");
  });

  it("ignores look-alike events from another contract", () => {
    expect(provePayment(receipt([used(payer, nonce, otherToken), transfer(payer, payTo, 350n, otherToken)]), expected).state).toBe("not_paid");
    expect(provePayment(receipt([used(payer, nonce), transfer(payer, payTo, 350n, otherToken)]), expected).state).toBe("not_paid");
  });
});
