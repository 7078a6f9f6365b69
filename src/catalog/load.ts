import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { z } from "zod";
import { Catalog } from "./schema.ts";
import { messageOf } from "../lib/errors.ts";

/**
 * The catalog that ships with Tollgate: list prices as published on each provider's pricing
 * page on the entry's `pricing.asOf` date. Notes that JSON cannot carry:
 * - gemini-2.5-pro's contextWindow is 200k, not its real 1M: above 200k prompt tokens Google
 *   charges a higher tier ($2.50 in / $15 out), and the schema has one price per model, so we
 *   never route a prompt to it that would be billed at a rate we did not quote.
 * - Mistral publishes no separate output cap; 16k is a conservative cap we quote against.
 * - Cached-input rates are the providers' cache-hit (read) rates; cache writes are not priced.
 * - `quality` (0..100 per task) is a prior we derived by hand from the public figures each
 *   entry cites in `qualitySources`: vendor-published benchmark results (HumanEval, SWE-bench,
 *   LiveCodeBench for code; MATH, AIME for math; GPQA for reasoning; MMLU/MMMLU for qa and
 *   translation) and the LMArena leaderboard for the open-ended tasks (creative, chat,
 *   summarization). docs/model-quality.md shows the derivation. Only the order between models
 *   matters to routing; a point or two either way changes nothing.
 * - Reasoning models' `latency.ttftMs` (o4-mini, gemini-2.5-pro) is the time to the first
 *   answer token, thinking included, which is what an agent waits for.
 * - `released` is the date the provider announced the model or made it generally available
 *   (GET /v1/models `created`); `deepseek-chat` is an alias that follows DeepSeek's current V3
 *   release: its date is DeepSeek-V3's first release. `dimensions` (embedding models) is the
 *   native vector size from the provider's model page.
 * - `latency` figures are approximate Artificial Analysis medians from mid-2025; live health
 *   replaces them as soon as a model has served a few calls.
 */
export const DEFAULT_CATALOG_PATH = fileURLToPath(new URL("./default-catalog.json", import.meta.url));

function issuePath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) out += typeof key === "number" ? `[${key}]` : `${out === "" ? "" : "."}${String(key)}`;
  return out === "" ? "(root)" : out;
}

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issuePath(issue.path)}: ${issue.message}`)
    .join("; ");
}

/** Read and validate a catalog file (the default one when no path is given). */
export function loadCatalog(path: string = DEFAULT_CATALOG_PATH): Catalog {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw new Error(`Cannot read catalog file ${path}`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new Error(`Catalog file ${path} is not valid JSON: ${messageOf(cause)}`, { cause });
  }
  const parsed = Catalog.safeParse(json);
  if (!parsed.success) throw new Error(`Invalid catalog file ${path}: ${describe(parsed.error)}`, { cause: parsed.error });
  return parsed.data;
}
