/**
 * Trains the task classifier on every training file (labelled.ts#trainingFiles: the sets in
 * data/routing-train and the commercially usable public corpora in data/routing-public) and writes
 * src/routing/task-model.json, which the router imports. Deterministic: the same data gives
 * the same file byte for byte. Rerun it after any change to the data or to task-vector.ts;
 * test/task-classifier.test.ts fails until you do.
 *
 *   npm run train:task
 */
import { writeFileSync } from "node:fs";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { dataHash, readSet, trainingFiles, trainingPrompts } from "./task-classifier/labelled.ts";
import { DEFAULT_TRAINING, train } from "./task-classifier/learn.ts";
import { modelFileText } from "./task-classifier/model-file.ts";

const MODEL_PATH = fileURLToPath(new URL("../src/routing/task-model.json", import.meta.url));

const files = trainingFiles();
if (files.length === 0) throw new Error("no training files in data/routing-train or data/routing-public");
const prompts = trainingPrompts(files.map((file) => readSet(file)));
console.log(`training on ${prompts.length} prompts from ${files.map((f) => basename(f)).join(", ")}`);

const started = performance.now();
const model = train(prompts, { ...DEFAULT_TRAINING, log: (line) => console.log(`  ${line}`) });
model.dataHash = dataHash(files);
model.trainedOn = files.map((f) => basename(f));
const text = modelFileText(model);
writeFileSync(MODEL_PATH, text);
console.log(
  `${model.features.length} features kept, ${(text.length / 1024).toFixed(0)} KiB; train accuracy (stored weights) ${(100 * model.trainAccuracy).toFixed(1)}%; ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
console.log(`wrote ${MODEL_PATH}`);
