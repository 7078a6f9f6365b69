import { atomicToUsd } from "../lib/money.ts";
import type { PaymentTerms } from "../payment/terms.ts";

/** What a served call cost the agent, as the answer shows it. */
export interface CallCost {
  /** Atomic units the call took from the agent's wallet and credit; under `exact` the price. */
  charged: bigint;
  /** The price: the most the call could cost (what upto signs as its maximum). */
  maximum: bigint;
  /** What the usage cost; under `exact` charged less this becomes credit once the payment is in. */
  cost: bigint;
  /** Credit that paid part (or all) of the price. */
  credit: bigint;
}

/**
 * The answer's `usage` with what the call cost: `usage.cost`, a USD decimal string as
 * OpenRouter's `usage.cost` reports the cost of a call, and `usage.cost_details` with the atomic
 * amounts, the asset and the network. Everything else of the upstream's body is left as it came.
 */
export function withUsageCost(body: Record<string, unknown>, cost: CallCost, terms: PaymentTerms): Record<string, unknown> {
  const usage = typeof body["usage"] === "object" && body["usage"] !== null && !Array.isArray(body["usage"]) ? (body["usage"] as Record<string, unknown>) : {};
  return {
    ...body,
    usage: {
      ...usage,
      cost: atomicToUsd(cost.charged),
      cost_details: {
        amount: cost.charged.toString(),
        maximum: cost.maximum.toString(),
        usage_cost: cost.cost.toString(),
        credit_used: cost.credit.toString(),
        asset: terms.asset,
        network: terms.network,
      },
    },
  };
}
