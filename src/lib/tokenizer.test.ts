import { createRequire } from "node:module";
import fc from "fast-check";
import { Tiktoken } from "js-tiktoken/lite";
import { describe, expect, it } from "vitest";
import { decodeTokens, encodeTokens } from "./tokenizer.ts";

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

  it("decodes what it encodes", () => {
    const text = "A toll for every call: 0.000362 USDC.";
    expect(decodeTokens(encodeTokens(text))).toBe(text);
  });
});
