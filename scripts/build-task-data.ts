/**
 * Builds data/routing-public/pub-*.jsonl from public corpora pinned in scripts/task-data/sources.ts.
 * Each prompt's task comes from its source's own category through the table there; a prompt is
 * kept once (case and white space folded), never when it equals an evaluation prompt, and at
 * most `perTask` per task and source, chosen by a hash of the text so the choice does not depend
 * on file order. Deterministic: the same snapshots give the same files byte for byte.
 *
 * The sources are read from git snapshots (bare repositories) under --mirror, one per repository
 * at `<owner>+<name>/repo`, at the pinned commit. The committed JSONL files are what the
 * evaluation reads; this script is how they were made and how to check them.
 *
 *   npx tsx scripts/build-task-data.ts --mirror /work/.mirror
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Task } from "../src/routing/types.ts";
import { PUBLIC_DIR, readEvalSets } from "./task-classifier/labelled.ts";
import { csvRows } from "./task-data/csv.ts";
import { type PublicSource, SOURCES } from "./task-data/sources.ts";

const { values } = parseArgs({ options: { mirror: { type: "string", default: "/work/.mirror" }, only: { type: "string", multiple: true } } });
const mirror = values.mirror ?? "/work/.mirror";
/**
 * `--only mbpp --only gsm8k` rebuilds those files alone (the others' snapshots need not be
 * present); a prompt is then kept once across the sources rebuilt, not across all of them.
 */
const only = new Set(values.only ?? []);

interface Raw {
  id: string;
  category: string;
  text: string;
}

function show(source: PublicSource, path: string): string {
  const gitDir = join(mirror, source.repo.replace("/", "+"), "repo");
  return execFileSync("git", ["--git-dir", gitDir, "show", `${source.commit}:${path}`], { encoding: "utf8", maxBuffer: 64 << 20 });
}

const jsonLines = (text: string): unknown[] =>
  text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as unknown);

const field = (row: unknown, key: string): string => {
  const value = (row as Record<string, unknown>)[key];
  if (typeof value !== "string") throw new Error(`expected a string at ${key}`);
  // MOSS's prompts carry a backslash before apostrophes (friend\'s), left over from an escape.
  return value.replaceAll("\\'", "'");
};

/** Every dolly category, mapped or not: the alignment below needs all eight. */
const DOLLY_CATEGORIES = ["brainstorming", "classification", "closed_qa", "creative_writing", "general_qa", "information_extraction", "open_qa", "summarization"];
const DOLLY_MODELS = ["flan-t5-base", "flan-t5-large", "flan-t5-small", "flan-t5-xl", "t5-v1_1-base", "t5-v1_1-large", "t5-v1_1-small", "t5-v1_1-xl"];

/**
 * The category of every dolly record, recovered from the analysis repository's CSVs: `All.csv`
 * holds each model's output for every record in dataset order, `<category>.csv` the same outputs
 * for one category, also in order. Walking the records with one cursor per category, a record
 * belongs to the category whose next row equals its outputs; the eight models' outputs together
 * make that unique for all 15,015 records (the build fails otherwise). Checked against the first
 * twelve records of the full file, whose categories are known.
 */
function dollyCategories(): string[] {
  const outputs = (file: string): string[] => {
    const columns = DOLLY_MODELS.map((model) => csvRows(show(SOURCES.dolly, `T5_piechart/d_google/${model}/${file}.csv`)).slice(1).map((r) => r[0] ?? ""));
    const n = columns[0]?.length ?? 0;
    if (columns.some((c) => c.length !== n)) throw new Error(`dolly: ${file}.csv differs in length between models`);
    return Array.from({ length: n }, (_, i) => columns.map((c) => c[i]).join("\u0001"));
  };
  const all = outputs("All");
  const byCategory = new Map(DOLLY_CATEGORIES.map((c) => [c, outputs(c)]));
  const cursor = new Map(DOLLY_CATEGORIES.map((c) => [c, 0]));
  return all.map((key, i) => {
    const matches = DOLLY_CATEGORIES.filter((c) => byCategory.get(c)?.[cursor.get(c) ?? 0] === key);
    if (matches.length !== 1) throw new Error(`dolly record ${i}: ${matches.length} categories match`);
    const category = matches[0] ?? "";
    cursor.set(category, (cursor.get(category) ?? 0) + 1);
    return category;
  });
}

function dolly(): Raw[] {
  const categories = dollyCategories();
  const known: Array<[number, string]> = [[0, "closed_qa"], [1, "classification"], [2, "open_qa"], [5, "information_extraction"], [8, "brainstorming"], [11, "closed_qa"]];
  for (const [i, category] of known) if (categories[i] !== category) throw new Error(`dolly record ${i} aligned to ${categories[i]}, expected ${category}`);
  return jsonLines(show(SOURCES.dolly, "dolly_decode_bak/google_flan-t5-base_decode_output.jsonl")).map((row) => {
    const id = (row as { id: number }).id;
    return { id: `dolly-${id}`, category: categories[id] ?? "", text: field(row, "instruction") };
  });
}

function gsm8k(): Raw[] {
  return jsonLines(show(SOURCES.gsm8k, "grade_school_math/data/train.jsonl")).map((row, i) => ({ id: `gsm8k-train-${i + 1}`, category: "train", text: field(row, "question") }));
}

function moss(): Raw[] {
  return Object.keys(SOURCES.moss.labels).flatMap((category) =>
    jsonLines(show(SOURCES.moss, `SFT_data/user_prompts/helpful_prompts_without_plugins/helpful_${category}_prompts.jsonl`)).map((row, i) => ({
      id: `moss-${category}-${i + 1}`,
      category,
      text: field(row, "user_prompt"),
    })),
  );
}

/** MBPP's training split (task ids 601-974); the test (11-510), validation and prompt ids are never read. */
const MBPP_TRAIN = { first: 601, last: 974 } as const;

function mbpp(): Raw[] {
  return jsonLines(show(SOURCES.mbpp, "mbpp.jsonl")).flatMap((row) => {
    const id = (row as { task_id: number }).task_id;
    return id >= MBPP_TRAIN.first && id <= MBPP_TRAIN.last ? [{ id: `mbpp-${id}`, category: "train", text: field(row, "text") }] : [];
  });
}

/** The instruction, and its input on the next line when there is one (as the dataset's own prompt template puts it). */
function codealpaca(): Raw[] {
  const rows = JSON.parse(show(SOURCES.codealpaca, "data/code_alpaca_2k.json")) as unknown[];
  return rows.map((row, i) => {
    const input = field(row, "input").trim();
    return { id: `codealpaca-${i + 1}`, category: "code", text: input === "" ? field(row, "instruction") : `${field(row, "instruction")}\n${input}` };
  });
}

function instructwild(): Raw[] {
  return jsonLines(show(SOURCES.instructwild, "data_v2/user_1.jsonl")).map((row, i) => ({ id: `instructwild-${i + 1}`, category: field(row, "instruction_type"), text: field(row, "instruction") }));
}

const folded = (text: string) => text.toLowerCase().replace(/\s+/g, " ").trim();
const rank = (text: string) => createHash("sha256").update(text).digest("hex");

const evaluated = new Set(readEvalSets().flatMap((set) => set.prompts.map((p) => folded(p.input.latest))));
const seen = new Set<string>();

const builders: Array<[PublicSource, () => Raw[]]> = [
  [SOURCES.dolly, dolly],
  [SOURCES.gsm8k, gsm8k],
  [SOURCES.mbpp, mbpp],
  [SOURCES.moss, moss],
  [SOURCES.codealpaca, codealpaca],
  [SOURCES.instructwild, instructwild],
];
for (const [source, build] of builders) {
  if (only.size > 0 && !only.has(source.name)) continue;
  const labels: Readonly<Record<string, Task>> = source.labels;
  const kept = new Map<Task, Array<Raw & { task: Task }>>();
  let dropped = 0;
  for (const raw of build()) {
    const task = labels[raw.category];
    const text = raw.text.trim();
    const key = folded(text);
    if (task === undefined || text === "") continue;
    if (seen.has(key) || evaluated.has(key)) {
      dropped++;
      continue;
    }
    seen.add(key);
    kept.set(task, [...(kept.get(task) ?? []), { ...raw, text, task }]);
  }
  const chosen = [...kept.values()].flatMap((rows) => rows.sort((a, b) => (rank(a.text) < rank(b.text) ? -1 : 1)).slice(0, source.perTask));
  chosen.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const lines = chosen.map((r) => JSON.stringify({ id: r.id, source: source.name, category: r.category, task: r.task, messages: [{ role: "user", content: r.text }] }));
  writeFileSync(join(PUBLIC_DIR, `pub-${source.name}.jsonl`), `${lines.join("\n")}\n`);
  const counts = [...kept].map(([task, rows]) => `${task} ${Math.min(rows.length, source.perTask)}/${rows.length}`).join(", ");
  console.log(`pub-${source.name}.jsonl: ${chosen.length} prompts (${counts}); ${dropped} duplicates or evaluation prompts dropped`);
}
