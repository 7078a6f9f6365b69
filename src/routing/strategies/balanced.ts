import { byTotal, ranked, round, scalesFor } from "./score.ts";
import type { BalancedWeights, StrategyInput, StrategyResult } from "./types.ts";

/**
 * Defaults: quality first, price second, latency third, close to vLLM Semantic Router's
 * multi-factor weights (0.4 quality / 0.2 latency / 0.2 cost / 0.2 load) without the load term.
 */
export const DEFAULT_BALANCED_WEIGHTS: Readonly<BalancedWeights> = Object.freeze({ quality: 0.5, price: 0.3, latency: 0.2 });

/**
 * total = (wq * relativeQuality + wp * priceScore + wl * latencyScore) / (wq + wp + wl), each
 * term on its 0..1 scale across the eligible set (score.ts), so the weights are the trade-off
 * between the best and the worst on offer. Latency is the live EWMA once a model has
 * samples, the catalog prior before. Hard limits (max price, max latency) were applied before.
 */
export function balancedStrategy(input: StrategyInput, weights: BalancedWeights = DEFAULT_BALANCED_WEIGHTS): StrategyResult {
  const sum = weights.quality + weights.price + weights.latency;
  if (!(sum > 0) || weights.quality < 0 || weights.price < 0 || weights.latency < 0) {
    throw new RangeError("balanced weights must be non-negative with a positive sum");
  }
  const w = { quality: weights.quality / sum, price: weights.price / sum, latency: weights.latency / sum };
  const scales = scalesFor(input.eligible);
  const candidates = input.eligible
    .map((e) => ranked(e, scales, w.quality * scales.quality(e) + w.price * scales.price(e) + w.latency * scales.latency(e)))
    .sort(byTotal);
  const first = candidates[0];
  const reason =
    first === undefined
      ? "no candidates"
      : `best weighted score of ${candidates.length} models (quality ${round(w.quality)}, price ${round(w.price)}, latency ${round(w.latency)}): ` +
        `${first.model} scored ${first.score.total} (quality ${first.score.quality} = ${first.score.relativeQuality} of the range, price ${first.score.price}, latency ${first.score.latency} at ~${first.score.expectedLatencyMs} ms ${first.score.latencySource})`;
  return { ranked: candidates, reason };
}
