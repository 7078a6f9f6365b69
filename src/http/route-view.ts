import type { Plan } from "../call/plan.ts";
import { atomicToUsd } from "../lib/money.ts";
import type { PaymentTerms } from "../payment/terms.ts";

/** The public shape of a routing decision (DESIGN.md "Routing", POST /v1/route). */
export function routeView(plan: Plan, terms: PaymentTerms) {
  const primary = plan.candidates[0];
  return {
    model: primary.model,
    provider: primary.provider,
    strategy: plan.decision.strategy,
    task: plan.decision.task,
    complexity: plan.decision.complexity,
    inputTokens: plan.decision.inputTokens,
    maxOutputTokens: primary.outputCap,
    price: { amount: primary.price.toString(), asset: terms.asset, network: terms.network, usd: atomicToUsd(primary.price) },
    candidates: plan.candidates.map((c) => ({
      model: c.model,
      provider: c.provider,
      maxOutputTokens: c.outputCap,
      price: { amount: c.price.toString(), usd: atomicToUsd(c.price) },
      score: c.score,
    })),
    reason: plan.decision.reason,
    quoteExpiresAt: new Date(plan.quoteExpiresAt * 1000).toISOString(),
  };
}
