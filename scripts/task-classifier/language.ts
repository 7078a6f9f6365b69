import type { TaskInput } from "../../src/routing/task-vote.ts";

/**
 * A rough language tag for reporting accuracy per language, not for routing: the script of the
 * letters decides for non-Latin text (kana makes Han text Japanese), and for Latin text the
 * language whose common function words appear most. A prompt with a sizeable share of two
 * scripts, or of English and another Latin language, is `mixed`.
 */
export type Language = "en" | "zh" | "ja" | "ko" | "ru" | "ar" | "hi" | "th" | "es" | "de" | "fr" | "pt" | "it" | "other" | "mixed";

const SCRIPTS: Array<[Language, RegExp]> = [
  ["ja", /[\u3040-\u30ff]/gu],
  ["zh", /[\u3400-\u9fff]/gu],
  ["ko", /[\uac00-\ud7af]/gu],
  ["ru", /[\u0400-\u04ff]/gu],
  ["ar", /[\u0600-\u06ff]/gu],
  ["hi", /[\u0900-\u097f]/gu],
  ["th", /[\u0e00-\u0e7f]/gu],
];

const FUNCTION_WORDS: Array<[Language, Set<string>]> = [
  ["en", new Set("the and of to is in that it for you this with are be on what how can please".split(" "))],
  ["es", new Set("el la los las de que y en un una por para con es del cómo qué este esta".split(" "))],
  ["de", new Set("der die das und ist nicht ein eine zu mit für den dem ich sie wie was bitte".split(" "))],
  ["fr", new Set("le la les et est un une des du pour dans que qui pas avec ce cette comment".split(" "))],
  ["pt", new Set("o a os as de que e em um uma para com não é do da como por isso".split(" "))],
  ["it", new Set("il lo la gli le di che e è un una per con non del della come questo".split(" "))],
];

export function languageOf(input: TaskInput): Language {
  const text = `${input.system}\n${input.latest}`.slice(0, 4_000);
  const letters = (text.match(/\p{L}/gu) ?? []).length;
  if (letters === 0) return "other";
  const kana = (text.match(SCRIPTS[0]?.[1] ?? /$^/u) ?? []).length;
  let best: Language = "other";
  let bestCount = 0;
  let nonLatin = 0;
  for (const [language, pattern] of SCRIPTS) {
    const n = (text.match(pattern) ?? []).length;
    nonLatin += n;
    if (n > bestCount) [best, bestCount] = [language, n];
  }
  if (best === "zh" && kana > 0) best = "ja";
  const latin = (text.match(/[a-zA-Z\u00c0-\u024f]/gu) ?? []).length;
  if (nonLatin > 0 && latin > 0 && Math.min(nonLatin, latin / 4) / letters > 0.15) return "mixed";
  if (nonLatin > latin / 4) return best;

  const words = text.toLowerCase().match(/\p{L}+/gu) ?? [];
  const hits = FUNCTION_WORDS.map(([language, set]) => [language, words.filter((w) => set.has(w)).length] as const).sort((a, b) => b[1] - a[1]);
  const [first, second] = hits;
  if (first === undefined || first[1] === 0) return "other";
  if (second !== undefined && (first[0] === "en" || second[0] === "en") && second[1] >= Math.max(2, first[1] / 2)) return "mixed";
  return first[0];
}
