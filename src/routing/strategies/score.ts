import { atomicToUsd } from "../../lib/money.ts";
import type { Eligible } from "../eligible.ts";
import type { RankedCandidate, ScoreBreakdown } from "../types.ts";

/**
 * Shared scales for the strategies: price and latency as 0..1 "higher is better" on a log scale
 * across the eligible set (prices span two orders of magnitude, so a linear scale would squash
 * every cheap model to ~1), and a stable final ordering.
 */
export interface Scales {
  price(e: Eligible): number;
  latency(e: Eligible): number;
}

export function scalesFor(eligible: readonly Eligible[]): Scales {
  // The range of each scale is computed once, not once per candidate scored (this runs on every 402).
  const price = inverseScale(eligible.map((e) => Math.log(Number(e.price) + 1)));
  const latency = inverseScale(eligible.map((e) => Math.log(e.expectedLatencyMs + 1)));
  return {
    price: (e) => price(Math.log(Number(e.price) + 1)),
    latency: (e) => latency(Math.log(e.expectedLatencyMs + 1)),
  };
}

/** 1 at the smallest of `all`, 0 at the largest, linear between. */
function inverseScale(all: readonly number[]): (value: number) => number {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of all) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return (value) => (max === min ? 1 : round((max - value) / (max - min)));
}

export function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export function ranked(e: Eligible, scales: Scales, total: number): RankedCandidate {
  const score: ScoreBreakdown = {
    quality: e.quality,
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
