import { atomicToUsd } from "../lib/money.ts";
import type { PaymentTerms } from "../payment/terms.ts";

/** What a served call cost the agent, as the answer shows it. */
export interface CallCost {
  /** Atomic units charged; under `exact` the signed maximum. */
  charged: bigint;
  /** Atomic units the agent signed for. */
  maximum: bigint;
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
      cost_details: { amount: cost.charged.toString(), maximum: cost.maximum.toString(), asset: terms.asset, network: terms.network },
    },
  };
}
