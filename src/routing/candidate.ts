import { tokenCost } from "../lib/money.ts";
import type { Analysis, Candidate, RoutableModel } from "./types.ts";

/** Output cap when the agent sets none and the catalog gives no default. */
export const FALLBACK_OUTPUT_CAP = 4_096;

/**
 * The call as it would run on this model: the output cap is the agent's max_tokens (or the
 * catalog default) clamped to the model's limit and to the room the prompt leaves in its
 * context. Undefined when the prompt leaves no room at all.
 */
export function candidateFor(model: RoutableModel, analysis: Analysis): Candidate | undefined {
  const { entry } = model;
  if (entry.contextWindow < analysis.minContextWindow) return undefined;
  const wanted = analysis.requestedMaxTokens ?? entry.defaultMaxTokens ?? FALLBACK_OUTPUT_CAP;
  // The room is judged on the same figure as the fit (minContextWindow), the price on inputTokens.
  const outputCap = Math.min(wanted, entry.maxOutputTokens, entry.contextWindow - (analysis.minContextWindow - 1));
  if (outputCap < 1) return undefined;
  return {
    model: entry.id,
    provider: entry.provider,
    outputCap,
    worstCaseCost: tokenCost(analysis.inputTokens, model.rates.inputPerMTok) + tokenCost(outputCap, model.rates.outputPerMTok),
  };
}
