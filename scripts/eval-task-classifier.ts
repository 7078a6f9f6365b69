/**
 * How well the learned task classifier generalises, measured honestly:
 *  (a) leave one training set out: train on the other sets of data/routing-train, score the
 *      one left out (sets written by different authors for different traffic, so this is the
 *      figure the design was chosen by);
 *  (b) the committed model (trained on every training set) on the evaluation sets, which it
 *      never trained on, beside the hand-weighted vote it replaced.
 * With --designs it first compares the feature and regularisation variants by (a) alone.
 *
 *   npm run eval:task [-- --designs]
 */
import { basename } from "node:path";
import { parseArgs } from "node:util";
import committed from "../src/routing/task-model.json" with { type: "json" };
import { guessTask, TaskClassifier, type TaskGuess, type TaskInput } from "../src/routing/task.ts";
import { DEFAULT_DESIGN } from "../src/routing/task-vector.ts";
import { voteTask } from "../src/routing/task-vote.ts";
import { accuracy, confusionLines, percent, type Scored } from "./task-classifier/confusion.ts";
import { dataHash, type LabelledSet, readEvalSets, readSet, trainingFiles } from "./task-classifier/labelled.ts";
import { DEFAULT_TRAINING, type TrainOptions, train } from "./task-classifier/learn.ts";

type Classify = (input: TaskInput) => TaskGuess;

const { values } = parseArgs({ options: { designs: { type: "boolean", default: false } } });
const files = trainingFiles();
const sets = files.map((file) => readSet(file));
if (sets.length < 2) throw new Error("leave-one-set-out needs at least two training sets in data/routing-train");

const score = (set: LabelledSet, classify: Classify): Scored[] => set.prompts.map((p) => ({ id: p.id, task: p.task, guess: classify(p.input).task }));

/** Each training set scored by a model trained on the others. */
function leaveOneSetOut(options: Readonly<TrainOptions>, chatBelow = 0): Array<{ name: string; rows: Scored[] }> {
  return sets.map((held, i) => {
    const classifier = new TaskClassifier(train(sets.filter((_, j) => j !== i).flatMap((s) => s.prompts), options));
    return { name: held.name, rows: score(held, (input) => lowConfidenceAsChat(classifier.guess(input), chatBelow)) };
  });
}

/** A variant tried: call a guess whose top probability is below `threshold` conversation. */
function lowConfidenceAsChat(guess: TaskGuess, threshold: number): TaskGuess {
  return guess.scores[guess.task] < threshold ? { ...guess, task: "chat" } : guess;
}

const summary = (folds: ReadonlyArray<{ rows: Scored[] }>) => {
  const pooled = folds.flatMap((f) => f.rows);
  return `${folds.map((f) => percent(accuracy(f.rows)).padStart(7)).join("")}   pooled ${percent(accuracy(pooled))}`;
};

if (values.designs) {
  const variants: Array<[string, Partial<TrainOptions>]> = [
    ["default", {}],
    ["first design: shape, 0.5, min 2", { design: { ...DEFAULT_DESIGN, shape: true, materialWeight: 0.5, historyWeight: 0.5 }, minPrompts: 2 }],
    ["words only, no hand vote", { design: { ...DEFAULT_DESIGN, vote: false } }],
    ["hand features, no label votes", { design: { ...DEFAULT_DESIGN, vote: false, handFeatures: true } }],
    ["hand features and label votes", { design: { ...DEFAULT_DESIGN, handFeatures: true } }],
    ["label votes x0.5", { design: { ...DEFAULT_DESIGN, voteScale: 0.5 } }],
    ["label votes x2", { design: { ...DEFAULT_DESIGN, voteScale: 2 } }],
    ["shape features", { design: { ...DEFAULT_DESIGN, shape: true } }],
    ["first word and length bucket", { design: { ...DEFAULT_DESIGN, opening: true } }],
    ["no bigrams", { design: { ...DEFAULT_DESIGN, bigrams: false } }],
    ["material and history at 0.5", { design: { ...DEFAULT_DESIGN, materialWeight: 0.5, historyWeight: 0.5 } }],
    ["material and history at 1", { design: { ...DEFAULT_DESIGN, materialWeight: 1, historyWeight: 1 } }],
    ["l2 0.001", { l2: 0.001 }],
    ["l2 0.01", { l2: 0.01 }],
    ["l2 0.03", { l2: 0.03 }],
    ["min prompts 2", { minPrompts: 2 }],
    ["word stems", { design: { ...DEFAULT_DESIGN, stems: true } }],
    ["CJK character bigrams", { design: { ...DEFAULT_DESIGN, cjkBigrams: true } }],
    ["word stems and CJK bigrams", { design: { ...DEFAULT_DESIGN, stems: true, cjkBigrams: true } }],
  ];
  console.log(`design variants, leave one set out (${sets.map((s) => s.name).join(", ")}):`);
  console.log(`  ${"hand-weighted vote (no training)".padEnd(36)}${summary(sets.map((s) => ({ rows: score(s, voteTask) })))}`);
  for (const [name, change] of variants) console.log(`  ${name.padEnd(36)}${summary(leaveOneSetOut({ ...DEFAULT_TRAINING, ...change }))}`);
  for (const threshold of [0.3, 0.4]) console.log(`  ${`chat below probability ${threshold}`.padEnd(36)}${summary(leaveOneSetOut(DEFAULT_TRAINING, threshold))}`);
  console.log();
}

console.log(`(a) leave one set out, default design (${JSON.stringify({ ...DEFAULT_TRAINING.design, l2: DEFAULT_TRAINING.l2 })}):`);
const folds = leaveOneSetOut(DEFAULT_TRAINING);
for (const fold of folds) {
  const set = sets.find((s) => s.name === fold.name);
  const hand = set === undefined ? [] : score(set, voteTask);
  console.log(`\n${fold.name}: learned ${percent(accuracy(fold.rows))} (hand vote ${percent(accuracy(hand))}), ${fold.rows.length} prompts`);
  for (const line of confusionLines(fold.rows)) console.log(`  ${line}`);
}
console.log(`\npooled: learned ${percent(accuracy(folds.flatMap((f) => f.rows)))}`);

const current = dataHash(files) === committed.dataHash;
console.log(`\n(b) committed model (trained on ${committed.trainedOn.join(", ")}) on the evaluation sets, first sight:`);
if (!current) console.log(`  WARNING: the committed model is stale (${files.map((f) => basename(f)).join(", ")} changed); run npm run train:task`);
for (const set of readEvalSets()) {
  const learned = score(set, guessTask);
  const hand = score(set, voteTask);
  console.log(`\n${set.name} (${set.prompts.length}): learned ${percent(accuracy(learned))}, hand vote ${percent(accuracy(hand))}`);
  for (const line of confusionLines(learned)) console.log(`  ${line}`);
  const misses = learned.filter((r) => r.guess !== r.task);
  if (misses.length > 0) console.log(`  misses: ${misses.map((m) => `${m.id} (${m.task} as ${m.guess})`).join(", ")}`);
}
