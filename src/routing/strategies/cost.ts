import { ranked, scalesFor, usd } from "./score.ts";
import type { StrategyInput, StrategyResult } from "./types.ts";

/**
 * The quality a model needs for the task before `cost` may pick it:
 *   bar = 55 + 35 * complexity   (55 for a trivial request, 90 for the hardest)
 * On the default catalog's scale (docs/model-quality.md) that lets small models take easy
 * chat and classification, mid-size ones most everyday work, and only frontier models the
 * hardest maths and code.
 */
export const COST_BAR_BASE = 55;
export const COST_BAR_SLOPE = 35;

export function costBar(complexity: number): number {
  return COST_BAR_BASE + COST_BAR_SLOPE * complexity;
}

/**
 * Cheapest model whose quality for the task meets the bar; the rest of the bar-meeters follow,
 * cheapest first, then the models under the bar, best first (the fallback chain never drops
 * below the bar while a model above it is left). When none meets the bar, the best model leads.
 * total = 1 + price score for bar-meeters (1..2), quality/100 below the bar (0..1).
 */
export function costStrategy({ analysis, eligible }: StrategyInput): StrategyResult {
  const bar = costBar(analysis.complexity);
  const scales = scalesFor(eligible);
  const candidates = eligible
    .map((e) => ranked(e, scales, e.quality >= bar ? 1 + scales.price(e) : e.quality / 100))
    .sort((a, b) => {
      const aMeets = a.score.quality >= bar;
      const bMeets = b.score.quality >= bar;
      if (aMeets !== bMeets) return aMeets ? -1 : 1;
      if (aMeets && a.price !== b.price) return a.price < b.price ? -1 : 1;
      if (a.score.quality !== b.score.quality) return b.score.quality - a.score.quality;
      if (a.price !== b.price) return a.price < b.price ? -1 : 1;
      return a.model.localeCompare(b.model);
    });
  const first = candidates[0];
  const meeting = candidates.filter((c) => c.score.quality >= bar).length;
  const barText = `quality bar ${bar.toFixed(0)} for ${analysis.task} at complexity ${analysis.complexity}`;
  const reason =
    first === undefined
      ? "no candidates"
      : meeting > 0
        ? `cheapest of ${meeting} models meeting the ${barText}: ${first.model} (quality ${first.score.quality}, ${usd(first.price)})`
        : `no model meets the ${barText}; ${first.model} has the best ${analysis.task} quality (${first.score.quality})`;
  return { ranked: candidates, reason };
}
