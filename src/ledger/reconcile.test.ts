import { describe, expect, it } from "vitest";
import { reconcile, type ChainTransfer, type SettledCall } from "./reconcile.ts";

const PAY_TO = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc";
const ALICE = "0x90f79bf6eb2c4f870365e785982e1f101e93b906";
const BOB = "0x15d34aaf54267db7d7c367839aaf71a00a2c6a65";
const tx = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as const;
const upper = (hex: `0x${string}`): `0x${string}` => `0x${hex.slice(2).toUpperCase()}`;

function transfer(n: number, from: `0x${string}`, value: bigint, logIndex = 0): ChainTransfer {
  return { txHash: tx(n), logIndex, blockNumber: BigInt(100 + n), from, to: PAY_TO, value };
}

function call(id: string, payer: `0x${string}`, amount: bigint, txHash: `0x${string}` | null): SettledCall {
  return { id, payer, amount, txHash, settledAt: new Date("2024-05-01T10:00:00Z") };
}

describe("reconcile", () => {
  it("matches every call to the transfer of its transaction when payer and amount agree", () => {
    const result = reconcile({
      transfers: [transfer(1, ALICE, 1_500n), transfer(2, BOB, 700n)],
      // Hex case is only a checksum: it must not break a match.
      calls: [call("a", ALICE, 1_500n, tx(1)), call("b", upper(BOB), 700n, upper(tx(2)))],
    });
    expect(result.mismatches).toEqual([]);
    expect(result.matched.map((m) => m.call.id)).toEqual(["a", "b"]);
  });

  it("reports a transfer no settled call accounts for", () => {
    const stray = transfer(3, BOB, 42n);
    const result = reconcile({ transfers: [transfer(1, ALICE, 1_500n), stray], calls: [call("a", ALICE, 1_500n, tx(1))] });
    expect(result.mismatches).toEqual([{ kind: "transfer_without_row", transfer: stray }]);
  });

  it("reports a settled call whose transaction moved nothing to payTo, with the caller's note when it has one", () => {
    const lost = call("lost", ALICE, 1_500n, tx(9));
    const unhashed = call("unhashed", ALICE, 1_500n, null);
    const elsewhere = call("elsewhere", BOB, 10n, tx(8));
    const result = reconcile({ transfers: [], calls: [lost, unhashed, elsewhere], notes: new Map([[tx(9), "no such transaction on chain"]]) });
    expect(result.mismatches).toEqual([
      { kind: "row_without_transfer", call: lost, note: "no such transaction on chain" },
      { kind: "row_without_transfer", call: unhashed, note: "settled without a transaction hash" },
      { kind: "row_without_transfer", call: elsewhere, note: "no transfer to payTo in this transaction" },
    ]);
  });

  it("reports an amount that differs between the ledger and the chain", () => {
    const onChain = transfer(1, ALICE, 1_499n);
    const row = call("a", ALICE, 1_500n, tx(1));
    expect(reconcile({ transfers: [onChain], calls: [row] }).mismatches).toEqual([{ kind: "amount_mismatch", call: row, transfer: onChain }]);
  });

  it("reports a transaction that moved another payer's money as a payer mismatch, whatever the amount", () => {
    const onChain = transfer(1, BOB, 1_000n);
    const row = call("a", ALICE, 1_500n, tx(1));
    expect(reconcile({ transfers: [onChain], calls: [row] }).mismatches).toEqual([{ kind: "payer_mismatch", call: row, transfer: onChain }]);
  });

  it("lets one transfer pay for one call only: a second row claiming the same transaction is unpaid", () => {
    const onChain = transfer(1, ALICE, 1_500n);
    const first = call("a", ALICE, 1_500n, tx(1));
    const copy = call("b", ALICE, 1_500n, tx(1));
    const result = reconcile({ transfers: [onChain], calls: [first, copy] });
    expect(result.matched.map((m) => m.call.id)).toEqual(["a"]);
    expect(result.mismatches).toEqual([{ kind: "row_without_transfer", call: copy, note: "no transfer to payTo in this transaction" }]);
  });

  it("prefers the exact transfer when one transaction carries several to payTo", () => {
    const other = transfer(1, BOB, 5n, 0);
    const exact = transfer(1, ALICE, 1_500n, 1);
    const result = reconcile({ transfers: [other, exact], calls: [call("a", ALICE, 1_500n, tx(1))] });
    expect(result.matched.map((m) => m.transfer)).toEqual([exact]);
    expect(result.mismatches).toEqual([{ kind: "transfer_without_row", transfer: other }]);
  });

  it("reports a call its own receipt does not prove, and leaves that transaction's transfer to the call it belongs to", () => {
    // One multicall used Alice's nonce N1 for herself and settled her other authorization N2,
    // which paid payTo the same amount: the ledger must not count that one Transfer for both.
    const onChain = transfer(1, ALICE, 1_500n);
    const fooled = call("a", ALICE, 1_500n, tx(1));
    const real = call("b", ALICE, 1_500n, tx(1));
    const proofs = new Map([
      ["a", { state: "not_paid" as const, transaction: tx(1), reason: "the authorization moved 1500 units from alice to alice" }],
      ["b", { state: "paid" as const, transaction: tx(1) }],
    ]);
    const result = reconcile({ transfers: [onChain], calls: [fooled, real], proofs });
    expect(result.matched.map((m) => m.call.id)).toEqual(["b"]);
    expect(result.mismatches).toEqual([{ kind: "unproven_settlement", call: fooled, note: "the authorization moved 1500 units from alice to alice" }]);
  });

  it("calls a settlement unproven, not merely missing, when its mined transaction used the nonce otherwise", () => {
    const fooled = call("a", ALICE, 1_500n, tx(9));
    const proofs = new Map([["a", { state: "not_paid" as const, transaction: tx(9), reason: "moved 1 units to itself" }]]);
    expect(reconcile({ transfers: [], calls: [fooled], proofs }).mismatches).toEqual([{ kind: "unproven_settlement", call: fooled, note: "moved 1 units to itself" }]);
  });
});
