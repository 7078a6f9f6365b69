import { atomicToUsd } from "../../lib/money.ts";
import type { Eligible } from "../eligible.ts";
import type { RankedCandidate, ScoreBreakdown } from "../types.ts";

/**
 * Shared scales for the strategies, each 0..1 "higher is better" across the eligible set, and a
 * stable final ordering. Price and latency are on a log scale (prices span two orders of
 * magnitude, so a linear scale would squash every cheap model to ~1). Task quality is linear
 * between the weakest and the best eligible model: catalog scores bunch between about 40 and 95,
 * so on the raw 0..100 scale a 40-point gap in quality would weigh less than a small step in
 * price, and `balanced` would pick the cheapest model whatever its weights say.
 */
export interface Scales {
  quality(e: Eligible): number;
  price(e: Eligible): number;
  latency(e: Eligible): number;
}

export function scalesFor(eligible: readonly Eligible[]): Scales {
  // The range of each scale is computed once, not once per candidate scored (this runs on every 402).
  const quality = rangeScale(eligible.map((e) => e.quality), "higher");
  const price = rangeScale(eligible.map((e) => Math.log(Number(e.price) + 1)), "lower");
  const latency = rangeScale(eligible.map((e) => Math.log(e.expectedLatencyMs + 1)), "lower");
  return {
    quality: (e) => quality(e.quality),
    price: (e) => price(Math.log(Number(e.price) + 1)),
    latency: (e) => latency(Math.log(e.expectedLatencyMs + 1)),
  };
}

/** 1 at the best of `all` (the largest or the smallest, as `better` says), 0 at the worst, linear between. */
function rangeScale(all: readonly number[], better: "higher" | "lower"): (value: number) => number {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of all) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (max === min) return () => 1;
  return better === "higher" ? (value) => round((value - min) / (max - min)) : (value) => round((max - value) / (max - min));
}

export function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export function ranked(e: Eligible, scales: Scales, total: number): RankedCandidate {
  const score: ScoreBreakdown = {
    quality: e.quality,
    relativeQuality: scales.quality(e),
    price: scales.price(e),
    latency: scales.latency(e),
    expectedLatencyMs: e.expectedLatencyMs,
    latencySource: e.latencySource,
    total: round(total),
  };
  return { ...e.candidate, price: e.price, score };
}

/** Highest total first; then cheaper, then model id, so equal inputs always give the same order. */
export function byTotal(a: RankedCandidate, b: RankedCandidate): number {
  if (a.score.total !== b.score.total) return b.score.total - a.score.total;
  if (a.price !== b.price) return a.price < b.price ? -1 : 1;
  return a.model.localeCompare(b.model);
}

/** "$0.0025": atomic USDC as a short USD string for reasons and error messages. */
export function usd(atomic: bigint): string {
  return `$${atomicToUsd(atomic).replace(/0+$/, "").replace(/\.$/, "")}`;
}
