/**
 * A priced offer for one paid resource (a chat call on its primary model, embeddings, a wallet's
 * debt): what the 402 asks for, and what a paid retry is matched against. The quote signs the
 * body hash, the model, the amount and the output cap (payment/quote.ts), so a v2 payment that
 * echoes it pays for exactly this; a v1 payment, which echoes nothing, is matched against the
 * offer the same request gets now.
 */
export interface Offer {
  /** Atomic units of the asset. */
  amount: bigint;
  /** Signed quote token (payment/quote.ts), carried in `extra.quote`. */
  quote: string;
  /** Canonical hash of what is paid for (the request body, or the debt's description). */
  bodyHash: string;
  /** What is sold: a catalog model id, or "debt". */
  model: string;
  /** The output cap the amount assumes (1 where output is not metered). */
  outputCap: number;
  /** The model the request named, when it named one rather than a strategy: no quote for another model pays for it. */
  explicitModel?: string | undefined;
  /** x402 `resource`: the URL being paid for. */
  resourceUrl: string;
  /** x402 resource description, shown by wallets. */
  description: string;
  /** Credit of `wallet` that pays part of the price: `amount` is what is left to pay on chain. */
  credit?: { wallet: `0x${string}`; amount: bigint } | undefined;
}
