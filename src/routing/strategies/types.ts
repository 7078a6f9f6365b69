import type { Eligible } from "../eligible.ts";
import type { Analysis, RankedCandidate, Task } from "../types.ts";

export interface StrategyInput {
  analysis: Analysis;
  /** Models that passed every filter; never empty. */
  eligible: readonly Eligible[];
}

/** A strategy's answer: every eligible model in order, primary first, and one sentence why. */
export interface StrategyResult {
  ranked: RankedCandidate[];
  reason: string;
}

/** Weights of the balanced strategy; they need not sum to 1 (they are normalised). */
export interface BalancedWeights {
  quality: number;
  price: number;
  latency: number;
}

/** Operator preferences: per task, model ids (or provider names) in order of preference. */
export type TaskPreferences = Partial<Record<Task, readonly string[]>>;
