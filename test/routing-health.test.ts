import { describe, expect, it } from "vitest";
import { decide } from "../src/routing/decide.ts";
import { HealthTracker, healthKey } from "../src/routing/health.ts";
import { analysisOf, listPrice, modelsOf } from "./support/routing-models.ts";

const options = { failureThreshold: 3, errorRateThreshold: 0.5, minSamples: 4, cooldownMs: 10_000, alpha: 0.5 };
const fail = (h: HealthTracker, now: number) => h.record({ model: "m", provider: "p", ok: false, now });
const succeed = (h: HealthTracker, now: number, latencyMs = 100) => h.record({ model: "m", provider: "p", ok: true, latencyMs, now });
const state = (h: HealthTracker, now: number) => h.snapshot(now)[healthKey("m", "p")]?.state;

describe("circuit breaker on a fake clock", () => {
  it("opens after N consecutive failures and refuses calls", () => {
    const h = new HealthTracker(options);
    fail(h, 0);
    fail(h, 1);
    expect(state(h, 2)).toBe("closed");
    fail(h, 2);
    expect(state(h, 3)).toBe("open");
    expect(h.allows("m", "p", 3)).toBe(false);
  });

  it("opens when the error rate passes the threshold over the minimum sample", () => {
    const h = new HealthTracker({ ...options, failureThreshold: 100 });
    let now = 0;
    for (const ok of [true, false, true, false]) h.record({ model: "m", provider: "p", ok, now: now++ });
    // EWMA (alpha 0.5): 0, 0.5, 0.25, 0.625 > 0.5 after the 4th sample.
    expect(state(h, now)).toBe("open");
  });

  it("does not open on a high error rate before the minimum sample", () => {
    const h = new HealthTracker({ ...options, failureThreshold: 100 });
    fail(h, 0);
    fail(h, 1);
    expect(state(h, 2)).toBe("closed");
  });

  it("goes half-open after the cool-down and lets exactly one probe through", () => {
    const h = new HealthTracker(options);
    for (let i = 0; i < 3; i++) fail(h, i);
    expect(state(h, 9_999)).toBe("open");
    expect(state(h, 10_002)).toBe("half_open");
    expect(h.snapshot(10_002)[healthKey("m", "p")]?.available).toBe(true);
    expect(h.allows("m", "p", 10_002)).toBe(true);
    expect(h.allows("m", "p", 10_003)).toBe(false);
    expect(h.snapshot(10_003)[healthKey("m", "p")]?.available).toBe(false);
  });

  it("closes on a successful probe, with a fresh start", () => {
    const h = new HealthTracker(options);
    for (let i = 0; i < 3; i++) fail(h, i);
    expect(h.allows("m", "p", 10_002)).toBe(true);
    succeed(h, 10_050);
    const snap = h.snapshot(10_051)[healthKey("m", "p")];
    expect(snap).toMatchObject({ state: "closed", consecutiveFailures: 0, errorRate: 0, available: true });
  });

  it("opens again when the probe fails", () => {
    const h = new HealthTracker(options);
    for (let i = 0; i < 3; i++) fail(h, i);
    expect(h.allows("m", "p", 10_002)).toBe(true);
    fail(h, 10_050);
    expect(state(h, 10_051)).toBe("open");
    expect(h.snapshot(10_051)[healthKey("m", "p")]?.openedAt).toBe(10_050);
    expect(state(h, 20_050)).toBe("half_open");
  });

  it("frees the probe slot when a probe never reports back", () => {
    const h = new HealthTracker(options);
    for (let i = 0; i < 3; i++) fail(h, i);
    expect(h.allows("m", "p", 10_002)).toBe(true);
    expect(h.allows("m", "p", 15_000)).toBe(false);
    expect(h.allows("m", "p", 20_002)).toBe(true);
  });

  it("keeps EWMAs of latency and time to first token", () => {
    const h = new HealthTracker(options);
    h.record({ model: "m", provider: "p", ok: true, latencyMs: 1_000, ttftMs: 200, now: 0 });
    h.record({ model: "m", provider: "p", ok: true, latencyMs: 2_000, ttftMs: 400, now: 1 });
    expect(h.snapshot(2)[healthKey("m", "p")]).toMatchObject({ latencyMs: 1_500, ttftMs: 300, latencySamples: 2 });
  });
});

describe("health in routing", () => {
  const models = modelsOf([
    { id: "fast-prior", provider: "p", usdPerMTok: "1.00", quality: 80, ttftMs: 100, tokensPerSecond: 1_000 },
    { id: "slow-prior", provider: "p", usdPerMTok: "1.00", quality: 80, ttftMs: 3_000, tokensPerSecond: 30 },
  ]);
  const route = (health = new HealthTracker(options).snapshot(0)) =>
    decide({ analysis: analysisOf(), requestedModel: "auto:balanced", defaultStrategy: "cost", models, health, priceOf: listPrice });

  it("drops a model whose circuit is open and says so when nothing is left", () => {
    const h = new HealthTracker(options);
    for (let i = 0; i < 3; i++) h.record({ model: "fast-prior", provider: "p", ok: false, now: i });
    expect(route(h.snapshot(5)).candidates.map((c) => c.model)).toEqual(["slow-prior"]);
    for (let i = 0; i < 3; i++) h.record({ model: "slow-prior", provider: "p", ok: false, now: i });
    expect(() => route(h.snapshot(5))).toThrow(/circuit open excluded fast-prior, slow-prior/);
  });

  it("ranks by the catalog's latency priors until live samples exist, then by live latency", () => {
    expect(route().candidates[0]).toMatchObject({ model: "fast-prior", score: { latencySource: "prior" } });
    const h = new HealthTracker(options);
    for (let i = 0; i < 3; i++) {
      h.record({ model: "fast-prior", provider: "p", ok: true, latencyMs: 9_000, now: i });
      h.record({ model: "slow-prior", provider: "p", ok: true, latencyMs: 400, now: i });
    }
    const live = route(h.snapshot(10));
    expect(live.candidates[0]).toMatchObject({ model: "slow-prior", score: { latencySource: "live", expectedLatencyMs: 400 } });
  });
});
