import type { Capability } from "../catalog/schema.ts";
import { TollgateError } from "../lib/errors.ts";
import { tokenCost } from "../lib/money.ts";
import type { Analysis, Candidate, Decision, RoutableModel, Strategy } from "./types.ts";

/** Output cap when the agent sets none and the catalog gives no default. */
export const FALLBACK_OUTPUT_CAP = 4_096;

export interface DecideInput {
  analysis: Analysis;
  /** "auto", "auto:<strategy>" or a catalog model id. */
  requestedModel: string;
  defaultStrategy: Strategy;
  models: readonly RoutableModel[];
}

/**
 * Pure routing decision. An explicit model id bypasses choice but still gets the capability and
 * context checks; "auto" picks among every model that can do the job. Only the cost strategy
 * exists in this first cut.
 */
export function decide(input: DecideInput): Decision {
  const { analysis, requestedModel } = input;
  if (!requestedModel.startsWith("auto")) return decideExplicit(input);

  const strategy = parseStrategy(requestedModel, input.defaultStrategy);
  const candidates: Candidate[] = [];
  const excluded: string[] = [];
  for (const model of input.models) {
    const missing = missingCapabilities(model, analysis.capabilities);
    const candidate = candidateFor(model, analysis);
    if (missing.length > 0) excluded.push(`${model.entry.id} lacks ${missing.join(", ")}`);
    else if (candidate === undefined) excluded.push(`${model.entry.id} context window too small`);
    else candidates.push(candidate);
  }
  const [first, ...rest] = rankByCost(candidates);
  if (first === undefined) {
    throw new TollgateError("no_model_available", `No model can serve this request: ${excluded.join("; ")}`, {
      details: { excluded },
    });
  }
  return {
    strategy,
    task: analysis.task,
    complexity: analysis.complexity,
    inputTokens: analysis.inputTokens,
    candidates: [first, ...rest],
    reason: `cheapest of ${candidates.length} capable models for a ${analysis.task} request of ${analysis.inputTokens} input tokens`,
  };
}

function decideExplicit(input: DecideInput): Decision {
  const { analysis, requestedModel } = input;
  const model = input.models.find((m) => m.entry.id === requestedModel);
  if (model === undefined) {
    throw new TollgateError("model_not_found", `The model '${requestedModel}' does not exist; GET /v1/models lists the models, or use "auto"`, {
      param: "model",
    });
  }
  const missing = missingCapabilities(model, analysis.capabilities);
  if (missing.length > 0) {
    throw new TollgateError("invalid_request", `Model '${requestedModel}' does not support ${missing.join(", ")}, which this request needs`, {
      param: "model",
      details: { missing },
    });
  }
  const candidate = candidateFor(model, analysis);
  if (candidate === undefined) {
    throw new TollgateError(
      "context_length_exceeded",
      `The prompt has ${analysis.inputTokens} tokens; model '${requestedModel}' has a context window of ${model.entry.contextWindow}`,
      { param: "messages" },
    );
  }
  return {
    strategy: "explicit",
    task: analysis.task,
    complexity: analysis.complexity,
    inputTokens: analysis.inputTokens,
    candidates: [candidate],
    reason: `model ${requestedModel} was requested explicitly`,
  };
}

function parseStrategy(requested: string, fallback: Strategy): Strategy {
  if (requested === "auto") return fallback === "cost" ? "cost" : unsupported(fallback);
  if (requested === "auto:cost") return "cost";
  const name = requested.slice("auto:".length);
  if (name === "quality" || name === "balanced" || name === "task") return unsupported(name);
  throw new TollgateError("invalid_request", `Unknown routing strategy '${name}'; use auto, auto:cost, auto:quality, auto:balanced or auto:task`, {
    param: "model",
  });
}

function unsupported(name: string): never {
  throw new TollgateError("invalid_request", `Routing strategy '${name}' is not available yet; use auto:cost or a model id`, { param: "model" });
}

function missingCapabilities(model: RoutableModel, needed: readonly Capability[]): Capability[] {
  return needed.filter((c) => !model.entry.capabilities.includes(c));
}

/** The output cap for this model, or undefined when the prompt leaves no room in its context. */
function candidateFor(model: RoutableModel, analysis: Analysis): Candidate | undefined {
  const { entry } = model;
  const wanted = analysis.requestedMaxTokens ?? entry.defaultMaxTokens ?? FALLBACK_OUTPUT_CAP;
  const room = entry.contextWindow - analysis.inputTokens;
  const outputCap = Math.min(wanted, entry.maxOutputTokens, room);
  if (outputCap < 1) return undefined;
  return {
    model: entry.id,
    provider: entry.provider,
    outputCap,
    worstCaseCost: tokenCost(analysis.inputTokens, model.rates.inputPerMTok) + tokenCost(outputCap, model.rates.outputPerMTok),
  };
}

function rankByCost(candidates: Candidate[]): Candidate[] {
  return [...candidates].sort((a, b) => (a.worstCaseCost < b.worstCaseCost ? -1 : a.worstCaseCost > b.worstCaseCost ? 1 : a.model.localeCompare(b.model)));
}
