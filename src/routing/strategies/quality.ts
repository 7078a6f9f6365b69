import { ranked, scalesFor, usd } from "./score.ts";
import type { StrategyInput, StrategyResult } from "./types.ts";

/**
 * Best quality for the task; among equals the cheaper wins (then the faster).
 * total = quality/100, plus a tie-break far smaller than one quality point.
 */
export function qualityStrategy({ analysis, eligible }: StrategyInput): StrategyResult {
  const scales = scalesFor(eligible);
  const candidates = eligible
    .map((e) => ranked(e, scales, e.quality / 100 + scales.price(e) * 1e-4 + scales.latency(e) * 1e-6))
    .sort((a, b) => {
      if (a.score.quality !== b.score.quality) return b.score.quality - a.score.quality;
      if (a.price !== b.price) return a.price < b.price ? -1 : 1;
      if (a.score.expectedLatencyMs !== b.score.expectedLatencyMs) return a.score.expectedLatencyMs - b.score.expectedLatencyMs;
      return a.model.localeCompare(b.model);
    });
  const first = candidates[0];
  const tied = first === undefined ? 0 : candidates.filter((c) => c.score.quality === first.score.quality).length;
  const reason =
    first === undefined
      ? "no candidates"
      : `best ${analysis.task} quality among ${candidates.length} models: ${first.model} (${first.score.quality}, ${usd(first.price)})${tied > 1 ? `, cheapest of ${tied} tied` : ""}`;
  return { ranked: candidates, reason };
}
