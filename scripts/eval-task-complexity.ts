/**
 * How the complexity score (src/routing/complexity.ts) orders prompts whose difficulty a public
 * source measures: GSM8K's training problems, where the reference solution's number of steps
 * (its lines of working before the `####` answer) is the difficulty signal the GSM8K paper uses.
 * Prints Spearman's rank correlation between the score the gateway computes (analyse) and the
 * step count, and the mean score per step count. Reads the training split only, from the
 * snapshot pinned in scripts/task-data/sources.ts (build-task-data.ts's --mirror).
 *
 *   npx tsx scripts/eval-task-complexity.ts [--mirror /work/.mirror]
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { ChatRequest } from "../src/call/chat-request.ts";
import { analyse } from "../src/routing/analyse.ts";
import { SOURCES } from "./task-data/sources.ts";

const { values } = parseArgs({ options: { mirror: { type: "string", default: "/work/.mirror" } } });
const gitDir = join(values.mirror ?? "/work/.mirror", SOURCES.gsm8k.repo.replace("/", "+"), "repo");
const text = execFileSync("git", ["--git-dir", gitDir, "show", `${SOURCES.gsm8k.commit}:grade_school_math/data/train.jsonl`], { encoding: "utf8", maxBuffer: 64 << 20 });

const Problem = z.object({ question: z.string(), answer: z.string() });
const problems = text
  .split("\n")
  .filter((line) => line.trim() !== "")
  .map((line) => Problem.parse(JSON.parse(line)));

/** Lines of working before the final `#### answer` line. */
const stepsOf = (answer: string) => answer.split("\n").filter((line) => line.trim() !== "" && !line.startsWith("####")).length;

const rows = problems.map((p) => {
  const analysis = analyse(ChatRequest.parse({ messages: [{ role: "user", content: p.question }] }));
  return { steps: stepsOf(p.answer), complexity: analysis.complexity, task: analysis.task };
});

/** Ranks with ties sharing their mean rank. */
function ranks(xs: readonly number[]): number[] {
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(xs.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]?.[0] === order[i]?.[0]) j++;
    for (let k = i; k <= j; k++) out[order[k]?.[1] ?? 0] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return out;
}

function pearson(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  const ma = a.reduce((s, x) => s + x, 0) / n;
  const mb = b.reduce((s, x) => s + x, 0) / n;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < n; i++) {
    const da = (a[i] ?? 0) - ma;
    const db = (b[i] ?? 0) - mb;
    cov += da * db;
    va += da * da;
    vb += db * db;
  }
  return cov / Math.sqrt(va * vb);
}

const rho = pearson(ranks(rows.map((r) => r.steps)), ranks(rows.map((r) => r.complexity)));
console.log(`GSM8K train, ${rows.length} problems: Spearman rho(complexity, solution steps) = ${rho.toFixed(3)}`);
console.log(`labelled math: ${rows.filter((r) => r.task === "math").length}/${rows.length}`);
console.log("steps  problems  mean complexity  min-max");
const bySteps = new Map<number, number[]>();
for (const r of rows) bySteps.set(Math.min(r.steps, 8), [...(bySteps.get(Math.min(r.steps, 8)) ?? []), r.complexity]);
for (const [steps, scores] of [...bySteps].sort((a, b) => a[0] - b[0])) {
  const mean = scores.reduce((s, x) => s + x, 0) / scores.length;
  console.log(`${(steps === 8 ? "8+" : String(steps)).padStart(5)}  ${String(scores.length).padStart(8)}  ${mean.toFixed(3).padStart(15)}  ${Math.min(...scores).toFixed(2)}-${Math.max(...scores).toFixed(2)}`);
}
