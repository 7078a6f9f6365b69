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

/** Token usage as the upstream reported it (providers/types.ts Usage has these fields). */
export interface UsedTokens {
  promptTokens: number;
  completionTokens: number;
  /** Part of promptTokens read from the provider's cache, billed at the cached rate. */
  cachedPromptTokens: number;
}

/** What the upstream charges us for tokens actually used (no markup), rounded up. */
export function upstreamCost(rates: ModelRates & { cachedInputPerMTok?: bigint }, usage: UsedTokens): bigint {
  return ceilDiv(usageMicroCost(rates, usage), 1_000_000n);
}

/**
 * What a call that used `usage` costs the agent, atomic USDC (DESIGN.md "Schemes and the paid
 * lifecycle"): ceil((input * in_rate + cached * cached_rate + output * out_rate) * (1 + markup)),
 * at least minPrice and never above `maximum`, the amount the agent signed. Reasoning tokens are
 * part of completionTokens, as every provider bills them. The floor also means an `upto`
 * settlement is never 0: settling 0 sends no transaction and leaves the Permit2 nonce unused, so
 * the same signature could pay again (issue 12, item 5).
 */
export function chargeFor(input: { rates: ModelRates & { cachedInputPerMTok?: bigint }; usage: UsedTokens; markupBps: number; minPrice: bigint; maximum: bigint }): bigint {
  const charge = ceilDiv(usageMicroCost(input.rates, input.usage) * BigInt(10_000 + input.markupBps), 1_000_000n * 10_000n);
  const floored = charge > input.minPrice ? charge : input.minPrice;
  return floored < input.maximum ? floored : input.maximum;
}

/** Atomic USDC per 1M tokens times tokens: the cost before dividing by 1M, so one ceil rounds. */
function usageMicroCost(rates: ModelRates & { cachedInputPerMTok?: bigint }, usage: UsedTokens): bigint {
  const cached = Math.min(Math.max(usage.cachedPromptTokens, 0), usage.promptTokens);
  const cachedRate = rates.cachedInputPerMTok ?? rates.inputPerMTok;
  return BigInt(usage.promptTokens - cached) * rates.inputPerMTok + BigInt(cached) * cachedRate + BigInt(usage.completionTokens) * rates.outputPerMTok;
}
