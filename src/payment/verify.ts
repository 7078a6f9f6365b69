import { TollgateError } from "../lib/errors.ts";
import type { AcceptedPayment } from "./accept.ts";
import type { Facilitator } from "./facilitator.ts";
import { describeRejection } from "./rejection.ts";
import type { PaymentTerms } from "./terms.ts";
import type { BalanceOf } from "./token-balance.ts";

export interface VerifyContext {
  facilitator: Facilitator;
  terms: PaymentTerms;
  /** Reads the payer's balance, to tell an agent refused for lack of funds what it holds. */
  balanceOf: BalanceOf;
}

/**
 * Facilitator /verify (it simulates the transfer on chain): returns when the payment is valid,
 * throws `payment_rejected` (with a short, agent-facing reason) or `facilitator_unavailable`.
 */
export async function facilitatorVerify(deps: VerifyContext, paid: AcceptedPayment): Promise<void> {
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
