import { DEFAULT_LATENCY, DEFAULT_QUALITY } from "../catalog/schema.ts";
import type { ModelHealth } from "./health.ts";
import type { Candidate, RoutableModel, Task } from "./types.ts";

/** A model that passed every filter, with what the strategies weigh. */
export interface Eligible {
  model: RoutableModel;
  candidate: Candidate;
  /** Final price for this call on this model, atomic USDC (DecideInput.priceOf). */
  price: bigint;
  /** Catalog quality for the request's task, 0..100. */
  quality: number;
  expectedLatencyMs: number;
  latencySource: "live" | "prior";
}

/**
 * Output tokens a typical answer runs to, for the latency prior: the prior is
 * ttft + min(outputCap, TYPICAL_OUTPUT_TOKENS) / tokensPerSecond. Using the full cap would make
 * every model look slow (a 4,096-token cap at 60 tokens/s is 68 s) and hide the differences.
 */
export const TYPICAL_OUTPUT_TOKENS = 300;
/** Live latency replaces the prior once a model has this many successful calls in its EWMA. */
export const LIVE_LATENCY_MIN_SAMPLES = 3;

export function qualityFor(model: RoutableModel, task: Task): number {
  return model.entry.quality?.[task] ?? DEFAULT_QUALITY;
}

export function expectedLatency(model: RoutableModel, outputCap: number, health: ModelHealth | undefined): { ms: number; source: "live" | "prior" } {
  if (health !== undefined && health.latencyMs !== undefined && health.latencySamples >= LIVE_LATENCY_MIN_SAMPLES) {
    return { ms: Math.round(health.latencyMs), source: "live" };
  }
  const prior = model.entry.latency ?? DEFAULT_LATENCY;
  const tokens = Math.min(outputCap, TYPICAL_OUTPUT_TOKENS);
  return { ms: Math.round(prior.ttftMs + (tokens / prior.tokensPerSecond) * 1000), source: "prior" };
}
