/**
 * Token buckets (DESIGN.md "Operators": rate limits). A bucket holds up to `burst` tokens and
 * gains `ratePerSecond` of them every second; a request takes one. The same arithmetic runs in
 * process (memory-buckets.ts) and inside Redis (redis-buckets.ts, as a Lua script), so a
 * gateway that loses Redis limits the same way on its own.
 */

/** An operator's limit: `policy` names it in the RateLimit headers and in bucket keys. */
export interface BucketLimit {
  policy: "unpaid" | "paid";
  ratePerSecond: number;
  burst: number;
}

export interface TakeResult {
  allowed: boolean;
  /** Whole tokens left after this take. */
  remaining: number;
  /** Milliseconds until the bucket holds one more whole token; 0 when it is full. */
  nextTokenMs: number;
}

/** Where the buckets live: this process, or Redis shared by every gateway process. */
export interface BucketStore {
  /** Takes a token from the bucket `key`, if it holds one. */
  take(key: string, limit: BucketLimit): Promise<TakeResult>;
  close(): Promise<void>;
}

export interface BucketState {
  tokens: number;
  /** When `tokens` was counted, milliseconds on the store's clock. */
  at: number;
}

/** The bucket after a token is taken at `now` (a missing bucket is full), and the outcome. */
export function takeFrom(state: BucketState | undefined, limit: BucketLimit, now: number): { state: BucketState; result: TakeResult } {
  const elapsed = state === undefined ? 0 : Math.max(0, now - state.at);
  let tokens = state === undefined ? limit.burst : Math.min(limit.burst, state.tokens + (elapsed * limit.ratePerSecond) / 1000);
  const allowed = tokens >= 1;
  if (allowed) tokens -= 1;
  return { state: { tokens, at: now }, result: { allowed, remaining: Math.floor(tokens), nextTokenMs: nextTokenMs(tokens, limit) } };
}

function nextTokenMs(tokens: number, limit: BucketLimit): number {
  if (tokens >= limit.burst) return 0;
  return ceilMs(((Math.floor(tokens) + 1 - tokens) * 1000) / limit.ratePerSecond);
}

/** Milliseconds until a bucket holding `tokens` is full again: after that it carries no state. */
export function refillMs(tokens: number, limit: BucketLimit): number {
  return ceilMs(((limit.burst - tokens) * 1000) / limit.ratePerSecond);
}

/** Whole milliseconds, rounding up, but not for float noise: 1.0000000000000009 ms is 1 ms. */
function ceilMs(ms: number): number {
  return Math.ceil(ms - FLOAT_NOISE_MS);
}
export const FLOAT_NOISE_MS = 1e-6;
