/**
 * Reconciliation of the ledger with the chain: a pure comparison of the token transfers that
 * reached payTo and the calls the ledger says were settled. Every settlement is one
 * transferWithAuthorization, so one transaction carries one Transfer to payTo; a call and a
 * transfer belong together when their transaction hashes agree, and agree in full when the
 * payer and the amount do too. A Transfer in the right transaction is still not this call's
 * payment unless it was made by this call's authorization (payment/payment-proof.ts): when the
 * caller read the receipts, a call its receipt does not prove claims no transfer and is reported.
 */
import type { PaymentProof } from "../payment/payment-proof.ts";
import type { TokenTransfer } from "../payment/token-transfers.ts";

/** An ERC-20 Transfer log to payTo, as payment/token-transfers.ts reads it from the chain. */
export type ChainTransfer = TokenTransfer;

/** The fields of a settled ledger row that reconciliation reads. */
export interface SettledCall {
  id: string;
  payer: `0x${string}`;
  amount: bigint;
  txHash: `0x${string}` | null;
  settledAt: Date | null;
}

export type Mismatch =
  /** Money arrived that no settled call accounts for (a lost ledger row, or a payment from outside). */
  | { kind: "transfer_without_row"; transfer: ChainTransfer }
  /** The ledger says a call was paid, but no transfer to payTo in the range carries its hash. */
  | { kind: "row_without_transfer"; call: SettledCall; note: string }
  | { kind: "amount_mismatch"; call: SettledCall; transfer: ChainTransfer }
  /** The transaction moved someone else's money (the amount may differ too). */
  | { kind: "payer_mismatch"; call: SettledCall; transfer: ChainTransfer }
  /** The call's transaction is mined but does not carry its payment (its nonce was used otherwise). */
  | { kind: "unproven_settlement"; call: SettledCall; note: string };

export interface Reconciliation {
  matched: Array<{ call: SettledCall; transfer: ChainTransfer }>;
  mismatches: Mismatch[];
}

export interface ReconcileInput {
  transfers: readonly ChainTransfer[];
  calls: readonly SettledCall[];
  /**
   * Why a call's transaction has no transfer here, by lowercased hash, when the caller looked it
   * up (say "no such transaction on chain"). Calls without a note get a generic one.
   */
  notes?: ReadonlyMap<string, string>;
  /** What each call's transaction receipt proves about its payment, by call id, when read. */
  proofs?: ReadonlyMap<string, PaymentProof>;
}

export function reconcile(input: ReconcileInput): Reconciliation {
  // Unclaimed transfers by transaction hash; a call claims at most one, and each only once.
  const unclaimed = new Map<string, ChainTransfer[]>();
  for (const transfer of input.transfers) {
    const key = transfer.txHash.toLowerCase();
    unclaimed.set(key, [...(unclaimed.get(key) ?? []), transfer]);
  }

  const matched: Reconciliation["matched"] = [];
  const mismatches: Mismatch[] = [];
  for (const call of input.calls) {
    if (call.txHash === null) {
      mismatches.push({ kind: "row_without_transfer", call, note: "settled without a transaction hash" });
      continue;
    }
    const proof = input.proofs?.get(call.id);
    const key = call.txHash.toLowerCase();
    const candidates = unclaimed.get(key) ?? [];
    const exact = candidates.findIndex((t) => sameAddress(t.from, call.payer) && t.value === call.amount);
    const index = exact >= 0 ? exact : 0;
    const transfer = candidates[index];
    if (transfer === undefined) {
      if (proof?.state === "not_paid") mismatches.push({ kind: "unproven_settlement", call, note: proof.reason });
      else mismatches.push({ kind: "row_without_transfer", call, note: input.notes?.get(key) ?? "no transfer to payTo in this transaction" });
      continue;
    }
    if (exact >= 0 && proof?.state === "not_paid") {
      // The right payer and amount reached payTo in this transaction, but through another
      // authorization: that transfer stays free for the call it belongs to.
      mismatches.push({ kind: "unproven_settlement", call, note: proof.reason });
      continue;
    }
    candidates.splice(index, 1);
    if (!sameAddress(transfer.from, call.payer)) mismatches.push({ kind: "payer_mismatch", call, transfer });
    else if (transfer.value !== call.amount) mismatches.push({ kind: "amount_mismatch", call, transfer });
    else matched.push({ call, transfer });
  }

  for (const transfer of [...unclaimed.values()].flat()) mismatches.push({ kind: "transfer_without_row", transfer });
  return { matched, mismatches };
}

function sameAddress(a: `0x${string}`, b: `0x${string}`): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
