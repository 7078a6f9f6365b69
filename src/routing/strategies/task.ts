import { balancedStrategy } from "./balanced.ts";
import type { BalancedWeights, StrategyInput, StrategyResult, TaskPreferences } from "./types.ts";

/**
 * The operator's preference list for the request's task comes first, in its order (entries may
 * be model ids or provider names; a provider name brings its eligible models in balanced
 * order). Preferred models that a limit or an open circuit excluded are simply absent. Every
 * other eligible model follows in balanced order, so the fallback chain never runs dry.
 */
export function taskStrategy(input: StrategyInput, preferences: TaskPreferences, weights?: BalancedWeights): StrategyResult {
  const balanced = balancedStrategy(input, weights);
  const list = preferences[input.analysis.task] ?? [];
  if (list.length === 0) return { ranked: balanced.ranked, reason: `no operator preference for ${input.analysis.task}; ${balanced.reason}` };

  const preferred = [];
  const taken = new Set<string>();
  for (const name of list) {
    for (const candidate of balanced.ranked) {
      if ((candidate.model === name || candidate.provider === name) && !taken.has(candidate.model)) {
        preferred.push(candidate);
        taken.add(candidate.model);
      }
    }
  }
  const rest = balanced.ranked.filter((c) => !taken.has(c.model));
  const first = preferred[0];
  if (first === undefined) {
    return { ranked: rest, reason: `none of the operator's ${input.analysis.task} preferences (${list.join(", ")}) is available; ${balanced.reason}` };
  }
  const position = list.findIndex((name) => name === first.model || name === first.provider) + 1;
  return {
    ranked: [...preferred, ...rest],
    reason: `operator preference for ${input.analysis.task}: ${first.model} (choice ${position} of ${list.length}), then balanced order`,
  };
}
