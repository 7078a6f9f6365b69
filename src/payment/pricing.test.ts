import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chargeFor, priceCall, upstreamCost } from "./pricing.ts";

// gpt-4o-mini's list prices in atomic USDC per 1M tokens: $0.15 in, $0.075 cached, $0.60 out.
const rates = { inputPerMTok: 150_000n, cachedInputPerMTok: 75_000n, outputPerMTok: 600_000n };
const markupBps = 1_000;
const minPrice = 100n;

describe("chargeFor", () => {
  it("charges the tokens used at list price plus markup, rounded up once", () => {
    // (1000 * 0.15 + 500 * 0.60) $/1M = $0.00045; +10% = $0.000495 = 495 atomic.
    expect(chargeFor({ rates, usage: { promptTokens: 1_000, completionTokens: 500, cachedPromptTokens: 0 }, markupBps, minPrice, maximum: 10_000n })).toBe(495n);
    // 400 of the 1000 input tokens cached: 600*0.15 + 400*0.075 + 500*0.60 = 420 micro-USD, +10% = 462.
    expect(chargeFor({ rates, usage: { promptTokens: 1_000, completionTokens: 500, cachedPromptTokens: 400 }, markupBps, minPrice, maximum: 10_000n })).toBe(462n);
  });

  it("never charges below the minimum price, so an upto settlement is never 0", () => {
    expect(chargeFor({ rates, usage: { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0 }, markupBps, minPrice, maximum: 10_000n })).toBe(minPrice);
  });

  it("never charges above what was signed", () => {
    expect(chargeFor({ rates, usage: { promptTokens: 1_000_000, completionTokens: 1_000_000, cachedPromptTokens: 0 }, markupBps, minPrice, maximum: 5_000n })).toBe(5_000n);
  });

  it("agrees with the worst-case price when the whole output cap was used, and is bounded by it otherwise", () => {
    fc.assert(
      fc.property(fc.nat(200_000), fc.nat(16_384), fc.nat(16_384), (input, cap, used) => {
        const maximum = priceCall({ rates, inputTokens: input, outputCap: cap, markupBps, minPrice });
        const whole = chargeFor({ rates, usage: { promptTokens: input, completionTokens: cap, cachedPromptTokens: 0 }, markupBps, minPrice, maximum });
        expect(whole).toBe(maximum);
        const part = chargeFor({ rates, usage: { promptTokens: input, completionTokens: Math.min(used, cap), cachedPromptTokens: 0 }, markupBps, minPrice, maximum });
        expect(part).toBeLessThanOrEqual(maximum);
        expect(part).toBeGreaterThanOrEqual(minPrice < maximum ? minPrice : maximum);
        // The charge covers the upstream's bill for the same tokens, unless the maximum caps it.
        const bill = upstreamCost(rates, { promptTokens: input, completionTokens: Math.min(used, cap), cachedPromptTokens: 0 });
        expect(part).toBeGreaterThanOrEqual(bill < maximum ? bill : maximum);
      }),
    );
  });
});
