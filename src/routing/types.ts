import type { IndexedModel } from "../catalog/index.ts";
import type { Capability } from "../catalog/schema.ts";
import { TASKS, type Task } from "../catalog/schema.ts";

export { TASKS, type Task };

export const STRATEGIES = ["cost", "quality", "balanced", "task"] as const;
export type Strategy = (typeof STRATEGIES)[number];

export interface Analysis {
  /** Prompt tokens used for context checks and prices (see tokenCount for how they were counted). */
  inputTokens: number;
  /**
   * "o200k": exact for OpenAI-family models (lib/tokenizer.ts). "o200k_bound": o200k until the
   * request's counting allowance ran out, a token per byte after, so never below o200k.
   * "estimate": lib/token-estimate.ts, which errs high on ordinary text; used for long prompts
   * unless an OpenAI-family model was named (input-tokens.ts).
   */
  tokenCount: "o200k" | "o200k_bound" | "estimate";
  task: Task;
  /** The features that voted for `task`, strongest first (docs/routing.md lists them). */
  taskFeatures: string[];
  /** 0 (trivial) .. 1 (hard); complexity.ts documents the formula. */
  complexity: number;
  /** Capabilities the request needs from a model. */
  capabilities: Capability[];
  /**
   * Smallest context window that can hold the prompt plus at least one output token: inputTokens
   * + 1, except that for an o200k_bound count the prompt is taken at the estimate when that is
   * lower (routing/input-tokens.ts says why).
   */
  minContextWindow: number;
  /** Output cap the agent asked for (max_tokens / max_completion_tokens), if any. */
  requestedMaxTokens: number | undefined;
}

/** A catalog model with its rates as atomic USDC per 1M tokens. */
export type RoutableModel = IndexedModel;

export interface Candidate {
  model: string;
  provider: string;
  /** Output tokens the call is capped at on this model. */
  outputCap: number;
  /** Worst-case upstream cost (input + capped output at list price), atomic USDC, no markup. */
  worstCaseCost: bigint;
}

/**
 * How a strategy saw one candidate. Components are on a common 0..1 "higher is better" scale so
 * they can be weighed against each other; `total` is the strategy's own ranking score.
 */
export interface ScoreBreakdown {
  /** The model's catalog quality for the task, 0..100. */
  quality: number;
  /** 1 for the candidate best at the task, 0 for the weakest (linear between). */
  relativeQuality: number;
  /** 1 for the cheapest candidate, 0 for the dearest (log scale between). */
  price: number;
  /** 1 for the fastest candidate, 0 for the slowest (log scale between). */
  latency: number;
  /** Expected time to a typical answer, ms: live EWMA when the model has samples, else the catalog prior. */
  expectedLatencyMs: number;
  latencySource: "live" | "prior";
  total: number;
}

/** A candidate as a strategy ranked it: what the agent would pay, and why it sits where it does. */
export interface RankedCandidate extends Candidate {
  /** Final price the agent would pay for this candidate (from DecideInput.priceOf), atomic USDC. */
  price: bigint;
  score: ScoreBreakdown;
}

export interface Decision {
  strategy: Strategy | "explicit";
  task: Task;
  complexity: number;
  inputTokens: number;
  /** Primary first, then fallbacks. Never empty. */
  candidates: [RankedCandidate, ...RankedCandidate[]];
  reason: string;
}
