import { z } from "zod";
import committed from "./task-model.json" with { type: "json" };
import { emptyScores, type TaskGuess, type TaskInput } from "./task-vote.ts";
import { taskVector } from "./task-vector.ts";
import { TASKS, type Task } from "./types.ts";

export type { TaskGuess, TaskInput } from "./task-vote.ts";

/**
 * The task classifier: multinomial logistic regression over the features of task-vector.ts,
 * learned from the labelled prompts in data/routing-train by scripts/train-task-classifier.ts.
 * It replaced the hand-weighted vote (task-vote.ts), which scored 53-90% at first sight on sets
 * nobody had tuned it for and is now one of its inputs; docs/routing.md has the figures and how
 * to retrain.
 */

/** The committed model file: weights row-major (one row of `labels.length` per feature), as integers over `scale`. */
export const TaskModel = z.object({
  format: z.literal(1),
  /** sha256 of the training files, so a test can tell when the data changed without a retrain. */
  dataHash: z.string(),
  trainedOn: z.array(z.string()),
  trainAccuracy: z.number(),
  options: z.record(z.string(), z.union([z.number(), z.boolean()])),
  labels: z.array(z.enum(TASKS)).length(TASKS.length),
  scale: z.number().positive(),
  features: z.array(z.string()),
  weights: z.array(z.number()),
});
export type TaskModel = z.infer<typeof TaskModel>;

/** How many of the strongest features a guess names. */
const NAMED_FEATURES = 3;

export class TaskClassifier {
  readonly #labels: readonly Task[];
  /** Row of each feature by its parts (task-vector.ts emits them apart): prefix -> term -> row, and prefix -> term -> next -> row for bigrams. */
  readonly #unigrams = new Map<string, Map<string, number>>();
  readonly #bigrams = new Map<string, Map<string, Map<string, number>>>();
  readonly #names: readonly string[];
  readonly #weights: Float64Array;
  /**
   * Per-call scratch, reused so a guess allocates next to nothing (it runs on every request,
   * and garbage here shows up as p99 latency): `#seenIn[feature] === #call` marks a feature
   * already counted in this call; the matched features' rows and values, in order.
   */
  readonly #seenIn: Uint32Array;
  #call = 0;
  #matchedRows = new Int32Array(256);
  #matchedValues = new Float64Array(256);
  #matched = 0;

  constructor(model: TaskModel) {
    const width = model.labels.length;
    if (model.weights.length !== model.features.length * width) throw new Error(`task model: ${model.weights.length} weights for ${model.features.length} features x ${width} labels`);
    this.#labels = model.labels;
    this.#names = model.features;
    model.features.forEach((name, i) => this.#index(name, i * width));
    this.#weights = Float64Array.from(model.weights, (w) => w / model.scale);
    this.#seenIn = new Uint32Array(model.features.length);
  }

  /** The most probable label; `scores` are the softmax probabilities, `features` the names that added most to the winner's logit. */
  guess(input: TaskInput): TaskGuess {
    const width = this.#labels.length;
    const weights = this.#weights;
    const logits = new Float64Array(width);
    this.#call = this.#call === 0xffffffff ? 1 : this.#call + 1;
    this.#matched = 0;
    taskVector(input, (prefix, term, value, next) => {
      const row = next === undefined ? this.#unigrams.get(prefix)?.get(term) : this.#bigrams.get(prefix)?.get(term)?.get(next);
      if (row === undefined) return;
      const feature = row / width;
      if (this.#seenIn[feature] === this.#call) return; // a repeated word counts once
      this.#seenIn[feature] = this.#call;
      for (let k = 0; k < width; k++) logits[k] = (logits[k] ?? 0) + value * (weights[row + k] ?? 0);
      this.#remember(value, row);
    });

    let best = 0;
    for (let k = 1; k < width; k++) if ((logits[k] ?? 0) > (logits[best] ?? 0)) best = k;
    const scores = emptyScores();
    const top = logits[best] ?? 0;
    let total = 0;
    for (let k = 0; k < width; k++) total += Math.exp((logits[k] ?? 0) - top);
    this.#labels.forEach((label, k) => {
      scores[label] = Math.exp((logits[k] ?? 0) - top) / total;
    });
    return { task: this.#labels[best] ?? "chat", scores, features: this.#strongest(best) };
  }

  /** "i:summarise the" -> bigrams["i:"]["summarise"]["the"]; words hold no spaces, prefixes end at the first ':' or '~'. */
  #index(name: string, row: number): void {
    const cut = name.search(/[:~]/) + 1;
    const prefix = cut === 0 ? name : name.slice(0, cut);
    const rest = cut === 0 ? "" : name.slice(cut);
    const space = rest.indexOf(" ");
    if (space < 0) {
      mapIn(this.#unigrams, prefix).set(rest, row);
      return;
    }
    mapIn(mapIn(this.#bigrams, prefix), rest.slice(0, space)).set(rest.slice(space + 1), row);
  }

  #remember(value: number, row: number): void {
    const i = this.#matched++;
    if (i === this.#matchedRows.length) {
      const rows = new Int32Array(i * 2);
      rows.set(this.#matchedRows);
      this.#matchedRows = rows;
      const values = new Float64Array(i * 2);
      values.set(this.#matchedValues);
      this.#matchedValues = values;
    }
    this.#matchedRows[i] = row;
    this.#matchedValues[i] = value;
  }

  /** The names of the matched features that added most to label `k`'s logit, strongest first. */
  #strongest(k: number): string[] {
    const top: Array<{ name: string; contribution: number }> = [];
    for (let i = 0; i < this.#matched; i++) {
      const row = this.#matchedRows[i] ?? 0;
      const name = this.#names[row / this.#labels.length] ?? "";
      const contribution = (this.#matchedValues[i] ?? 0) * (this.#weights[row + k] ?? 0);
      if (name === "bias" || !(contribution > 0)) continue;
      if (top.length === NAMED_FEATURES && contribution <= (top[NAMED_FEATURES - 1]?.contribution ?? 0)) continue;
      top.push({ name, contribution });
      top.sort((a, b) => b.contribution - a.contribution);
      if (top.length > NAMED_FEATURES) top.pop();
    }
    return top.map((t) => t.name);
  }
}

// Parsed once at load: the file is generated, but a hand edit or a merge must fail loudly here.
const classifier = new TaskClassifier(TaskModel.parse(committed));

export function guessTask(input: TaskInput): TaskGuess {
  return classifier.guess(input);
}

function mapIn<V>(outer: Map<string, Map<string, V>>, key: string): Map<string, V> {
  let inner = outer.get(key);
  if (inner === undefined) {
    inner = new Map();
    outer.set(key, inner);
  }
  return inner;
}
