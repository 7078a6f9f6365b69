import { TaskClassifier, type TaskModel } from "../../src/routing/task.ts";
import { DEFAULT_DESIGN, featureName, taskVector, type VectorDesign } from "../../src/routing/task-vector.ts";
import { TASKS } from "../../src/routing/types.ts";
import type { LabelledPrompt } from "./labelled.ts";

/**
 * Multinomial logistic regression (softmax, L2) fitted by full-batch Adam. Full batch and a
 * fixed feature order make training deterministic without a seed: the same prompts in the same
 * order give the same weights, bit for bit. Twelve hundred prompts and a few thousand features
 * train in seconds, which is why no ML library earns its place here.
 */

export interface TrainOptions {
  design: Readonly<VectorDesign>;
  /** L2 penalty on every weight but the bias: loss = mean cross-entropy + l2/2 * sum(w^2). */
  l2: number;
  epochs: number;
  learningRate: number;
  /** Keep a feature only if this many training prompts have it: a word seen once is memorising. */
  minPrompts: number;
  /** Weights are stored as integers over this (1000 keeps 3 decimals, ample for logits). */
  scale: number;
  log?: (line: string) => void;
}

export const DEFAULT_TRAINING: Readonly<TrainOptions> = { design: DEFAULT_DESIGN, l2: 0.003, epochs: 300, learningRate: 0.05, minPrompts: 3, scale: 1000 };

const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } as const;

interface Example {
  features: Int32Array;
  values: Float64Array;
  label: number;
  weight: number;
}

/** A model for `prompts`; dataHash and trainedOn are the caller's to fill in. */
export function train(prompts: readonly LabelledPrompt[], options: Readonly<TrainOptions> = DEFAULT_TRAINING): TaskModel {
  const vectors = prompts.map((p) => vectorOf(p, options.design));
  const vocabulary = vocabularyOf(vectors, options.minPrompts);
  const index = new Map(vocabulary.map((name, i) => [name, i]));
  const examples = vectors.map((vector, i) => exampleOf(vector, index, TASKS.indexOf(prompts[i]?.task ?? "chat"), prompts[i]?.weight ?? 1));
  const weights = fit(examples, vocabulary.length, index.get("bias"), options);

  // Rows that round to all zeros change no logit: leave them out of the file.
  const K = TASKS.length;
  const features: string[] = [];
  const stored: number[] = [];
  vocabulary.forEach((name, j) => {
    const row = Array.from(weights.subarray(j * K, (j + 1) * K), (w) => Math.round(w * options.scale) + 0);
    if (row.every((w) => w === 0)) return;
    features.push(name);
    stored.push(...row);
  });
  const model: TaskModel = {
    format: 1,
    dataHash: "",
    trainedOn: [],
    trainAccuracy: 0,
    options: { ...options.design, l2: options.l2, epochs: options.epochs, learningRate: options.learningRate, minPrompts: options.minPrompts },
    labels: [...TASKS],
    scale: options.scale,
    features,
    weights: stored,
  };
  const classifier = new TaskClassifier(model);
  const hits = prompts.filter((p) => classifier.guess(p.input).task === p.task).length;
  model.trainAccuracy = Math.round((hits / Math.max(1, prompts.length)) * 10_000) / 10_000;
  return model;
}

function vectorOf(prompt: LabelledPrompt, design: Readonly<VectorDesign>): Map<string, number> {
  const vector = new Map<string, number>();
  taskVector(
    prompt.input,
    (prefix, term, value, next) => {
      const name = featureName(prefix, term, next);
      if (!vector.has(name)) vector.set(name, value);
    },
    design,
  );
  return vector;
}

/** Names present in at least `minPrompts` vectors, sorted so the weight layout does not depend on prompt order. */
function vocabularyOf(vectors: ReadonlyArray<Map<string, number>>, minPrompts: number): string[] {
  const counts = new Map<string, number>();
  for (const vector of vectors) for (const name of vector.keys()) counts.set(name, (counts.get(name) ?? 0) + 1);
  return [...counts].filter(([, n]) => n >= minPrompts).map(([name]) => name).sort();
}

function exampleOf(vector: Map<string, number>, index: Map<string, number>, label: number, weight: number): Example {
  const features: number[] = [];
  const values: number[] = [];
  for (const [name, value] of vector) {
    const j = index.get(name);
    if (j === undefined) continue;
    features.push(j);
    values.push(value);
  }
  return { features: Int32Array.from(features), values: Float64Array.from(values), label, weight };
}

function fit(examples: readonly Example[], featureCount: number, bias: number | undefined, options: Readonly<TrainOptions>): Float64Array {
  const K = TASKS.length;
  const weights = new Float64Array(featureCount * K);
  const gradient = new Float64Array(featureCount * K);
  const m = new Float64Array(featureCount * K);
  const v = new Float64Array(featureCount * K);
  const probabilities = new Float64Array(K);
  const n = Math.max(1, examples.reduce((sum, e) => sum + e.weight, 0));

  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    gradient.fill(0);
    let loss = 0;
    let hits = 0;
    for (const example of examples) {
      softmaxInto(probabilities, weights, example);
      let best = 0;
      for (let k = 1; k < K; k++) if ((probabilities[k] ?? 0) > (probabilities[best] ?? 0)) best = k;
      if (best === example.label) hits += example.weight;
      loss -= example.weight * Math.log(Math.max(1e-12, probabilities[example.label] ?? 0));
      for (let f = 0; f < example.features.length; f++) {
        const row = (example.features[f] ?? 0) * K;
        const x = example.weight * (example.values[f] ?? 0);
        for (let k = 0; k < K; k++) gradient[row + k] = (gradient[row + k] ?? 0) + x * ((probabilities[k] ?? 0) - (k === example.label ? 1 : 0));
      }
    }
    let penalty = 0;
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i] ?? 0;
      const regularised = bias === undefined || Math.floor(i / K) !== bias;
      if (regularised) penalty += w * w;
      gradient[i] = (gradient[i] ?? 0) / n + (regularised ? options.l2 * w : 0);
    }
    adamStep(weights, gradient, m, v, epoch, options.learningRate);
    if (options.log !== undefined && (epoch === 1 || epoch % 50 === 0 || epoch === options.epochs)) {
      options.log(`epoch ${String(epoch).padStart(4)}  loss ${(loss / n + (options.l2 / 2) * penalty).toFixed(4)}  train accuracy ${((100 * hits) / n).toFixed(1)}%`);
    }
  }
  return weights;
}

function softmaxInto(out: Float64Array, weights: Float64Array, example: Example): void {
  const K = out.length;
  out.fill(0);
  for (let f = 0; f < example.features.length; f++) {
    const row = (example.features[f] ?? 0) * K;
    const x = example.values[f] ?? 0;
    for (let k = 0; k < K; k++) out[k] = (out[k] ?? 0) + x * (weights[row + k] ?? 0);
  }
  let top = -Infinity;
  for (let k = 0; k < K; k++) top = Math.max(top, out[k] ?? 0);
  let total = 0;
  for (let k = 0; k < K; k++) {
    out[k] = Math.exp((out[k] ?? 0) - top);
    total += out[k] ?? 0;
  }
  for (let k = 0; k < K; k++) out[k] = (out[k] ?? 0) / total;
}

function adamStep(weights: Float64Array, gradient: Float64Array, m: Float64Array, v: Float64Array, step: number, rate: number): void {
  const correction1 = 1 - ADAM.beta1 ** step;
  const correction2 = 1 - ADAM.beta2 ** step;
  for (let i = 0; i < weights.length; i++) {
    const g = gradient[i] ?? 0;
    m[i] = ADAM.beta1 * (m[i] ?? 0) + (1 - ADAM.beta1) * g;
    v[i] = ADAM.beta2 * (v[i] ?? 0) + (1 - ADAM.beta2) * g * g;
    weights[i] = (weights[i] ?? 0) - (rate * ((m[i] ?? 0) / correction1)) / (Math.sqrt((v[i] ?? 0) / correction2) + ADAM.epsilon);
  }
}
