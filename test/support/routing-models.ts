import { CatalogIndex, type IndexedModel } from "../../src/catalog/index.ts";
import { ModelEntry, TASKS, type Capability } from "../../src/catalog/schema.ts";
import { tokenCost } from "../../src/lib/money.ts";
import type { Analysis, Candidate, Task } from "../../src/routing/types.ts";

export interface ModelSpec {
  id: string;
  provider?: string;
  /** USD per 1M tokens, input and output alike (keeps the arithmetic obvious). */
  usdPerMTok: string;
  quality?: number | Partial<Record<Task, number>>;
  ttftMs?: number;
  tokensPerSecond?: number;
  capabilities?: Capability[];
  contextWindow?: number;
}

/** A small constructed catalog, so a strategy test states its own prices and qualities. */
export function modelsOf(specs: ModelSpec[]): readonly IndexedModel[] {
  const models = specs.map((s) =>
    ModelEntry.parse({
      id: s.id,
      provider: s.provider ?? "test",
      pricing: { inputPerMTok: s.usdPerMTok, outputPerMTok: s.usdPerMTok, asOf: "2025-07-01", source: "https://example.com/pricing" },
      contextWindow: s.contextWindow ?? 100_000,
      maxOutputTokens: 4_096,
      capabilities: s.capabilities ?? ["tools", "json", "streaming"],
      ...(s.quality === undefined ? {} : { quality: typeof s.quality === "number" ? Object.fromEntries(TASKS.map((t) => [t, s.quality])) : s.quality }),
      ...(s.ttftMs === undefined ? {} : { latency: { ttftMs: s.ttftMs, tokensPerSecond: s.tokensPerSecond ?? 100 } }),
    }),
  );
  return new CatalogIndex({ version: 1, models }).models();
}

export function analysisOf(overrides: Partial<Analysis> = {}): Analysis {
  const inputTokens = overrides.inputTokens ?? 1_000;
  return {
    inputTokens,
    tokenCount: "o200k",
    task: "qa",
    taskFeatures: [],
    complexity: 0.3,
    capabilities: [],
    minContextWindow: inputTokens + 1,
    requestedMaxTokens: 1_000,
    ...overrides,
  };
}

/** Price = upstream worst case, no markup: what the test catalogs' rates say. */
export const listPrice = (candidate: Candidate): bigint => candidate.worstCaseCost;
export { tokenCost };
