import { TollgateError } from "../lib/errors.ts";
import { candidateFor } from "./candidate.ts";
import { describeExclusions, filterModels } from "./filter.ts";
import type { HealthSnapshot } from "./health.ts";
import type { AgentLimits } from "./limits.ts";
import { balancedStrategy } from "./strategies/balanced.ts";
import { costStrategy } from "./strategies/cost.ts";
import { qualityStrategy } from "./strategies/quality.ts";
import { ranked, scalesFor } from "./strategies/score.ts";
import { taskStrategy } from "./strategies/task.ts";
import type { BalancedWeights, StrategyInput, StrategyResult, TaskPreferences } from "./strategies/types.ts";
import { STRATEGIES, type Analysis, type Candidate, type Decision, type RankedCandidate, type RoutableModel, type Strategy } from "./types.ts";

export { FALLBACK_OUTPUT_CAP } from "./candidate.ts";

export interface DecideInput {
  analysis: Analysis;
  /** "auto", "auto:<strategy>" or a catalog model id. */
  requestedModel: string;
  defaultStrategy: Strategy;
  models: readonly RoutableModel[];
  /** Live health (HealthTracker.snapshot(now)); none means every circuit is closed. */
  health?: HealthSnapshot;
  /** The agent's limits (parseAgentLimits); none means no limits. */
  limits?: AgentLimits;
  /** Operator per-task preferences for the `task` strategy. */
  taskPreferences?: TaskPreferences;
  /** Weights for `balanced` (and `task` after the preferences). */
  balancedWeights?: BalancedWeights;
  /** Final price of a candidate, atomic USDC (pricing lives in payment/, which routing must not import). */
  priceOf: (candidate: Candidate) => bigint;
}

/**
 * Pure routing decision. "auto" and "auto:<strategy>" filter the catalog by the request's needs,
 * the agent's limits and live health, then let the strategy order what is left; the order is
 * the fallback chain. An explicit model id bypasses choice but not the capability, context and
 * limit checks.
 */
export function decide(input: DecideInput): Decision {
  if (!input.requestedModel.startsWith("auto")) return decideExplicit(input);
  const strategy = parseStrategy(input.requestedModel, input.defaultStrategy);
  const { eligible, excluded } = filterModels(input);
  if (eligible.length === 0) {
    throw new TollgateError("no_model_available", `No model satisfies this request: ${describeExclusions(excluded)}`, {
      details: { excluded: Object.fromEntries(excluded) },
    });
  }
  const result = runStrategy(strategy, { analysis: input.analysis, eligible }, input);
  const [first, ...rest] = result.ranked;
  if (first === undefined) throw new Error(`strategy ${strategy} returned no candidates for ${eligible.length} eligible models`);
  return decision(input.analysis, strategy, [first, ...rest], result.reason);
}

function runStrategy(strategy: Strategy, strategyInput: StrategyInput, input: DecideInput): StrategyResult {
  switch (strategy) {
    case "cost":
      return costStrategy(strategyInput);
    case "quality":
      return qualityStrategy(strategyInput);
    case "balanced":
      return balancedStrategy(strategyInput, input.balancedWeights);
    case "task":
      return taskStrategy(strategyInput, input.taskPreferences ?? {}, input.balancedWeights);
  }
}

function decideExplicit(input: DecideInput): Decision {
  const { analysis, requestedModel } = input;
  const model = input.models.find((m) => m.entry.id === requestedModel);
  if (model === undefined) {
    throw new TollgateError("model_not_found", `The model '${requestedModel}' does not exist; GET /v1/models lists the models, or use "auto"`, {
      param: "model",
    });
  }
  const needed = [...new Set([...analysis.capabilities, ...(input.limits?.require ?? [])])];
  const missing = needed.filter((c) => !model.entry.capabilities.includes(c));
  if (missing.length > 0) {
    throw new TollgateError("invalid_request", `Model '${requestedModel}' does not support ${missing.join(", ")}, which this request needs`, {
      param: "model",
      details: { missing },
    });
  }
  if (candidateFor(model, analysis) === undefined) {
    throw new TollgateError(
      "context_length_exceeded",
      `The prompt has ${promptSize(analysis)}; model '${requestedModel}' has a context window of ${model.entry.contextWindow}`,
      { param: "messages" },
    );
  }
  // The agent chose the model, so its health does not matter here; its own limits still do.
  const { eligible, excluded } = filterModels({ ...input, models: [model], ignoreHealth: true });
  const only = eligible[0];
  if (only === undefined) {
    throw new TollgateError("no_model_available", `Model '${requestedModel}' is outside this request's limits: ${describeExclusions(excluded)}`, {
      param: "model",
      details: { excluded: Object.fromEntries(excluded) },
    });
  }
  const candidate = ranked(only, scalesFor(eligible), only.quality / 100);
  return decision(analysis, "explicit", [candidate], `model ${requestedModel} was requested explicitly`);
}

function promptSize(analysis: Analysis): string {
  // Too long to count exactly before payment (input-tokens.ts): the fit was judged on an estimate, so say so.
  if (analysis.tokenCount === "o200k_bound") return `about ${analysis.minContextWindow - 1} tokens (estimated: too long to count exactly before payment)`;
  return `${analysis.inputTokens} tokens`;
}

function decision(analysis: Analysis, strategy: Decision["strategy"], candidates: [RankedCandidate, ...RankedCandidate[]], reason: string): Decision {
  return { strategy, task: analysis.task, complexity: analysis.complexity, inputTokens: analysis.inputTokens, candidates, reason };
}

/** "auto" -> the default strategy; "auto:<name>" -> that strategy; anything else auto-like is refused. */
export function parseStrategy(requested: string, fallback: Strategy): Strategy {
  if (requested === "auto") return fallback;
  const name = requested.startsWith("auto:") ? requested.slice("auto:".length) : requested;
  const found = STRATEGIES.find((s) => s === name);
  if (found !== undefined) return found;
  throw new TollgateError("invalid_request", `Unknown routing strategy '${name}'; use auto, ${STRATEGIES.map((s) => `auto:${s}`).join(", ")} or a model id`, {
    param: "model",
  });
}
