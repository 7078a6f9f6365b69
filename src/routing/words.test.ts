import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { forEachWord } from "./words.ts";

const WORD = /[\p{L}\p{N}]+(?:['’]\p{L}+)?/gu;
const wordsOf = (text: string) => {
  const out: string[] = [];
  forEachWord(text, (w) => out.push(w));
  return out;
};

describe("forEachWord", () => {
  it("splits like the word regex on prose, contractions, numbers and other scripts", () => {
    expect(wordsOf("don't stop: rock'n'roll, 90's, l’homme 3.5x")).toEqual(["don't", "stop", "rock'n", "roll", "90's", "l’homme", "3", "5x"]);
    expect(wordsOf("Résumé · 翻訳して 𠀋𠀋 ١٢٣")).toEqual(["Résumé", "翻訳して", "𠀋𠀋", "١٢٣"]);
  });

  it("gives exactly the regex's matches on any text", () => {
    const alphabet = fc.constantFrom("a", "Z", "é", "ß", "9", "٣", "'", "’", " ", "-", "\n", "翻", "𠀋", "😀", "_", ".", "\u0301");
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 40 }).map((chars) => chars.join("")), (text) => {
        expect(wordsOf(text)).toEqual(Array.from(text.matchAll(WORD), (m) => m[0]));
      }),
      { numRuns: 2_000 },
    );
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 60 }), (text) => {
      expect(wordsOf(text)).toEqual(Array.from(text.matchAll(WORD), (m) => m[0]));
    }), { numRuns: 2_000 });
  });
});
