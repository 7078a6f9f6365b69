import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { ChatMessage } from "../../src/call/chat-request.ts";
import { taskInputOf } from "../../src/routing/analyse.ts";
import type { TaskInput } from "../../src/routing/task-vote.ts";
import { Task } from "../../src/catalog/schema.ts";

/** Labelled prompt sets: the training data and the evaluation sets the model must never see. */

export const TRAIN_DIR = fileURLToPath(new URL("../../data/routing-train/", import.meta.url));

/**
 * Prompts from public corpora, labelled by their sources' own categories (docs/task-data.md,
 * scripts/build-task-data.ts). Not trained on yet: leave-one-source-out with them in the
 * training data scored lower than without them (docs/routing.md), so the committed model scores
 * them at first sight and `npm run eval:task -- --public` measures them as training sources.
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

/** The training files, in name order (the order is part of what makes training deterministic). */
export function trainingFiles(dir: string = TRAIN_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".jsonl"))
    .sort()
    .map((f) => join(dir, f));
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
