import type { Plan } from "../call/plan.ts";
import { atomicToUsd } from "../lib/money.ts";
import type { PaymentTerms } from "../payment/terms.ts";

/**
 * The public shape of a routing decision (DESIGN.md "Routing", POST /v1/route). `maxCandidates`
 * trims the list: a 402 carries the primary and its first fallbacks, /v1/route all of them.
 */
export function routeView(plan: Plan, terms: PaymentTerms, maxCandidates = Number.POSITIVE_INFINITY) {
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
    candidateCount: plan.candidates.length,
    candidates: plan.candidates.slice(0, maxCandidates).map((c) => ({
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
