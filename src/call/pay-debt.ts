import type { SettleResponse } from "@x402/core/types";
import { TollgateError } from "../lib/errors.ts";
import { atomicToUsd } from "../lib/money.ts";
import type { Challenge } from "../payment/challenge.ts";
import { readPaymentHeader, type PaymentHeaders } from "../payment/header.ts";
import { bodyHash } from "../payment/quote.ts";
import type { CallDeps } from "./deps.ts";
import { markRepaid } from "./lifecycle.ts";
import { acceptFor, amountOwed, challengeFor, makeOffer, openPaidCall } from "./paid-call.ts";

/**
 * `calls` is how many calls the debt is for. Their request ids stay inside: the unpaid endpoint
 * answers anyone who names the wallet.
 */
export type DebtOutcome =
  | { kind: "clear" }
  | { kind: "payment_required"; owed: bigint; calls: number; challenge: Challenge }
  | { kind: "paid"; owed: bigint; calls: number; settlement: SettleResponse; version: 1 | 2 };

/**
 * Paying a wallet's debt: the calls whose settlement reverted because the payer drained its
 * balance or cancelled its authorization. The debt is priced and paid like any call (402, exact
 * payment for the sum), recorded as its own ledger row, and the unpaid rows become `repaid`.
 */
export async function payDebt(
  deps: CallDeps,
  input: { wallet: `0x${string}`; headers: PaymentHeaders; resourceUrl: string; requestId: string },
): Promise<DebtOutcome> {
  const debts = await deps.ledger.debts(input.wallet);
  if (debts.length === 0) return { kind: "clear" };
  const owed = amountOwed(debts);
  const calls = debts.map((row) => row.id);
  const { quoteExpiresAt: _, ...offer } = makeOffer(deps, {
    amount: owed,
    bodyHash: bodyHash({ debtOf: input.wallet.toLowerCase(), calls }),
    model: "debt",
    outputCap: 1,
    // A quote for anything else (a chat call's, say) never pays a debt.
    explicitModel: "debt",
    resourceUrl: input.resourceUrl,
    description: `Debt of ${input.wallet}: ${atomicToUsd(owed)} USDC for ${debts.length} call(s) whose settlement failed`,
  });

  const submission = readPaymentHeader(input.headers);
  if (submission === undefined) {
    return { kind: "payment_required", owed, calls: calls.length, challenge: challengeFor(deps, offer, "Payment of this wallet's debt is required") };
  }
  const paid = await acceptFor(deps, offer, submission);
  const call = await openPaidCall(deps, { paid, requestId: input.requestId, labels: { strategy: "debt", task: "debt" }, refuseDebtors: false });
  await call.servedWithoutUpstream();
  const settlement = await call.settle();
  if (settlement === undefined || !settlement.success) {
    throw new TollgateError("settlement_failed", "The debt payment did not settle yet; the debt stands until it does", { details: { reason: "pending" } });
  }
  await markRepaid(deps.ledger, debts, input.requestId, new Date(deps.now()));
  return { kind: "paid", owed, calls: calls.length, settlement, version: paid.version };
}
