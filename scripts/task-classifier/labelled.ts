import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { ChatMessage } from "../../src/call/chat-request.ts";
import { taskInputOf } from "../../src/routing/analyse.ts";
import type { TaskInput } from "../../src/routing/task-vote.ts";
import { Task } from "../../src/catalog/schema.ts";
import { SOURCES } from "../task-data/sources.ts";

/** Labelled prompt sets: the training data and the evaluation sets the model must never see. */

export const TRAIN_DIR = fileURLToPath(new URL("../../data/routing-train/", import.meta.url));

/**
 * Prompts from public corpora, labelled by their sources' own categories (docs/task-data.md,
 * scripts/build-task-data.ts). Those whose licence allows a paid product to use them are
 * committed and trained on; the non-commercial ones, when rebuilt locally, are only measured.
 */
export const PUBLIC_DIR = fileURLToPath(new URL("../../data/routing-public/", import.meta.url));

/**
 * Sets used to measure the classifier and never to train it. MT-Bench lives in shared/ beside
 * the checkout; it is read when present.
 */
export const EVAL_SETS: ReadonlyArray<{ name: string; path: string }> = [
  { name: "MT-Bench", path: fileURLToPath(new URL("../../../shared/data/routing-dev/mt_bench.jsonl", import.meta.url)) },
  ...["heldout", "fresh", "final", "spot", "mixed"].map((name) => ({ name: `routing-${name}`, path: fileURLToPath(new URL(`../../test/fixtures/routing-${name}.jsonl`, import.meta.url)) })),
];

const Line = z.object({ id: z.string(), task: Task, messages: z.array(ChatMessage).min(1) });

export interface LabelledPrompt {
  id: string;
  task: Task;
  input: TaskInput;
  /** How much the prompt counts in training (1 unless set): sources are balanced through it (learn.ts#balanceSources). */
  weight?: number;
}

export interface LabelledSet {
  name: string;
  prompts: LabelledPrompt[];
}

/** Every non-blank line of a JSONL file, parsed by `schema`; a bad line fails with its file and line number. */
export function readJsonLines<T>(path: string, schema: z.ZodType<T>): T[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line, i) => {
      const parsed = schema.safeParse(JSON.parse(line));
      if (!parsed.success) throw new Error(`${path}:${i + 1}: ${parsed.error.issues[0]?.message ?? "bad line"}`);
      return parsed.data;
    });
}

export function readSet(path: string, name = basename(path, ".jsonl")): LabelledSet {
  const prompts = readJsonLines(path, Line).map((line) => ({ id: line.id, task: line.task, input: taskInputOf(line.messages) }));
  return { name, prompts };
}

/** Every labelled file in `dir`, in name order (the order is part of what makes training deterministic). */
export function labelledFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".jsonl"))
    .sort()
    .map((f) => join(dir, f));
}

const TRAINABLE_PUBLIC = new Set(Object.values(SOURCES).filter((s) => s.commercial).map((s) => `pub-${s.name}.jsonl`));

/**
 * What the committed model trains on: the sets written for this repo and the public corpora
 * whose licence allows it, in name order. A non-commercial file rebuilt locally is never among them.
 */
export function trainingFiles(): string[] {
  return [...labelledFiles(PUBLIC_DIR).filter((f) => TRAINABLE_PUBLIC.has(basename(f))), ...labelledFiles(TRAIN_DIR)];
}

/** The public corpora present, trainable or not, for measuring. */
export function publicFiles(): string[] {
  return labelledFiles(PUBLIC_DIR);
}

/**
 * The prompts of `sets` as training examples, each source counting as much as any other: a
 * prompt's weight is the mean source size over its source's size, so 1,350 dolly questions do
 * not drown a 300-prompt set written in another voice, nor the other way round. Against plain
 * pooling, leave-one-source-out rose on every repo set and on MT-Bench (docs/routing.md, "Public
 * corpora").
 */
export function trainingPrompts(sets: readonly LabelledSet[]): LabelledPrompt[] {
  const mean = sets.reduce((sum, set) => sum + set.prompts.length, 0) / Math.max(1, sets.length);
  return sets.flatMap((set) => set.prompts.map((p) => ({ ...p, weight: mean / Math.max(1, set.prompts.length) })));
}

export function readEvalSets(): LabelledSet[] {
  return EVAL_SETS.filter((set) => existsSync(set.path)).map((set) => readSet(set.path, set.name));
}

/** sha256 over each training file's name and bytes: what the committed model records and a test checks. */
export function dataHash(files: readonly string[]): string {
  const hash = createHash("sha256");
  for (const file of files) hash.update(`${basename(file)}\n`).update(readFileSync(file));
  return `sha256:${hash.digest("hex")}`;
}
