import { createRequire } from "node:module";
import fc from "fast-check";
import { Tiktoken } from "js-tiktoken/lite";
import { describe, expect, it } from "vitest";
import { countMessageTokens, countTokens, decodeTokens, encodeTokens, TokenBudget } from "./tokenizer.ts";

// js-tiktoken (a port of OpenAI's tiktoken) as the reference the gateway's encoder must match.
const require = createRequire(import.meta.url);
const reference = new Tiktoken(require("js-tiktoken/ranks/o200k_base") as ConstructorParameters<typeof Tiktoken>[0]);

describe("o200k tokenizer", () => {
  it("gives the same token ids as tiktoken's o200k_base, special-token text included", () => {
    for (const text of ["hello", "<|endoftext|> is text here", "```python\ndef f(x):\n  return x**2\n```", "日本語 émoji 🚀", " ".repeat(33)]) {
      expect(encodeTokens(text)).toEqual(reference.encode(text, [], []));
    }
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 200 }), (text) => {
        expect(encodeTokens(text)).toEqual(reference.encode(text, [], []));
      }),
      { numRuns: 300 },
    );
  });

  it("gives tiktoken's token ids for long pieces too, which take the heap instead of tiktoken's quadratic loop", () => {
    // One piece each (no spaces, no case change into a capital, no digits): 65 bytes and up go through #mergeLong.
    const alphabets = [
      "abcdefghijklmnopqrstuvwxyz",
      "ab",
      "a",
      "абвгдежзийклмнопрстуфхцчшщъыьэюя",
      "的一是不了人我在有他这中大来上个国到说们为子和你地出道也时年",
      "😀😁😂😃😄😅😆😇😈😉😊😋😌😍😎😏",
      "\ue000\ue001\ue002\ue0ff",
      "!#$%&*+-.:;<=>?@^_|~",
      "aeiou\u0301\u0308",
    ];
    const piece = (alphabet: string) => fc.array(fc.constantFrom(...Array.from(alphabet)), { minLength: 40, maxLength: 200 }).map((chars) => chars.join(""));
    fc.assert(
      fc.property(fc.constantFrom(...alphabets).chain(piece), (text) => {
        expect(encodeTokens(text)).toEqual(reference.encode(text, [], []));
      }),
      { numRuns: 100 },
    );
    // js-tiktoken's own loop is quadratic, so the reference limits how long these can be.
    for (const text of ["a".repeat(1_000), "ab".repeat(500), "-".repeat(1_000), " ".repeat(1_000) + "x", "z".repeat(129)]) {
      expect(encodeTokens(text)).toEqual(reference.encode(text, [], []));
    }
  });

  it("counts exactly within its budget, and never below the exact count past it", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 400 }), fc.nat({ max: 2_000 }), (text, steps) => {
        const exact = encodeTokens(text).length;
        expect(countTokens(text)).toBe(exact);
        const budget = new TokenBudget(steps);
        const counted = budget.count(text);
        if (budget.exact) expect(counted).toBe(exact);
        else expect(counted).toBeGreaterThanOrEqual(exact);
        expect(counted).toBeLessThanOrEqual(Math.max(exact, Buffer.byteLength(text)));
      }),
      { numRuns: 300 },
    );
    const messages = [{ role: "user", content: "x".repeat(20_000) }, { role: "assistant", content: "fine" }, { role: "user", content: "and again" }];
    const exact = countMessageTokens(messages);
    const budget = new TokenBudget(1_000);
    const bound = countMessageTokens(messages, budget);
    expect(budget.exact).toBe(false);
    expect(bound).toBeGreaterThan(exact);
    expect(countMessageTokens(messages, new TokenBudget(10_000_000))).toBe(exact);
  });

  it("decodes what it encodes", () => {
    const text = "A toll for every call: 0.000362 USDC.";
    expect(decodeTokens(encodeTokens(text))).toBe(text);
  });
});
