/**
 * Routing latency: analyse + decide on the default catalog, p50/p99 over many runs, for a
 * ~2,000-token prompt (the DESIGN target: under 1 ms p99, the one-time tokenizer load excluded).
 * Also shows what an exact o200k count of the same prompt costs, which is why long prompts are
 * estimated unless the agent named an OpenAI-family model (src/routing/input-tokens.ts).
 *
 *   npx tsx bench/routing.bench.ts [iterations]
 */
import { ChatRequest } from "../src/call/chat-request.ts";
import { CatalogIndex } from "../src/catalog/index.ts";
import { loadCatalog } from "../src/catalog/load.ts";
import { countTokens, preloadTokenizer } from "../src/lib/tokenizer.ts";
import { priceCall } from "../src/payment/pricing.ts";
import { analyse, taskInputOf } from "../src/routing/analyse.ts";
import { decide } from "../src/routing/decide.ts";
import { EMPTY_HEALTH } from "../src/routing/health.ts";
import { guessTask } from "../src/routing/task.ts";
import { voteTask } from "../src/routing/task-vote.ts";
import type { Candidate, Strategy } from "../src/routing/types.ts";

const iterations = Number(process.argv[2] ?? 2_000);
const catalog = new CatalogIndex(loadCatalog());
const priceOf = (c: Candidate) => priceCall({ rates: catalog.rates(c.model), inputTokens: 0, outputCap: c.outputCap, markupBps: 1_000, minPrice: 100n });

const loadStart = performance.now();
preloadTokenizer();
const loadMs = performance.now() - loadStart;

const paragraph =
  "Our payments service retries failed card charges three times with exponential backoff, but the retry queue is shared with refunds, " +
  "so a burst of declines delays refunds by up to an hour. Customers notice, support tickets spike, and the finance team reconciles by hand. ";
let body = "";
while (countTokens(body) < 1_950) body += paragraph;
const prompt = `${body}\nSummarize the incident above in three bullet points for the engineering leads, and suggest one fix.`;

function measure(label: string, run: (i: number) => void): void {
  for (let i = 0; i < 200; i++) run(i); // warm-up: JIT and regex compilation
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    run(i);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => (times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0).toFixed(3);
  console.log(`${label.padEnd(58)} p50 ${at(0.5)} ms   p99 ${at(0.99)} ms`);
}

console.log(`tokenizer load (once per process, excluded): ${loadMs.toFixed(0)} ms`);
console.log(`prompt: ${prompt.length} chars, ${countTokens(prompt)} o200k tokens; ${iterations} iterations\n`);

// A fresh string each iteration (a trailing counter) so no cache anywhere can help.
// Built before the timed loops: the garbage of building a 10 KB body is the HTTP layer's, and
// it would trigger collections inside routing's timings.
const bodies = Array.from({ length: iterations + 200 }, (_, i) => `${prompt} #${i}`);
const requestFor = (i: number, model: string) => ChatRequest.parse({ model, messages: [{ role: "user", content: bodies[i] ?? prompt }] });

for (const strategy of ["cost", "quality", "balanced", "task"] as Strategy[]) {
  measure(`auto:${strategy}: analyse (estimate) + decide, 16 models`, (i) => {
    const analysis = analyse(requestFor(i, `auto:${strategy}`));
    decide({ analysis, requestedModel: `auto:${strategy}`, defaultStrategy: "cost", models: catalog.models(), health: EMPTY_HEALTH, priceOf });
  });
}
measure("explicit gpt-4o: analyse (exact o200k) + decide", (i) => {
  const analysis = analyse(requestFor(i, "gpt-4o"), { exactTokens: true });
  decide({ analysis, requestedModel: "gpt-4o", defaultStrategy: "cost", models: catalog.models(), priceOf });
});
measure("short prompt (MT-Bench-sized, exact o200k) auto:cost", (i) => {
  const request = ChatRequest.parse({ messages: [{ role: "user", content: `Write a function to find the majority element in an array. #${i}` }] });
  decide({ analysis: analyse(request), requestedModel: "auto", defaultStrategy: "cost", models: catalog.models(), priceOf });
});

// Where the long prompt's time goes: the classifier (of which the hand vote it reads as features) and decide alone.
// (Parsing the request and splitting the turns, inside the timed region here, take about 1 µs.)
const inputOf = (i: number) => taskInputOf(requestFor(i, "auto").messages);
console.log("\nparts, long prompt:");
measure("  task classifier (guessTask)", (i) => guessTask(inputOf(i)));
measure("  of which the hand vote (voteTask)", (i) => voteTask(inputOf(i)));
const longAnalysis = analyse(requestFor(0, "auto:balanced"));
measure("  decide auto:balanced alone", () => {
  decide({ analysis: longAnalysis, requestedModel: "auto:balanced", defaultStrategy: "cost", models: catalog.models(), health: EMPTY_HEALTH, priceOf });
});
