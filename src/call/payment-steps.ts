import type { SettleResponse } from "@x402/core/types";
import { TollgateError } from "../lib/errors.ts";
import type { ModelEntry } from "../catalog/schema.ts";
import { atomicToUsd } from "../lib/money.ts";
import type { StageTimer } from "../lib/stage-timer.ts";
import { upstreamCost } from "../payment/pricing.ts";
import { describeRejection } from "../payment/rejection.ts";
import { signQuote } from "../payment/quote.ts";
import type { Usage } from "../providers/types.ts";
import type { AcceptedPayment } from "./accept-payment.ts";
import type { CallDeps } from "./deps.ts";
import type { SettleOutcome } from "./settlement.ts";

/** The payment steps every paid resource shares: quote, debt check, reservation, verification, settlement. */

/** Signs the quote a 402 offers (payment/quote.ts), valid for the terms' maxTimeoutSeconds. */
export function issueQuote(deps: CallDeps, offer: { bodyHash: string; model: string; amount: bigint; cap: number }): { quote: string; expiresAt: number } {
  const expiresAt = Math.floor(deps.now() / 1000) + deps.terms.maxTimeoutSeconds;
  const quote = signQuote({ v: 1, body: offer.bodyHash, model: offer.model, amount: offer.amount.toString(), cap: offer.cap, exp: expiresAt }, deps.quoteSecret);
  return { quote, expiresAt };
}

/** Records a served call: who served it, the normalised usage, what it cost upstream, how long it took. */
export async function recordServed(
  deps: CallDeps,
  requestId: string,
  served: { provider: string; model: ModelEntry; usage: Usage; started: number; ttftMs?: number | undefined },
): Promise<void> {
  const { usage } = served;
  await deps.ledger.update(requestId, {
    status: "served",
    at: new Date(deps.now()),
    provider: served.provider,
    promptTokens: usage.promptTokens,
    completionTokens: usage.completionTokens,
    cachedPromptTokens: usage.cachedPromptTokens,
    reasoningTokens: usage.reasoningTokens,
    usageEstimated: usage.estimated,
    upstreamCost: upstreamCost(deps.catalog.rates(served.model.id), usage),
    latencyMs: Math.round(performance.now() - served.started),
    ...(served.ttftMs === undefined ? {} : { ttftMs: served.ttftMs }),
  });
}

/** A wallet whose earlier settlement reverted gets no new call until the debt is paid. */
export async function refuseDebtors(deps: CallDeps, payer: `0x${string}`): Promise<void> {
  const debts = await deps.ledger.debts(payer);
  if (debts.length === 0) return;
  const owed = debts.reduce((sum, row) => sum + row.amount, 0n);
  throw new TollgateError(
    "unpaid_debt",
    `Wallet ${payer} owes ${atomicToUsd(owed)} USDC for ${debts.length} call(s) whose settlement reverted; pay it with POST /v1/debts/${payer} first`,
    { details: { owed: owed.toString(), calls: debts.length } },
  );
}

/** Settles a call the pipeline just served. */
export async function settleServed(deps: CallDeps, requestId: string): Promise<SettleOutcome> {
  const row = await deps.ledger.get(requestId);
  if (row === undefined) throw new Error(`ledger lost call ${requestId}`);
  return deps.settler.settle(row);
}

/**
 * The receipt for a settle outcome. A pending settlement still delivers the call: the payment was
 * verified and the settlement worker retries it. A reverted one withholds it and leaves a debt.
 */
export function receiptOf(deps: CallDeps, outcome: SettleOutcome): SettleResponse {
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

/**
 * Reserves (payer, nonce) in the ledger, so a second use is refused, and has the facilitator
 * verify the payment (it simulates the transfer). The order depends on who checked the
 * signature. An EOA signature was recovered to the payer here, so the reservation comes first and
 * a replay is refused without a facilitator round trip. A smart-wallet signature proves nothing
 * until the facilitator has judged it; reserving first would let anyone write rows, and spend
 * nonces, under another wallet's address with a signature-shaped blob.
 */
export async function reserveAndVerify(
  deps: CallDeps,
  paid: AcceptedPayment,
  requestId: string,
  labels: { strategy: string; task: string },
  timer?: StageTimer,
): Promise<void> {
  if (!paid.signatureChecked) {
    await facilitatorVerify(deps, paid);
    timer?.mark("facilitator_verify");
    await reserve(deps, paid, requestId, labels);
    timer?.mark("reserve");
  } else {
    await reserve(deps, paid, requestId, labels);
    timer?.mark("reserve");
    try {
      await facilitatorVerify(deps, paid);
    } catch (error) {
      const reason = error instanceof TollgateError && error.code === "payment_rejected" ? `verify: ${String(error.details?.["reason"])}` : "facilitator_unavailable";
      await deps.ledger.update(requestId, { status: "released", at: new Date(deps.now()), error: reason });
      throw error;
    }
    timer?.mark("facilitator_verify");
  }
  await deps.ledger.update(requestId, { status: "verified", at: new Date(deps.now()) });
}

async function reserve(deps: CallDeps, paid: AcceptedPayment, requestId: string, labels: { strategy: string; task: string }): Promise<void> {
  const outcome = await deps.ledger.reserve({
    id: requestId,
    payer: paid.payer,
    nonce: paid.nonce,
    network: deps.terms.network,
    asset: deps.terms.asset,
    payTo: deps.terms.payTo,
    amount: paid.amount,
    model: paid.model,
    strategy: labels.strategy,
    task: labels.task,
    validBefore: paid.validBefore,
    createdAt: new Date(deps.now()),
    payment: JSON.stringify({ version: paid.version, payload: paid.payload, requirements: paid.requirements }),
  });
  if (outcome.kind === "duplicate") {
    throw new TollgateError("payment_replayed", `payment nonce ${paid.nonce} from ${paid.payer} was already used (call ${outcome.existing.id}); sign a new payment`, {
      details: { reason: "nonce_reused" },
    });
  }
}

/** Facilitator /verify: returns when the payment is valid, throws payment_rejected or facilitator_unavailable. */
async function facilitatorVerify(deps: CallDeps, paid: AcceptedPayment): Promise<void> {
  let result;
  try {
    result = await deps.facilitator.verify(paid.payload, paid.requirements);
  } catch (cause) {
    throw new TollgateError("facilitator_unavailable", "The payment facilitator did not answer /verify; nothing was charged, retry with a new payment", { cause });
  }
  if (!result.isValid) {
    const reason = result.invalidReason ?? "invalid";
    const balance = () => deps.balanceOf(deps.terms.asset, paid.payer);
    throw new TollgateError("payment_rejected", await describeRejection({ reason, invalidMessage: result.invalidMessage, amount: paid.amount, balance }), {
      details: { reason },
    });
  }
}

