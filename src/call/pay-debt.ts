import type { SettleResponse } from "@x402/core/types";
import { TollgateError } from "../lib/errors.ts";
import { atomicToUsd } from "../lib/money.ts";
import { buildChallenge, type Challenge } from "../payment/challenge.ts";
import { readPaymentHeader, type PaymentHeaders } from "../payment/header.ts";
import { bodyHash } from "../payment/quote.ts";
import { acceptPayment, offerFor, type Payable } from "./accept-payment.ts";
import type { CallDeps } from "./deps.ts";
import { issueQuote, receiptOf, reserveAndVerify, settleServed } from "./payment-steps.ts";

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
  const owed = debts.reduce((sum, row) => sum + row.amount, 0n);
  const calls = debts.map((row) => row.id);
  const hash = bodyHash({ debtOf: input.wallet.toLowerCase(), calls });
  const payable: Payable = {
    bodyHash: hash,
    quote: issueQuote(deps, { bodyHash: hash, model: "debt", amount: owed, cap: 1 }).quote,
    resourceUrl: input.resourceUrl,
    candidates: [{ model: "debt", outputCap: 1, price: owed }],
    decision: { task: "debt" },
    description: `Debt of ${input.wallet}: ${atomicToUsd(owed)} USDC for ${debts.length} call(s) whose settlement reverted`,
  };

  const submission = readPaymentHeader(input.headers);
  if (submission === undefined) {
    return { kind: "payment_required", owed, calls: calls.length, challenge: buildChallenge(deps.terms, offerFor(payable), "Payment of this wallet's debt is required") };
  }
  const paid = await acceptPayment(deps, payable, submission);
  if (paid.model !== "debt") throw new TollgateError("payment_mismatch", "this payment's quote is not for a debt", { details: { reason: "quote_for_other_resource" } });
  await reserveAndVerify(deps, paid, input.requestId, { strategy: "debt", task: "debt" });
  await deps.ledger.update(input.requestId, { status: "served", at: new Date(deps.now()) });
  const settlement = receiptOf(deps, await settleServed(deps, input.requestId));
  if (!settlement.success) {
    throw new TollgateError("settlement_failed", "The debt payment did not settle yet; the debt stands until it does", { details: { reason: "pending" } });
  }
  for (const id of calls) {
    await deps.ledger.transition(id, ["unpaid"], { status: "repaid", at: new Date(deps.now()), error: `repaid by ${input.requestId}` });
  }
  return { kind: "paid", owed, calls: calls.length, settlement, version: paid.version };
}
