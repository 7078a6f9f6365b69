/**
 * How well the learned task classifier generalises, measured honestly:
 *  (a) leave one source out: train on every other training file (public corpora and the sets
 *      written for this repo, data/routing-public and data/routing-train), score the one left
 *      out, per source, per label and per language, with the confusion matrix. This is the
 *      figure the design is chosen by: a held-out source is wording the model never saw.
 *  (b) the committed model (trained on every training file) on the evaluation sets (MT-Bench,
 *      test/fixtures/routing-*.jsonl) and on public corpora it may not train on (the
 *      non-commercial ones, when rebuilt locally), beside the hand-weighted vote it replaced.
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
import { dataHash, type LabelledSet, publicFiles, readEvalSets, readSet, trainingFiles, trainingPrompts } from "./task-classifier/labelled.ts";
import { DEFAULT_TRAINING, type TrainOptions, train } from "./task-classifier/learn.ts";
import { languageOf } from "./task-classifier/language.ts";
import { TASKS } from "../src/routing/types.ts";

type Classify = (input: TaskInput) => TaskGuess;

const { values } = parseArgs({ options: { designs: { type: "boolean", default: false } } });
const files = trainingFiles();
const sets = files.map((file) => readSet(file));
// Public corpora the committed model does not train on (non-commercial, rebuilt locally): scored at first sight in (b).
const measuredOnly = publicFiles().filter((file) => !files.includes(file)).map((file) => readSet(file));
if (sets.length < 2) throw new Error("leave-one-source-out needs at least two training files");

const score = (set: LabelledSet, classify: Classify): Scored[] => set.prompts.map((p) => ({ id: p.id, task: p.task, guess: classify(p.input).task }));

/** Each training set scored by a model trained on the others. */
function leaveOneSetOut(options: Readonly<TrainOptions>, chatBelow = 0): Array<{ name: string; rows: Scored[] }> {
  return sets.map((held, i) => {
    const classifier = new TaskClassifier(train(trainingPrompts(sets.filter((_, j) => j !== i)), options));
    return { name: held.name, rows: score(held, (input) => lowConfidenceAsChat(classifier.guess(input), chatBelow)) };
  });
}

/** A variant tried: call a guess whose top probability is below `threshold` conversation. */
function lowConfidenceAsChat(guess: TaskGuess, threshold: number): TaskGuess {
  return guess.scores[guess.task] < threshold ? { ...guess, task: "chat" } : guess;
}

/** "qa 40/45, code 44/45": each label present in `rows`, right out of prompts. */
const perLabel = (rows: readonly Scored[]) =>
  TASKS.filter((t) => rows.some((r) => r.task === t))
    .map((t) => `${t} ${rows.filter((r) => r.task === t && r.guess === t).length}/${rows.filter((r) => r.task === t).length}`)
    .join(", ");

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

console.log(`(a) leave one source out, default design (${JSON.stringify({ ...DEFAULT_TRAINING.design, l2: DEFAULT_TRAINING.l2 })}):`);
console.log("    each training file is a source: pub-* are public corpora (docs/task-data.md), set-* were written for this repo");
const folds = leaveOneSetOut(DEFAULT_TRAINING);
const isPublic = (name: string) => name.startsWith("pub-");
console.log(`\n  ${"source".padEnd(20)}${"prompts".padStart(8)}${"learned".padStart(9)}${"hand vote".padStart(11)}   per label (right/prompts)`);
for (const fold of folds) {
  const set = sets.find((s) => s.name === fold.name);
  const hand = set === undefined ? [] : score(set, voteTask);
  console.log(`  ${fold.name.padEnd(20)}${String(fold.rows.length).padStart(8)}${percent(accuracy(fold.rows)).padStart(9)}${percent(accuracy(hand)).padStart(11)}   ${perLabel(fold.rows)}`);
}
const publicRows = folds.filter((f) => isPublic(f.name)).flatMap((f) => f.rows);
const repoRows = folds.filter((f) => !isPublic(f.name)).flatMap((f) => f.rows);
const allRows = folds.flatMap((f) => f.rows);
console.log(`\n  pooled: ${publicRows.length === 0 ? "" : `public sources ${percent(accuracy(publicRows))} (${publicRows.length}), `}repo sets ${percent(accuracy(repoRows))} (${repoRows.length}), all ${percent(accuracy(allRows))} (${allRows.length})`);

console.log("\n  per label (each prompt scored by the model trained without its source):");
console.log(`  ${"label".padEnd(16)}${"public".padStart(16)}${"repo sets".padStart(16)}${"all".padStart(16)}`);
const cell = (rows: readonly Scored[]) => (rows.length === 0 ? "—" : `${percent(accuracy(rows))} of ${rows.length}`).padStart(16);
for (const task of TASKS) {
  const of = (rows: readonly Scored[]) => rows.filter((r) => r.task === task);
  console.log(`  ${task.padEnd(16)}${cell(of(publicRows))}${cell(of(repoRows))}${cell(of(allRows))}`);
}
if (publicRows.length > 0) {
  console.log("\n  confusion, public sources held out:");
  for (const line of confusionLines(publicRows)) console.log(`    ${line}`);
}
console.log("\n  confusion, repo sets held out:");
for (const line of confusionLines(repoRows)) console.log(`    ${line}`);

const languageById = new Map(sets.flatMap((s) => s.prompts.map((p) => [`${s.name}/${p.id}`, languageOf(p.input)] as const)));
const byLanguage = new Map<string, Scored[]>();
for (const fold of folds) for (const row of fold.rows) {
  const language = languageById.get(`${fold.name}/${row.id}`) ?? "other";
  byLanguage.set(language, [...(byLanguage.get(language) ?? []), row]);
}
console.log("\n  per language (languageOf: script, then function words; all sources):");
for (const [language, rows] of [...byLanguage].sort((a, b) => b[1].length - a[1].length)) {
  console.log(`  ${language.padEnd(6)}${percent(accuracy(rows)).padStart(7)} of ${String(rows.length).padEnd(5)} ${perLabel(rows)}`);
}

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

if (measuredOnly.length > 0) {
  console.log(`\n(b2) committed model on the public corpora it may not train on (non-commercial, rebuilt locally), first sight:`);
  const firstSight = measuredOnly.map((set) => ({ name: set.name, rows: score(set, guessTask), hand: score(set, voteTask) }));
  for (const { name, rows, hand } of firstSight) {
    console.log(`  ${name.padEnd(20)}${String(rows.length).padStart(6)}  learned ${percent(accuracy(rows))}, hand vote ${percent(accuracy(hand))}   ${perLabel(rows)}`);
  }
  const pooled = firstSight.flatMap((f) => f.rows);
  console.log(`  pooled ${pooled.length}: learned ${percent(accuracy(pooled))}`);
  for (const line of confusionLines(pooled)) console.log(`    ${line}`);
}
