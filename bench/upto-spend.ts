/**
 * What an agent pays over the MT-Bench first turns under each routing strategy: worst-case
 * `exact` (the quote: input plus the whole output cap) against `upto` (the tokens used), for a
 * few assumed answer lengths. Routing and prices are the gateway's own (planCall on a real
 * gateway's deps, the default catalog, no max_tokens, so the catalogue's default cap applies);
 * the answer lengths are assumptions, printed as such: no model runs here.
 *
 *   npx tsx bench/upto-spend.ts [--file path.jsonl]
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { z } from "zod";
import { readJsonLines } from "../scripts/task-classifier/labelled.ts";
import { planCall, routingSettings } from "../src/call/plan.ts";
import { atomicToUsd } from "../src/lib/money.ts";
import { chargeFor } from "../src/payment/pricing.ts";
import { startTestGateway } from "../test/support/gateway.ts";

const DEFAULT_FILE = fileURLToPath(new URL("../../shared/data/routing-dev/mt_bench.jsonl", import.meta.url));
const STRATEGIES = ["auto:cost", "auto:balanced", "auto:quality", "auto:task"] as const;
/** Answer lengths in output tokens: short, typical, long (assumed, not measured). */
const ANSWER_TOKENS = [150, 400, 1_000] as const;

const Line = z.object({ id: z.string(), messages: z.array(z.unknown()).min(1) });
const { values } = parseArgs({ options: { file: { type: "string" } } });
const lines = readJsonLines(values.file ?? DEFAULT_FILE, Line);

const gateway = await startTestGateway();
try {
  const deps = gateway.runtime.deps;
  const { markupBps, minPrice } = deps.pricing;
  console.log(`${lines.length} prompts; USD totals; upto assumes every answer is N output tokens (capped at the call's output cap)\n`);
  console.log(`${"strategy".padEnd(15)} ${"exact (quote)".padStart(14)} ${ANSWER_TOKENS.map((n) => `upto N=${n}`.padStart(14)).join(" ")}  upto/exact at N=400`);
  for (const strategy of STRATEGIES) {
    let exact = 0n;
    const upto = ANSWER_TOKENS.map(() => 0n);
    for (const line of lines) {
      const plan = planCall(deps, { model: strategy, messages: line.messages }, "http://127.0.0.1/v1/chat/completions", routingSettings(deps));
      const primary = plan.candidates[0];
      exact += plan.offer.amount;
      ANSWER_TOKENS.forEach((n, i) => {
        const usage = { promptTokens: plan.analysis.inputTokens, completionTokens: Math.min(n, primary.outputCap), cachedPromptTokens: 0 };
        upto[i] = (upto[i] ?? 0n) + chargeFor({ rates: deps.catalog.rates(primary.model), usage, markupBps, minPrice, maximum: plan.offer.amount });
      });
    }
    const ratio = Number(((upto[1] ?? 0n) * 10_000n) / exact) / 100;
    console.log(`${strategy.padEnd(15)} ${atomicToUsd(exact).padStart(14)} ${upto.map((u) => atomicToUsd(u).padStart(14)).join(" ")}  ${ratio.toFixed(2)}%`);
  }
} finally {
  await gateway.close();
}
