import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson, writeByWalk } from "./canonical-json.ts";

/** The recursive definition bodyHash used before issue 11: the loop must write the same text, or quotes signed by another replica stop matching. */
function recursiveCanonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(recursiveCanonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${recursiveCanonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

describe("canonical JSON", () => {
  it("writes what the recursive definition wrote, both ways, for any JSON value and for undefined members", () => {
    const cases: unknown[] = [
      { b: 1, a: [true, null, "x"], c: undefined, "": { z: 0, é: 1, Z: 2 } },
      [undefined, 1],
      [],
      {},
      "text",
      null,
      { "10": 1, "9": 2, a: { "2": [], "10": {} } }, // integer-like keys: string order, not V8's numeric order
      JSON.parse('{"__proto__": {"x": 1}, "a": {"b": 2}}'), // an own __proto__ key, and objects without one
      { constructor: 1, toString: { valueOf: 2 }, a: {} },
    ];
    expect(canonicalJson(cases[0])).toBe('{"":{"Z":2,"z":0,"é":1},"a":[true,null,"x"],"b":1}');
    for (const value of cases) {
      expect(canonicalJson(value)).toBe(recursiveCanonicalJson(value));
      expect(writeByWalk(value)).toBe(recursiveCanonicalJson(value));
    }
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const expected = recursiveCanonicalJson(value);
        expect(canonicalJson(value)).toBe(expected);
        expect(writeByWalk(value)).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it("falls back to the walk when the key list would make JSON.stringify slow, with the same text", () => {
    // 3,000 distinct keys x 3,000 objects is past the lookup limit.
    const value = Array.from({ length: 3_000 }, (_, i) => ({ [`k${i}`]: i, shared: { z: 1, a: 2 } }));
    expect(canonicalJson(value)).toBe(recursiveCanonicalJson(value));
  });

  it("writes a value nested 100,000 deep, which overflowed the recursive version's stack", () => {
    let value: unknown = 1;
    for (let i = 0; i < 100_000; i++) value = i % 2 === 0 ? [value] : { k: value };
    expect(() => recursiveCanonicalJson(value)).toThrow(RangeError);
    expect(() => JSON.stringify(value)).toThrow(RangeError);
    const text = canonicalJson(value);
    expect(text.length).toBe(1 + 50_000 * 2 + 50_000 * 6);
    expect(text.startsWith('{"k":[{"k":[')).toBe(true);
  });
});
