import type { SettleResponse } from "@x402/core/types";
import { TollgateError } from "../lib/errors.ts";
import type { AcceptedPayment } from "./accept-payment.ts";
import type { CallDeps } from "./deps.ts";

/** Settles a served call through the facilitator and records the outcome in the ledger. */
export async function settlePayment(deps: CallDeps, paid: AcceptedPayment, requestId: string): Promise<SettleResponse> {
  let result: SettleResponse;
  try {
    result = await deps.facilitator.settle(paid.payload, paid.requirements);
  } catch (cause) {
    await deps.ledger.update(requestId, { status: "failed", at: new Date(deps.now()), error: "settle: facilitator unavailable" });
    throw new TollgateError("settlement_failed", "The facilitator did not settle the payment; you were not charged", { cause });
  }
  if (!result.success) {
    const reason = result.errorReason ?? "unknown";
    await deps.ledger.update(requestId, { status: "failed", at: new Date(deps.now()), error: `settle: ${reason}` });
    throw new TollgateError("settlement_failed", `Settlement failed: ${reason}${result.errorMessage ? ` (${result.errorMessage})` : ""}`, {
      details: { reason },
    });
  }
  await deps.ledger.update(requestId, { status: "settled", at: new Date(deps.now()), txHash: result.transaction as `0x${string}` });
  return result;
}
