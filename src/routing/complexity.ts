import type { Task } from "./types.ts";

/**
 * Complexity in [0, 1], a weighted sum of four parts (weights sum to 1):
 *   0.25 * length       min(1, log10(1 + inputTokens) / 4.3)   (~20k tokens reach 1)
 *   0.30 * depth        min(1, depth markers / 4)              (prove, derive, optimise, trade-offs,
 *                                                               edge cases, several questions...)
 *   0.20 * constraints  min(1, constraint markers / 4)         (must, without using, at most, O(n)...)
 *   0.25 * taskPrior    TASK_PRIOR[task]                        (maths and puzzles are harder than chat)
 * The cost strategy's quality bar rises with it (strategies/cost.ts).
 */
export const TASK_PRIOR: Readonly<Record<Task, number>> = {
  math: 0.7,
  reasoning: 0.7,
  code: 0.6,
  qa: 0.4,
  creative: 0.4,
  extraction: 0.35,
  summarization: 0.3,
  translation: 0.3,
  classification: 0.2,
  chat: 0.1,
};

const DEPTH =
  /\b(?:prove|proof|derive|derivation|optimi[sz]e|trade-?offs?|edge cases?|step[- ]by[- ]step|explain why|justify|analy[sz]e|in depth|detailed|rigorous|architecture|design a|compare and contrast|multi-step|complex|contradictory)\b|\?/g;
const CONSTRAINTS =
  /\b(?:must|should not|shouldn't|without using|at most|at least|no more than|fewer than|exactly|only use|do not|don't|ensure|constraints?|requirements?)\b|\bo\([^)]{1,12}\)/g;

const MAX_SCAN_CHARS = 4_000;

function countMatches(pattern: RegExp, text: string, cap: number): number {
  let n = 0;
  for (const _ of text.matchAll(pattern)) if (++n >= cap) break;
  return n;
}

export function complexityOf(latest: string, inputTokens: number, task: Task): number {
  // Markers live in the instruction, not in a pasted document: scan a bounded prefix.
  const text = latest.slice(0, MAX_SCAN_CHARS).toLowerCase();
  const length = Math.min(1, Math.log10(1 + inputTokens) / 4.3);
  const depth = Math.min(1, countMatches(DEPTH, text, 4) / 4);
  const constraints = Math.min(1, countMatches(CONSTRAINTS, text, 4) / 4);
  const value = 0.25 * length + 0.3 * depth + 0.2 * constraints + 0.25 * TASK_PRIOR[task];
  return Math.round(Math.min(1, Math.max(0, value)) * 100) / 100;
}
