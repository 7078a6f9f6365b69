import { describe, expect, it } from "vitest";
import { TollgateError } from "../src/lib/errors.ts";
import { decide } from "../src/routing/decide.ts";
import { parseAgentLimits, type AgentLimits } from "../src/routing/limits.ts";
import { analysisOf, listPrice, modelsOf } from "./support/routing-models.ts";

const models = modelsOf([
  { id: "cheap-text", provider: "acme", usdPerMTok: "0.10", quality: 60, ttftMs: 200, capabilities: ["json"] },
  { id: "mid-vision", provider: "acme", usdPerMTok: "1.00", quality: 80, ttftMs: 500, capabilities: ["vision", "json", "tools"] },
  { id: "big-vision", provider: "globex", usdPerMTok: "10.00", quality: 95, ttftMs: 4_000, tokensPerSecond: 50, capabilities: ["vision", "tools"] },
]);
// With 1,000 in + 1,000 out: cheap-text 200, mid-vision 2,000, big-vision 20,000 atomic USDC.

function route(limits: AgentLimits, requestedModel = "auto:cost", analysis = analysisOf()) {
  return decide({ analysis, requestedModel, defaultStrategy: "cost", models, limits, priceOf: listPrice });
}

function refusal(fn: () => unknown): TollgateError {
  try {
    fn();
  } catch (error) {
    if (error instanceof TollgateError) return error;
    throw error;
  }
  throw new Error("expected a TollgateError");
}

describe("parsing limit headers", () => {
  it("reads every header into typed limits", () => {
    const limits = parseAgentLimits({
      "x-tollgate-max-price": "0.0025",
      "x-tollgate-max-latency-ms": "1500",
      "x-tollgate-require": "vision, JSON",
      "x-tollgate-allow": "acme,big-vision",
      "x-tollgate-deny": "cheap-text",
    });
    expect(limits).toEqual({ maxPrice: 2_500n, maxLatencyMs: 1_500, require: ["vision", "json"], allow: ["acme", "big-vision"], deny: ["cheap-text"] });
    expect(parseAgentLimits({})).toEqual({});
  });

  it.each([
    ["x-tollgate-max-price", "-1"],
    ["x-tollgate-max-price", "0"],
    ["x-tollgate-max-price", "0.0000001"],
    ["x-tollgate-max-price", "$1"],
    ["x-tollgate-max-latency-ms", "fast"],
    ["x-tollgate-max-latency-ms", "0"],
    ["x-tollgate-max-latency-ms", "12.5"],
    ["x-tollgate-require", "vision,telepathy"],
    ["x-tollgate-require", ""],
    ["x-tollgate-allow", "acme,,globex"],
  ])("refuses %s: %j as invalid_header naming the header", (header, value) => {
    const error = refusal(() => parseAgentLimits({ [header]: value }));
    expect(error.code).toBe("invalid_header");
    expect(error.status).toBe(400);
    expect(error.param).toBe(header);
    expect(error.message).toContain(header);
  });

  it("names the unknown capability and lists the known ones", () => {
    expect(refusal(() => parseAgentLimits({ "x-tollgate-require": "telepathy" })).message).toMatch(/'telepathy'.*tools, vision, json/);
  });

  it("refuses allow/deny names outside the catalog when it knows the catalog", () => {
    const known = { models: ["cheap-text"], providers: ["acme"] };
    expect(parseAgentLimits({ "x-tollgate-deny": "acme" }, known)).toEqual({ deny: ["acme"] });
    const error = refusal(() => parseAgentLimits({ "x-tollgate-allow": "gpt-17" }, known));
    expect(error).toMatchObject({ code: "invalid_header", param: "x-tollgate-allow" });
  });

  it("refuses a header sent twice rather than guessing which one counts", () => {
    expect(refusal(() => parseAgentLimits({ "x-tollgate-max-price": ["0.1", "1"] })).param).toBe("x-tollgate-max-price");
  });
});

describe("limits filter the candidates", () => {
  it("max price drops dearer models", () => {
    expect(route({ maxPrice: 2_000n }).candidates.map((c) => c.model).sort()).toEqual(["cheap-text", "mid-vision"]);
  });

  it("max latency drops slower models (prior: ttft + 300 tokens at the model's speed)", () => {
    expect(route({ maxLatencyMs: 5_000 }).candidates.map((c) => c.model).sort()).toEqual(["cheap-text", "mid-vision"]);
  });

  it("require adds capabilities the request itself did not need", () => {
    expect(route({ require: ["tools"] }).candidates.map((c) => c.model)).toEqual(["mid-vision", "big-vision"]);
  });

  it("allow keeps only named models or providers; deny removes them", () => {
    expect(route({ allow: ["globex", "cheap-text"] }).candidates.map((c) => c.model).sort()).toEqual(["big-vision", "cheap-text"]);
    expect(route({ deny: ["acme"] }).candidates.map((c) => c.model)).toEqual(["big-vision"]);
  });

  it("answers 422 naming which limit excluded which models", () => {
    const error = refusal(() => route({ maxPrice: 1_000n }, "auto:cost", analysisOf({ capabilities: ["vision"] })));
    expect(error.code).toBe("no_model_available");
    expect(error.status).toBe(422);
    expect(error.message).toBe("No model satisfies this request: vision excluded cheap-text; max price $0.001 excluded mid-vision, big-vision");
    expect(error.details).toEqual({ excluded: { vision: ["cheap-text"], "max price $0.001": ["mid-vision", "big-vision"] } });
  });

  it("names every limit in the 422: latency, allow and deny too", () => {
    const error = refusal(() => route({ maxLatencyMs: 100, deny: ["cheap-text"], allow: ["acme"] }));
    expect(error.message).toMatch(/deny list excluded cheap-text/);
    expect(error.message).toMatch(/allow list excluded big-vision/);
    expect(error.message).toMatch(/max latency 100 ms excluded cheap-text, mid-vision, big-vision/);
  });
});

describe("an explicit model", () => {
  it("bypasses choice", () => {
    const decision = route({}, "big-vision");
    expect(decision.strategy).toBe("explicit");
    expect(decision.candidates.map((c) => c.model)).toEqual(["big-vision"]);
  });

  it("is refused with 400 naming the capability it lacks", () => {
    const error = refusal(() => route({}, "cheap-text", analysisOf({ capabilities: ["vision"] })));
    expect(error).toMatchObject({ code: "invalid_request", status: 400, param: "model" });
    expect(error.message).toMatch(/'cheap-text' does not support vision/);
    expect(refusal(() => route({ require: ["tools"] }, "cheap-text")).message).toMatch(/does not support tools/);
  });

  it("still honours the agent's price limit", () => {
    const error = refusal(() => route({ maxPrice: 1_000n }, "big-vision"));
    expect(error.code).toBe("no_model_available");
    expect(error.message).toMatch(/max price \$0.001 excluded big-vision/);
  });

  it("is refused when the prompt does not fit its context", () => {
    const error = refusal(() => route({}, "cheap-text", analysisOf({ inputTokens: 200_000, minContextWindow: 200_001 })));
    expect(error.code).toBe("context_length_exceeded");
  });
});
