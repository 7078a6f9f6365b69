/**
 * Task-classification accuracy and strategy cost through a running gateway's POST /v1/route
 * (which neither runs nor charges a call). Reads JSONL lines {id, task, messages}; prints
 * accuracy per task and overall, a confusion matrix, the data README's disputed prompts apart,
 * and per strategy the total quoted price against always choosing the best-quality model.
 *
 *   npm run eval:routing -- [--file path.jsonl]      (TOLLGATE_URL, default http://127.0.0.1:8402)
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { z } from "zod";
import { readJsonLines } from "../scripts/task-classifier/labelled.ts";
import { TASKS } from "../src/catalog/schema.ts";
import { atomicToUsd } from "../src/lib/money.ts";

const DEFAULT_FILE = fileURLToPath(new URL("../../shared/data/routing-dev/mt_bench.jsonl", import.meta.url));
/** Prompts the data README reports separately: labels a reader might dispute (roleplay/writing categories). */
const REPORTED = ["mtbench-90", "mtbench-95", "mtbench-97", "mtbench-99"];
const STRATEGIES = ["auto:cost", "auto:quality", "auto:balanced", "auto:task"] as const;

const Line = z.object({ id: z.string(), task: z.enum(TASKS), messages: z.array(z.unknown()).min(1) });
const Route = z.object({
  model: z.string(),
  task: z.string(),
  price: z.object({ amount: z.string() }),
  candidates: z.array(z.object({ model: z.string(), price: z.object({ amount: z.string() }) })),
});
type Route = z.infer<typeof Route>;

const { values } = parseArgs({ options: { file: { type: "string" } } });
const file = values.file ?? DEFAULT_FILE;
const base = (process.env.TOLLGATE_URL ?? "http://127.0.0.1:8402").replace(/\/$/, "");
const lines = readJsonLines(file, Line);

async function route(messages: unknown[], model: string): Promise<{ ok: true; route: Route } | { ok: false; status: number; message: string }> {
  let res: Response;
  try {
    res = await fetch(`${base}/v1/route`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model, messages }) });
  } catch (cause) {
    console.error(`Cannot reach the gateway at ${base} (${cause instanceof Error ? cause.message : String(cause)}). Start it with \`npm start\` or set TOLLGATE_URL.`);
    process.exit(2);
  }
  const body: unknown = await res.json().catch(() => undefined);
  if (!res.ok) {
    const message = z.object({ error: z.object({ message: z.string() }) }).safeParse(body);
    return { ok: false, status: res.status, message: message.success ? message.data.error.message : `HTTP ${res.status}` };
  }
  return { ok: true, route: Route.parse(body) };
}

const confusion = new Map<string, number>();
const perTask = new Map<string, { hit: number; n: number }>();
const reported: string[] = [];
let hits = 0;
for (const line of lines) {
  const answer = await route(line.messages, "auto");
  if (!answer.ok) throw new Error(`${line.id}: gateway answered ${answer.status}: ${answer.message}`);
  const got = answer.route.task;
  const hit = got === line.task;
  if (hit) hits++;
  const stats = perTask.get(line.task) ?? { hit: 0, n: 0 };
  stats.n++;
  if (hit) stats.hit++;
  perTask.set(line.task, stats);
  confusion.set(`${line.task}>${got}`, (confusion.get(`${line.task}>${got}`) ?? 0) + 1);
  if (REPORTED.includes(line.id)) reported.push(`  ${line.id}: labelled ${line.task}, routed as ${got}${hit ? "" : " (miss)"}`);
}

const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(1)}%`;
console.log(`${file}: ${lines.length} prompts via ${base}/v1/route\n`);
console.log(`overall task accuracy: ${hits}/${lines.length} = ${pct(hits, lines.length)}`);
for (const [task, s] of perTask) console.log(`  ${task.padEnd(15)} ${String(s.hit).padStart(3)}/${String(s.n).padEnd(3)} ${pct(s.hit, s.n)}`);

const labels = TASKS.filter((t) => perTask.has(t) || [...confusion.keys()].some((k) => k.endsWith(`>${t}`)));
console.log(`\nconfusion matrix (rows: label, columns: routed task)`);
console.log(`${"".padEnd(15)}${labels.map((l) => l.slice(0, 7).padStart(8)).join("")}`);
for (const row of labels.filter((t) => perTask.has(t))) {
  console.log(`${row.padEnd(15)}${labels.map((col) => String(confusion.get(`${row}>${col}`) ?? 0).padStart(8)).join("")}`);
}
if (reported.length > 0) console.log(`\nprompts the data README reports separately:\n${reported.join("\n")}`);

console.log(`\nquoted price over the set, per strategy, against always choosing the best-quality model:`);
let bestQualityTotal: bigint | undefined;
for (const strategy of ["auto:quality", ...STRATEGIES.filter((s) => s !== "auto:quality")]) {
  let total = 0n;
  let failed: string | undefined;
  for (const line of lines) {
    const answer = await route(line.messages, strategy);
    if (!answer.ok) {
      failed = `not available (${answer.status}: ${answer.message})`;
      break;
    }
    total += BigInt(answer.route.price.amount);
  }
  if (failed !== undefined) {
    console.log(`  ${strategy.padEnd(14)} ${failed}`);
    continue;
  }
  if (strategy === "auto:quality") bestQualityTotal = total;
  const ratio = bestQualityTotal === undefined || bestQualityTotal === 0n ? "" : ` (${pct(Number(total), Number(bestQualityTotal))} of best-quality)`;
  console.log(`  ${strategy.padEnd(14)} $${atomicToUsd(total)}${ratio}`);
}
