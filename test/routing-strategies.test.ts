import { describe, expect, it } from "vitest";
import { decide } from "../src/routing/decide.ts";
import { costBar } from "../src/routing/strategies/cost.ts";
import { analysisOf, listPrice, modelsOf } from "./support/routing-models.ts";

// 1,000 input + 1,000 output tokens: price in atomic USDC = 2,000 * rate per token.
const models = modelsOf([
  { id: "tiny", usdPerMTok: "0.10", quality: { qa: 60, code: 50 }, ttftMs: 200, tokensPerSecond: 500 },
  { id: "mid", usdPerMTok: "1.00", quality: { qa: 80, code: 75 }, ttftMs: 500, tokensPerSecond: 100 },
  { id: "big", usdPerMTok: "10.00", quality: { qa: 92, code: 95 }, ttftMs: 1_500, tokensPerSecond: 50 },
  { id: "big-twin", usdPerMTok: "5.00", quality: { qa: 92, code: 88 }, ttftMs: 3_000, tokensPerSecond: 30 },
]);

const route = (requestedModel: string, analysis = analysisOf(), extra: Partial<Parameters<typeof decide>[0]> = {}) =>
  decide({ analysis, requestedModel, defaultStrategy: "cost", models, priceOf: listPrice, ...extra });

describe("cost strategy", () => {
  it("raises its quality bar with complexity: 55 for trivial, 90 for the hardest", () => {
    expect(costBar(0)).toBe(55);
    expect(costBar(1)).toBe(90);
  });

  it("picks the cheapest model that meets the bar for an easy request", () => {
    const decision = route("auto:cost", analysisOf({ complexity: 0.1 }));
    expect(decision.strategy).toBe("cost");
    expect(decision.candidates.map((c) => c.model)).toEqual(["tiny", "mid", "big-twin", "big"]);
    expect(decision.reason).toMatch(/cheapest of 4 models meeting the quality bar 59/);
  });

  it("moves up to a dearer model when the request is harder", () => {
    const decision = route("auto:cost", analysisOf({ complexity: 0.7 })); // bar 79.5
    expect(decision.candidates[0]?.model).toBe("mid");
    // Bar-meeters cheapest first, then the rest best first: the fallback never drops below the bar first.
    expect(decision.candidates.map((c) => c.model)).toEqual(["mid", "big-twin", "big", "tiny"]);
  });

  it("takes the best model when none meets the bar", () => {
    const decision = route("auto:cost", analysisOf({ task: "code", complexity: 1 })); // bar 90, big has 95
    expect(decision.candidates[0]?.model).toBe("big");
    const none = route("auto:cost", analysisOf({ task: "math", complexity: 1 })); // no math quality: all default 50
    expect(none.reason).toMatch(/no model meets/);
    expect(none.candidates[0]?.model).toBe("tiny"); // equal quality: cheapest
  });

  it("is what plain auto uses when the default strategy is cost", () => {
    expect(route("auto").strategy).toBe("cost");
  });
});

describe("quality strategy", () => {
  it("picks the best model for the task", () => {
    const decision = route("auto:quality", analysisOf({ task: "code" }));
    expect(decision.candidates.map((c) => c.model)).toEqual(["big", "big-twin", "mid", "tiny"]);
    expect(decision.reason).toMatch(/best code quality/);
  });

  it("lets the cheaper of two equally good models win", () => {
    const decision = route("auto:quality", analysisOf({ task: "qa" }));
    expect(decision.candidates[0]?.model).toBe("big-twin");
    expect(decision.reason).toMatch(/cheapest of 2 tied/);
  });
});

describe("balanced strategy", () => {
  it("weighs quality, price and latency and reports each component", () => {
    const decision = route("auto:balanced");
    // qa quality spans 60 (tiny) to 92: tiny is cheapest and fastest but the weakest, 0.5*0 + 0.3*1 + 0.2*1 = 0.5;
    // mid sits mid-scale on all three, 0.5*(20/32) + 0.3*0.5 + 0.2*0.48 = 0.557, ahead of the big pair.
    expect(decision.candidates.map((c) => c.model)).toEqual(["mid", "big-twin", "big", "tiny"]);
    expect(decision.candidates[0]).toMatchObject({ model: "mid", score: { quality: 80, relativeQuality: 0.625, price: 0.5, total: 0.557, latencySource: "prior" } });
    expect(decision.candidates.at(-1)).toMatchObject({ model: "tiny", score: { relativeQuality: 0, price: 1, latency: 1, total: 0.5 } });
    const mid = decision.candidates[0];
    expect(mid?.score.expectedLatencyMs).toBe(500 + (300 / 100) * 1000); // ttft + 300 typical tokens at 100/s
    for (const c of decision.candidates) expect(c.score.total).toBeLessThanOrEqual(1);
    const totals = decision.candidates.map((c) => c.score.total);
    expect(totals).toEqual([...totals].sort((a, b) => b - a));
  });

  it("follows configured weights: all on quality behaves like the quality strategy", () => {
    const decision = route("auto:balanced", analysisOf({ task: "code" }), { balancedWeights: { quality: 1, price: 0, latency: 0 } });
    expect(decision.candidates[0]?.model).toBe("big");
    const cheap = route("auto:balanced", analysisOf(), { balancedWeights: { quality: 0, price: 1, latency: 0 } });
    expect(cheap.candidates[0]?.model).toBe("tiny");
  });

  it("lands between cost and quality: it never trades the task's quality range away for price alone", () => {
    const cost = route("auto:cost").candidates[0];
    const balanced = route("auto:balanced").candidates[0];
    const quality = route("auto:quality").candidates[0];
    expect(balanced?.score.quality).toBeGreaterThanOrEqual(cost?.score.quality ?? Infinity);
    expect(balanced?.price).toBeGreaterThanOrEqual(cost?.price ?? BigInt(Number.MAX_SAFE_INTEGER));
    expect(balanced?.price).toBeLessThanOrEqual(quality?.price ?? 0n);
  });

  it("refuses weights that cannot be normalised", () => {
    expect(() => route("auto:balanced", analysisOf(), { balancedWeights: { quality: 0, price: 0, latency: 0 } })).toThrow(RangeError);
  });
});

describe("task strategy", () => {
  it("puts the operator's preferences for the task first, in order, then balanced order", () => {
    const decision = route("auto:task", analysisOf({ task: "code" }), { taskPreferences: { code: ["tiny", "big-twin"] } });
    expect(decision.candidates.map((c) => c.model).slice(0, 2)).toEqual(["tiny", "big-twin"]);
    expect(decision.candidates).toHaveLength(4);
    expect(decision.reason).toMatch(/operator preference for code: tiny \(choice 1 of 2\)/);
  });

  it("skips a preferred model that a limit excluded", () => {
    const decision = route("auto:task", analysisOf({ task: "code" }), { taskPreferences: { code: ["big", "mid"] }, limits: { deny: ["big"] } });
    expect(decision.candidates[0]?.model).toBe("mid");
    expect(decision.reason).toMatch(/choice 2 of 2/);
  });

  it("falls back to balanced for a task without preferences", () => {
    const decision = route("auto:task", analysisOf({ task: "qa" }), { taskPreferences: { code: ["tiny"] } });
    expect(decision.candidates[0]?.model).toBe(route("auto:balanced").candidates[0]?.model);
    expect(decision.reason).toMatch(/no operator preference for qa/);
  });
});

describe("strategy names", () => {
  it("refuses an unknown strategy naming the valid ones", () => {
    expect(() => route("auto:fastest")).toThrow(/Unknown routing strategy 'fastest'.*auto:balanced/);
  });
});
