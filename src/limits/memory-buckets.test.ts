import { describe, expect, it } from "vitest";
import { MemoryBuckets } from "./memory-buckets.ts";
import type { BucketLimit } from "./token-bucket.ts";

const limit: BucketLimit = { policy: "unpaid", ratePerSecond: 2, burst: 3 };

function clock() {
  let now = 1_000;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe("in-process token buckets", () => {
  it("allows the burst at once, then one request per 1/rate seconds", () => {
    const time = clock();
    const buckets = new MemoryBuckets({ now: time.now });
    expect([1, 2, 3, 4].map(() => buckets.takeNow("a", limit))).toEqual([
      { allowed: true, remaining: 2, nextTokenMs: 500 },
      { allowed: true, remaining: 1, nextTokenMs: 500 },
      { allowed: true, remaining: 0, nextTokenMs: 500 },
      { allowed: false, remaining: 0, nextTokenMs: 500 },
    ]);
    time.advance(499);
    expect(buckets.takeNow("a", limit)).toEqual({ allowed: false, remaining: 0, nextTokenMs: 1 });
    time.advance(1);
    expect(buckets.takeNow("a", limit)).toEqual({ allowed: true, remaining: 0, nextTokenMs: 500 });
    // Another key has its own bucket.
    expect(buckets.takeNow("b", limit).allowed).toBe(true);
  });

  it("never refills past the burst", () => {
    const time = clock();
    const buckets = new MemoryBuckets({ now: time.now });
    buckets.takeNow("a", limit);
    time.advance(3_600_000);
    expect([1, 2, 3, 4].map(() => buckets.takeNow("a", limit).allowed)).toEqual([true, true, true, false]);
  });

  it("drops idle buckets once they have refilled", () => {
    const time = clock();
    const buckets = new MemoryBuckets({ now: time.now });
    for (const key of ["a", "b", "c"]) buckets.takeNow(key, limit);
    expect(buckets.size).toBe(3);
    // One token refills in 500 ms: a, b and c are full again, and the next take drops them.
    time.advance(500);
    buckets.takeNow("d", limit);
    expect(buckets.size).toBe(1);
  });

  it("holds at most maxBuckets, dropping the least recently used", () => {
    const time = clock();
    const buckets = new MemoryBuckets({ now: time.now, maxBuckets: 100 });
    for (let i = 0; i < 10_000; i += 1) buckets.takeNow(`client-${i}`, limit);
    expect(buckets.size).toBe(100);
    // The newest clients are still counted; the oldest were forgiven.
    for (let i = 0; i < 2; i += 1) buckets.takeNow("client-9999", limit);
    expect(buckets.takeNow("client-9999", limit).allowed).toBe(false);
    expect(buckets.takeNow("client-0", limit)).toEqual({ allowed: true, remaining: 2, nextTokenMs: 500 });
  });
});
