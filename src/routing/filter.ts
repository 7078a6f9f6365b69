import type { Capability } from "../catalog/schema.ts";
import { expectedLatency, qualityFor, type Eligible } from "./eligible.ts";
import { EMPTY_HEALTH, healthKey, type HealthSnapshot } from "./health.ts";
import { namesModel, type AgentLimits } from "./limits.ts";
import { usd } from "./strategies/score.ts";
import type { Analysis, Candidate, RoutableModel } from "./types.ts";
import { candidateFor } from "./candidate.ts";

export interface FilterInput {
  analysis: Analysis;
  models: readonly RoutableModel[];
  health?: HealthSnapshot;
  limits?: AgentLimits;
  priceOf: (candidate: Candidate) => bigint;
  /** Skip the circuit check (a model the agent named explicitly is tried whatever its health). */
  ignoreHealth?: boolean;
}

/** Models a limit ruled out, keyed by a readable name of the limit ("vision", "max price $0.001"). */
export type Exclusions = Map<string, string[]>;

export interface FilterResult {
  eligible: Eligible[];
  excluded: Exclusions;
}

/**
 * Every model is checked against every limit, and each limit it fails is recorded: the 422 can
 * then tell the agent exactly what to relax ("max price $0.0001 excluded gpt-4o, ...").
 */
export function filterModels(input: FilterInput): FilterResult {
  const { analysis, limits = {} } = input;
  const health = input.health ?? EMPTY_HEALTH;
  const needed = new Set<Capability>([...analysis.capabilities, ...(limits.require ?? [])]);
  const excluded: Exclusions = new Map();
  const exclude = (limit: string, model: string) => {
    const list = excluded.get(limit) ?? [];
    list.push(model);
    excluded.set(limit, list);
  };
  const eligible: Eligible[] = [];

  for (const model of input.models) {
    const { id, provider } = model.entry;
    let ok = true;
    const fail = (limit: string) => {
      exclude(limit, id);
      ok = false;
    };
    const state = health[healthKey(id, provider)];
    if (input.ignoreHealth !== true && state !== undefined && !state.available) fail(`circuit ${state.state.replace("_", "-")}`);
    for (const capability of needed) if (!model.entry.capabilities.includes(capability)) fail(capability);
    if (limits.allow !== undefined && !namesModel(limits.allow, id, provider)) fail("allow list");
    if (limits.deny !== undefined && namesModel(limits.deny, id, provider)) fail("deny list");
    const candidate = candidateFor(model, analysis);
    if (candidate === undefined) {
      fail(`context window (prompt of ${analysis.inputTokens} tokens)`);
      continue;
    }
    const price = input.priceOf(candidate);
    if (limits.maxPrice !== undefined && price > limits.maxPrice) fail(`max price ${usd(limits.maxPrice)}`);
    const latency = expectedLatency(model, candidate.outputCap, state);
    if (limits.maxLatencyMs !== undefined && latency.ms > limits.maxLatencyMs) fail(`max latency ${limits.maxLatencyMs} ms`);
    if (ok) {
      eligible.push({ model, candidate, price, quality: qualityFor(model, analysis.task), expectedLatencyMs: latency.ms, latencySource: latency.source });
    }
  }
  return { eligible, excluded };
}

/** "max price $0.0001 excluded gpt-4o, claude-sonnet-4-20250514; vision excluded deepseek-chat" */
export function describeExclusions(excluded: Exclusions): string {
  return [...excluded].map(([limit, models]) => `${limit} excluded ${models.join(", ")}`).join("; ");
}
