import type { IndexedModel } from "../catalog/index.ts";
import type { Capability } from "../catalog/schema.ts";

export const TASKS = ["code", "math", "reasoning", "summarization", "translation", "extraction", "classification", "creative", "qa", "chat"] as const;
export type Task = (typeof TASKS)[number];

export const STRATEGIES = ["cost", "quality", "balanced", "task"] as const;
export type Strategy = (typeof STRATEGIES)[number];

export interface Analysis {
  inputTokens: number;
  task: Task;
  /** 0 (trivial) .. 1 (hard). */
  complexity: number;
  /** Capabilities the request needs from a model. */
  capabilities: Capability[];
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

export interface Decision {
  strategy: Strategy | "explicit";
  task: Task;
  complexity: number;
  inputTokens: number;
  /** Primary first, then fallbacks. Never empty. */
  candidates: [Candidate, ...Candidate[]];
  reason: string;
}
