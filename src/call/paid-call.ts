import type { SettleResponse } from "@x402/core/types";
import { TollgateError } from "../lib/errors.ts";
import { atomicToUsd } from "../lib/money.ts";
import type { StageTimer } from "../lib/stage-timer.ts";
import { acceptPayment, type AcceptedPayment } from "../payment/accept.ts";
import { buildChallenge, type Challenge, type ChallengeOptions } from "../payment/challenge.ts";
import type { PaymentSubmission } from "../payment/header.ts";
import type { Offer } from "../payment/offer.ts";
import { signQuote } from "../payment/quote.ts";
import type { SettleOutcome } from "../payment/settle.ts";
import { chargeFor } from "../payment/pricing.ts";
import { facilitatorVerify } from "../payment/verify.ts";
import type { CallDeps } from "./deps.ts";
import { callSteps, reserveCall, type CallSteps, type ServedCall } from "./lifecycle.ts";
import type { CallCost } from "./usage-cost.ts";

/**
 * The paid lifecycle every paid resource shares (chat, embeddings, debts): offer -> accept ->
 * refuse debtors -> reserve and verify -> serve -> record -> settle. The x402 parts live in
 * payment/ (accept.ts, verify.ts, settle.ts), every status change in call/lifecycle.ts; this
 * module puts them in order. An agent never pays for a call it did not get: settlement comes only
 * after the call was served, and a failure before that releases or fails the row, unsettled.
 */

/** An offer for `fields`, with its quote signed for the terms' maxTimeoutSeconds (payment/quote.ts). */
export function makeOffer(deps: CallDeps, fields: Omit<Offer, "quote">): Offer & { quoteExpiresAt: number } {
  const quoteExpiresAt = Math.floor(deps.now() / 1000) + deps.terms.maxTimeoutSeconds;
  const credit = fields.credit === undefined ? {} : { credit: fields.credit.amount.toString(), wallet: fields.credit.wallet.toLowerCase() };
  const quote = signQuote(
    { v: 1, body: fields.bodyHash, model: fields.model, amount: fields.amount.toString(), cap: fields.outputCap, exp: quoteExpiresAt, ...credit },
    deps.quoteSecret,
  );
  return { ...fields, quote, quoteExpiresAt };
}

/** The 402 for an offer: the v2 PAYMENT-REQUIRED header and the v1 body. */
export function challengeFor(deps: CallDeps, offer: Offer, error: string, options?: ChallengeOptions): Challenge {
  return buildChallenge(deps.terms, offer, error, options);
}

/** What a paid call was bought with: a payment (exact or upto), or credit alone. */
export interface CallPayment {
  version: 1 | 2;
  scheme: "exact" | "upto" | "credit";
  payer: `0x${string}`;
  /** Atomic units signed on chain (0 when credit paid it all); under upto a maximum. */
  amount: bigint;
  /** Credit of the payer's held for the call; amount + credit is the price. */
  credit: bigint;
  /** The model paid for and the output cap its price assumed. */
  model: string;
  outputCap: number;
}

/** A paid call past its payment: accepted, reserved and verified, ready to serve. */
export interface PaidCall {
  paid: CallPayment;
  /**
   * Records what served it (verified -> served) and returns what the call costs the agent: the
   * signed amount under exact; under upto the actual cost of the usage (payment/pricing.ts
   * chargeFor), which is what settlement will take.
   */
  served(served: Omit<ServedCall, "charged" | "cost">): Promise<CallCost>;
  /** A debt is served by its settlement: nothing upstream (verified -> served). */
  servedWithoutUpstream(): Promise<void>;
  /** Records that nothing was served (verified -> failed); never settled. */
  failed(reason: string): Promise<void>;
  /**
   * Settles the served call now; the receipt, or settlement_failed when it reverted or expired.
   * A call paid by credit alone has no receipt: it settles in the ledger (undefined).
   */
  settle(): Promise<SettleResponse | undefined>;
  /** Settles in the background (SETTLE_TIMING=after_response); the sweep retries what fails. */
  settleLater(): void;
}

export interface OpenPaidCall {
  /** The payment, accepted for its offer (payment/accept.ts); the caller checks it fits what it sells. */
  paid: AcceptedPayment;
  requestId: string;
  /** Ledger labels: how the call was routed and what it is. */
  labels: { strategy: string; task: string };
  /** Paying a debt is the one payment a debtor may make. */
  refuseDebtors: boolean;
  timer?: StageTimer;
  /** The transport's per-wallet rate limit (http/rate-limit.ts), run before anything else here. */
  admitPayer?: AdmitPayer | undefined;
}

/** Admits a call from `payer` or throws (429 `rate_limited`): the payer is known, nothing is reserved yet. */
export type AdmitPayer = (payer: `0x${string}`) => Promise<void>;

/** Matches a payment to its offer and runs the local checks (signature, amount, window, quote). */
export function acceptFor(deps: CallDeps, offer: Offer, submission: PaymentSubmission): Promise<AcceptedPayment> {
  return acceptPayment(deps, offer, submission);
}

/** Takes an accepted payment's call through the debt check, reservation and verification. */
export async function openPaidCall(deps: CallDeps, input: OpenPaidCall): Promise<PaidCall> {
  const { paid, requestId, timer } = input;
  await input.admitPayer?.(paid.payer);
  if (input.refuseDebtors) await refuseDebtors(deps, paid.payer);
  await reserveAndVerify(deps, paid, requestId, input.labels, timer);
  const call = paidCall(deps, paid, requestId);
  await call.steps.verified();
  return call;
}

/**
 * A call wholly paid by its payer's credit (call/credit.ts): the credit is held with the
 * reservation, and nothing goes on chain. Undefined when the balance no longer covers the price
 * (another call spent it first): the caller asks for payment instead.
 */
export async function openCreditCall(
  deps: CallDeps,
  input: { wallet: `0x${string}`; proofKey: string; offer: Offer; requestId: string; labels: OpenPaidCall["labels"] },
): Promise<PaidCall | undefined> {
  const paid: CallPayment = { version: 2, scheme: "credit", payer: input.wallet, amount: 0n, credit: input.offer.amount, model: input.offer.model, outputCap: input.offer.outputCap };
  await refuseDebtors(deps, paid.payer);
  const outcome = await reserveCall(deps.ledger, {
    ...rowOf(deps, paid, input.requestId, input.labels),
    // The proof's nonce (hashed) is the call's: the same proof can never reserve a second call.
    nonce: `0x${input.proofKey}`,
    validBefore: Math.floor(deps.now() / 1000) + deps.terms.maxTimeoutSeconds,
    payment: JSON.stringify({ scheme: "credit", wallet: input.wallet.toLowerCase() }),
  });
  if (outcome.kind === "insufficient_credit") return undefined;
  if (outcome.kind === "duplicate") throw new TollgateError("payment_replayed", "this sign-in proof was already used; sign the new challenge", { details: { reason: "proof_reused" } });
  const call = paidCall(deps, paid, input.requestId);
  await call.steps.verified();
  return call;
}

function paidCall(deps: CallDeps, paid: CallPayment, requestId: string): PaidCall & { steps: CallSteps } {
  const steps = callSteps(deps.ledger, requestId, deps.now, { holdsCredit: paid.credit > 0n });
  const settle = async (): Promise<SettleResponse | undefined> => {
    const row = await deps.ledger.get(requestId);
    if (row === undefined) throw new Error(`ledger lost call ${requestId}`);
    const receipt = receiptOf(deps, await deps.settler.settle(row));
    return paid.scheme === "credit" ? undefined : receipt;
  };
  return {
    paid,
    steps,
    async served(served) {
      const maximum = paid.amount + paid.credit;
      // What the usage cost, at most the price: upto settles it; exact settles the signed amount
      // and the rest becomes credit when the payment is in (lifecycle.ts).
      const cost = chargeFor({ rates: served.rates, usage: served.usage, markupBps: deps.pricing.markupBps, minPrice: deps.pricing.minPrice, maximum });
      const charged = paid.scheme === "upto" ? cost : paid.amount;
      await steps.served({ ...served, charged, cost });
      return { charged: paid.scheme === "upto" ? cost : maximum, maximum, cost, credit: paid.credit };
    },
    servedWithoutUpstream: () => steps.servedWithoutUpstream(),
    failed: (reason) => steps.failed(reason),
    settle,
    settleLater() {
      void settle().catch((err: unknown) => deps.logger.error({ err, callId: requestId }, "background settlement failed"));
    },
  };
}

/**
 * What unpaid calls owe: what each was charged (an upto call its actual cost, not the maximum the
 * payer signed), else its amount (rows from before the `charged` column).
 */
export function amountOwed(debts: ReadonlyArray<{ amount: bigint; charged: bigint | null }>): bigint {
  return debts.reduce((sum, row) => sum + (row.charged ?? row.amount), 0n);
}

/** A wallet whose earlier settlement failed by its doing gets no new call until the debt is paid. */
async function refuseDebtors(deps: CallDeps, payer: `0x${string}`): Promise<void> {
  const debts = await deps.ledger.debts(payer);
  if (debts.length === 0) return;
  const owed = amountOwed(debts);
  throw new TollgateError(
    "unpaid_debt",
    `Wallet ${payer} owes ${atomicToUsd(owed)} USDC for ${debts.length} call(s) whose settlement reverted; pay it with POST /v1/debts/${payer} first`,
    { details: { owed: owed.toString(), calls: debts.length } },
  );
}

/**
 * Reserves (payer, nonce) in the ledger, so a second use is refused, and has the facilitator
 * verify the payment (it simulates the transfer). The order depends on who checked the
 * signature. An EOA signature was recovered to the payer here, so the reservation comes first and
 * a replay is refused without a facilitator round trip. A smart-wallet signature proves nothing
 * until the facilitator has judged it; reserving first would let anyone write rows, and spend
 * nonces, under another wallet's address with a signature-shaped blob.
 */
async function reserveAndVerify(deps: CallDeps, paid: AcceptedPayment, requestId: string, labels: OpenPaidCall["labels"], timer?: StageTimer): Promise<void> {
  if (!paid.signatureChecked) {
    await facilitatorVerify(deps, paid);
    timer?.mark("facilitator_verify");
    await reserve(deps, paid, requestId, labels);
    timer?.mark("reserve");
    return;
  }
  await reserve(deps, paid, requestId, labels);
  timer?.mark("reserve");
  try {
    await facilitatorVerify(deps, paid);
  } catch (error) {
    const reason = error instanceof TollgateError && error.code === "payment_rejected" ? `verify: ${String(error.details?.["reason"])}` : "facilitator_unavailable";
    await callSteps(deps.ledger, requestId, deps.now, { holdsCredit: paid.credit > 0n }).released(reason);
    throw error;
  }
  timer?.mark("facilitator_verify");
}

function rowOf(deps: CallDeps, paid: CallPayment, requestId: string, labels: OpenPaidCall["labels"]) {
  return {
    id: requestId,
    payer: paid.payer,
    network: deps.terms.network,
    asset: deps.terms.asset,
    payTo: deps.terms.payTo,
    amount: paid.amount,
    creditUsed: paid.credit,
    model: paid.model,
    strategy: labels.strategy,
    task: labels.task,
    createdAt: new Date(deps.now()),
  };
}

async function reserve(deps: CallDeps, paid: AcceptedPayment, requestId: string, labels: OpenPaidCall["labels"]): Promise<void> {
  const outcome = await reserveCall(deps.ledger, {
    ...rowOf(deps, paid, requestId, labels),
    nonce: paid.nonce,
    validBefore: paid.validBefore,
    payment: JSON.stringify({ version: paid.version, payload: paid.payload, requirements: paid.requirements }),
  });
  if (outcome.kind === "insufficient_credit") {
    // Nothing was written: the payment's nonce is unused, and a new quote prices the credit left.
    throw new TollgateError("credit_changed", `the quote applied ${atomicToUsd(paid.credit)} USDC of credit, but the wallet has ${atomicToUsd(outcome.balance)} left; request a new quote`, {
      details: { reason: "credit_spent", balance: outcome.balance.toString() },
    });
  }
  if (outcome.kind === "duplicate") {
    throw new TollgateError("payment_replayed", `payment nonce ${paid.nonce} from ${paid.payer} was already used; sign a new payment`, {
      details: { reason: "nonce_reused" },
    });
  }
}

/**
 * The receipt for a settle outcome. A pending settlement still delivers the call: the payment was
 * verified and the settlement worker retries it. A failed one withholds it and leaves a debt.
 */
function receiptOf(deps: CallDeps, outcome: SettleOutcome): SettleResponse {
  switch (outcome.kind) {
    case "settled":
      return outcome.response;
    case "pending":
      return { success: false, errorReason: "settlement_pending", errorMessage: outcome.reason, transaction: "", network: deps.terms.network };
    case "unpaid":
      throw new TollgateError("settlement_failed", `Settlement failed (${outcome.reason}); the call's price is recorded as a debt of this wallet`, {
        details: { reason: "payer_fault" },
      });
    case "expired":
      throw new TollgateError("settlement_failed", "The payment authorization expired before it could settle; you were not charged", {
        details: { reason: "expired" },
      });
  }
}
