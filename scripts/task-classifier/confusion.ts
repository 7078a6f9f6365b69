import { TASKS, type Task } from "../../src/routing/types.ts";

/** Accuracy and a confusion matrix over (label, guess) pairs, as printable lines. */
export interface Scored {
  id: string;
  task: Task;
  guess: Task;
}

export function accuracy(rows: readonly Scored[]): number {
  return rows.filter((r) => r.guess === r.task).length / Math.max(1, rows.length);
}

export const percent = (x: number): string => `${(100 * x).toFixed(1)}%`;

export function confusionLines(rows: readonly Scored[]): string[] {
  const count = (task: Task, guess: Task) => rows.filter((r) => r.task === task && r.guess === guess).length;
  const rowLabels = TASKS.filter((t) => rows.some((r) => r.task === t));
  const columns = TASKS.filter((t) => rows.some((r) => r.task === t || r.guess === t));
  const lines = [`${"label \\ guess".padEnd(15)}${columns.map((c) => c.slice(0, 7).padStart(8)).join("")}   correct`];
  for (const task of rowLabels) {
    const n = rows.filter((r) => r.task === task).length;
    lines.push(`${task.padEnd(15)}${columns.map((c) => String(count(task, c)).padStart(8)).join("")}   ${count(task, task)}/${n}`);
  }
  return lines;
}
