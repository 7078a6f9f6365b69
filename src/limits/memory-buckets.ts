import { refillMs, takeFrom, type BucketLimit, type BucketState, type BucketStore, type TakeResult } from "./token-bucket.ts";

/** Enough for every client of a busy gateway; about 100 bytes each, so ~10 MB at the cap. */
export const DEFAULT_MAX_BUCKETS = 100_000;

interface Entry extends BucketState {
  /** When this bucket is full again and can be dropped without changing any answer. */
  fullAt: number;
}

/**
 * Buckets in this process's memory, bounded. The map is kept in order of last use (a touched
 * bucket moves to the end), so the oldest entries are the idlest: each take drops those already
 * refilled to full, which carry no state. Past `maxBuckets` the least recently used one goes
 * even if not full, which forgives that client's debt: a bounded heap beats an exact count
 * under an address-rotating flood.
 */
export class MemoryBuckets implements BucketStore {
  readonly #buckets = new Map<string, Entry>();
  readonly #maxBuckets: number;
  readonly #now: () => number;

  constructor(options: { maxBuckets?: number; now?: () => number } = {}) {
    this.#maxBuckets = options.maxBuckets ?? DEFAULT_MAX_BUCKETS;
    this.#now = options.now ?? (() => performance.now());
  }

  get size(): number {
    return this.#buckets.size;
  }

  take(key: string, limit: BucketLimit): Promise<TakeResult> {
    return Promise.resolve(this.takeNow(key, limit));
  }

  takeNow(key: string, limit: BucketLimit): TakeResult {
    const now = this.#now();
    const saved = this.#buckets.get(key);
    const { state, result } = takeFrom(saved, limit, now);
    if (saved !== undefined) this.#buckets.delete(key);
    // A full bucket (a refused take on a missing one) is the default: nothing to keep.
    if (state.tokens < limit.burst) this.#buckets.set(key, { ...state, fullAt: now + refillMs(state.tokens, limit) });
    this.#evict(now);
    return result;
  }

  #evict(now: number): void {
    for (const [key, entry] of this.#buckets) {
      if (entry.fullAt > now && this.#buckets.size <= this.#maxBuckets) return;
      this.#buckets.delete(key);
    }
  }

  close(): Promise<void> {
    this.#buckets.clear();
    return Promise.resolve();
  }
}
