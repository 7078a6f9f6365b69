import { describe, expect, it } from "vitest";
import { failoverAction } from "./failover-policy.ts";

describe("failoverAction", () => {
  it.each([
    [undefined, undefined, "next"],
    [400, undefined, "stop"],
    [401, undefined, "next"],
    [403, undefined, "next"],
    [404, undefined, "next"],
    [413, undefined, "stop"],
    [422, undefined, "stop"],
    [429, undefined, "next"],
    [429, 1200, "retry_after"],
    [500, undefined, "next"],
    [503, undefined, "next"],
    [529, undefined, "next"],
    [418, undefined, "stop"],
  ] as const)("status %s with retry-after %s -> %s", (status, retryAfter, action) => {
    expect(failoverAction(status, retryAfter)).toBe(action);
  });
});
