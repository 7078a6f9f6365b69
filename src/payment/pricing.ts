import { ceilDiv } from "../lib/money.ts";

export interface ModelRates {
  /** Atomic USDC per 1M input tokens. */
  inputPerMTok: bigint;
  outputPerMTok: bigint;
}

export interface PriceInput {
  rates: ModelRates;
  inputTokens: number;
  /** Output cap the upstream is held to (the request's max_tokens clamped to the model's limit). */
  outputCap: number;
  markupBps: number;
  minPrice: bigint;
}

/**
 * Worst-case exact price in atomic USDC (DESIGN.md, paid call step 4):
 *   price = ceil((in_tokens * in_rate + out_cap * out_rate) * (1 + markup)), at least minPrice.
 * Rates are per 1M tokens, markup in basis points; a single ceil keeps rounding in the seller's
 * favour by less than one atomic unit.
 */
export function priceCall(input: PriceInput): bigint {
  const raw = BigInt(input.inputTokens) * input.rates.inputPerMTok + BigInt(input.outputCap) * input.rates.outputPerMTok;
  const price = ceilDiv(raw * BigInt(10_000 + input.markupBps), 1_000_000n * 10_000n);
  return price > input.minPrice ? price : input.minPrice;
}

/** What the upstream charges us for tokens actually used (no markup), rounded up. */
export function upstreamCost(rates: ModelRates & { cachedInputPerMTok?: bigint }, usage: { promptTokens: number; completionTokens: number; cachedPromptTokens: number }): bigint {
  const cached = Math.min(usage.cachedPromptTokens, usage.promptTokens);
  const cachedRate = rates.cachedInputPerMTok ?? rates.inputPerMTok;
  const raw =
    BigInt(usage.promptTokens - cached) * rates.inputPerMTok +
    BigInt(cached) * cachedRate +
    BigInt(usage.completionTokens) * rates.outputPerMTok;
  return ceilDiv(raw, 1_000_000n);
}
