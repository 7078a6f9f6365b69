import { castVotes, emptyScores, HISTORY_TURNS, splitInstruction, type TaskInput, windowOf } from "./task-vote.ts";
import { TASKS } from "./types.ts";
import { forEachWord } from "./words.ts";

/**
 * The learned task classifier's features, computed by this one function for training
 * (scripts/train-task-classifier.ts) and for inference (task.ts), so the two cannot drift.
 * `emit` receives each feature by name with its value. The committed design:
 *
 * - `i:<w>`, `i:<w> <w>`: word unigrams and bigrams of the latest turn's instruction (its first
 *   line and a short last line, task-vote.ts#splitInstruction), value 1;
 * - `m:<w>`: words of the latest turn's material (the lines between), 0.25;
 * - `s:<w>`, `s:<w> <w>`: words and bigrams of the system prompt, 1;
 * - `h:<w>`: words of the last few earlier turns, 0.25;
 * - `vote:<label>`: the hand-weighted vote for each label (task-vote.ts), log1p-scaled, so the
 *   priors it encodes (language names, code syntax, equations) carry over to wording the
 *   training prompts never used;
 * - `bias`.
 *
 * The other switches of VectorDesign are variants that leave-one-set-out did not favour; they
 * stay so `npm run eval:task -- --designs` can rerun the comparison in docs/routing.md.
 * Long turns are read in the same head and tail windows as the vote. Numbers become `0`, so
 * "3 apples" and "17 apples" share a feature.
 */
/**
 * Receives one feature: its name is `prefix + term`, or `prefix + term + " " + next` for a
 * bigram (featureName). The parts come apart so the classifier can look a word up without
 * building a string for it on every request.
 */
export type FeatureSink = (prefix: string, term: string, value: number, next?: string) => void;

export function featureName(prefix: string, term: string, next?: string): string {
  return next === undefined ? prefix + term : `${prefix}${term} ${next}`;
}

/** The feature set; DEFAULT_DESIGN is what the committed model was trained with. */
export interface VectorDesign {
  bigrams: boolean;
  /** Emit the hand vote's per-label scores, times `voteScale` (a larger scale lets them escape more of the L2 penalty than the words). */
  vote: boolean;
  voteScale: number;
  /** Emit each hand feature's weighted hit count. */
  handFeatures: boolean;
  /** Emit the instruction's first word and a length bucket. */
  opening: boolean;
  /** Emit the shape features (fence, line count, closing question mark, passage, script, system, history). */
  shape: boolean;
  materialWeight: number;
  historyWeight: number;
  /** Emit `i~<first 5 letters>` of the instruction's longer words: resumir/résumer, traduire/traducir, classify/clasifica share a stem. */
  stems: boolean;
  /** Emit character bigrams of CJK, Hangul and Thai runs, which have no spaces between words (翻訳, 总结, 분류). */
  cjkBigrams: boolean;
}

export const DEFAULT_DESIGN: Readonly<VectorDesign> = { bigrams: true, vote: true, voteScale: 1, handFeatures: false, opening: false, shape: false, materialWeight: 0.25, historyWeight: 0.25, stems: false, cjkBigrams: false };

const DIGITS = /^\p{N}+$/u;
/** Scripts other than Latin: a prompt carrying them is often about translating them. */
const NON_LATIN = /[\u0370-\u03ff\u0400-\u04ff\u0590-\u06ff\u0900-\u097f\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]/u;
/** A passage this long between the instruction lines is material to work on. */
const PASSAGE_CHARS = 200;

/**
 * A prompt repeats words, so `emit` may receive a name more than once; a feature counts once
 * per prompt, at the value of its first emission, and the caller keeps track (the trainer in a
 * map of the prompt's features, the classifier by feature row), which costs far less than a set
 * of every name here.
 */
export function taskVector(input: TaskInput, emit: FeatureSink, design: Readonly<VectorDesign> = DEFAULT_DESIGN): void {
  const once = emit;
  emit("bias", "", 1);
  const { instruction, payload } = splitInstruction(input.latest);
  words(instruction, "i:", 1, design.bigrams, once);
  if (design.stems || design.cjkBigrams) subwords(instruction, design, once);
  words(payload, "m:", design.materialWeight, false, once);
  if (input.system !== "") words(input.system, "s:", 1, design.bigrams, once);
  for (const turn of input.history.slice(-HISTORY_TURNS)) words(turn.text, "h:", design.historyWeight, false, once);

  if (design.vote || design.handFeatures) {
    const scores = emptyScores();
    const hits = new Map<string, number>();
    castVotes(input, (id, votes, factor) => {
      for (const [label, weight] of Object.entries(votes) as Array<[keyof typeof scores, number]>) scores[label] += weight * factor;
      hits.set(id, (hits.get(id) ?? 0) + factor);
    });
    if (design.vote) for (const label of TASKS) if (scores[label] > 0) emit("vote:", label, design.voteScale * Math.log1p(scores[label]));
    if (design.handFeatures) for (const [id, n] of hits) emit("hand:", id, Math.log1p(n));
  }
  if (design.opening) {
    const first = /[\p{L}\p{N}]+/u.exec(instruction.slice(0, 200).toLowerCase());
    if (first !== null) emit("first:", first[0], 1);
    const chars = input.latest.trim().length;
    emit("shape:", `chars_${chars < 40 ? "0" : chars < 120 ? "40" : chars < 400 ? "120" : "400"}`, 1);
  }

  if (!design.shape) return;
  const latest = input.latest.trim();
  if (latest.includes("```")) emit("shape:", "fence", 1);
  emit("shape:", `lines_${lineBucket(latest)}`, 1);
  if (/\?["'”’)]*$/.test(latest)) emit("shape:", "ends_question", 1);
  if (payload.length >= PASSAGE_CHARS) emit("shape:", "passage", 1);
  if (NON_LATIN.test(latest.slice(0, 2_000))) emit("shape:", "non_latin", 1);
  if (input.system !== "") emit("shape:", "system", 1);
  if (input.history.length > 0) emit("shape:", "history", 1);
}

function words(text: string, prefix: string, value: number, bigrams: boolean, emit: FeatureSink): void {
  if (text === "") return;
  let previous = "";
  forEachWord(windowOf(text), (match) => {
    const word = DIGITS.test(match) ? "0" : match;
    emit(prefix, word, value);
    if (bigrams && previous !== "") emit(prefix, previous, value, word);
    previous = word;
  });
}

const STEM_LETTERS = 5;
const UNSPACED_RUN = /[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]{2,}/gu;

function subwords(text: string, design: Readonly<VectorDesign>, emit: FeatureSink): void {
  if (text === "") return;
  const window = windowOf(text);
  if (design.stems) {
    forEachWord(window, (word) => {
      if (word.length > STEM_LETTERS && !DIGITS.test(word)) emit("i~", word.slice(0, STEM_LETTERS), 1);
    });
  }
  if (design.cjkBigrams) {
    for (const match of window.matchAll(UNSPACED_RUN)) {
      const run = match[0];
      for (let i = 0; i + 1 < run.length; i++) emit("i~", run.slice(i, i + 2), 1);
    }
  }
}

function lineBucket(text: string): string {
  let lines = 1;
  for (let at = text.indexOf("\n"); at >= 0 && lines < 11; at = text.indexOf("\n", at + 1)) lines++;
  return lines === 1 ? "1" : lines <= 3 ? "2-3" : lines <= 10 ? "4-10" : "11+";
}
