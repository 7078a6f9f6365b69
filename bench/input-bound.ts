/**
 * Bounded work per request (issue 11): the most expensive bodies that fit under MAX_BODY_BYTES,
 * sent unpaid to a real gateway, must each be answered in a few tens of ms of CPU, and /healthz
 * must stay responsive while they are in flight.
 *
 * The gateway runs in this process (test/support/gateway.ts: hardhat devnet, in-process
 * facilitator, SQLite, the simulator behind every model), so `process.cpuUsage()` around one
 * request measures the gateway's CPU for it (the client's share, sending the body over loopback,
 * is part of the figure and small next to it). Requests go one at a time, each body `--repeat`
 * times, and the median is reported. Meanwhile a poller sends GET /healthz every 10 ms on its own
 * connection; its latency is how long the event loop was held.
 *
 *   npm run bench:input-bound -- [--bytes 1040000] [--repeat 3] [--only spaceless-ascii,...] [--targets route,embeddings]
 *
 * `--bytes` is each body's size; the default sits just under the default MAX_BODY_BYTES (1 MiB).
 *
 * First, without the gateway, the o200k encoder on its own: for each kind of text, its work per
 * byte (BytePairEncoder#work steps), CPU time per step, and how much of it one request's
 * allowance (EXACT_COUNT_STEPS) counts exactly and at what CPU cost. `--skip-encoder` skips it.
 */
import { readdirSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Agent, request } from "undici";
import { encodeTokens, EXACT_COUNT_STEPS, preloadTokenizer, TokenBudget, tokenizerWork } from "../src/lib/tokenizer.ts";
import { startTestGateway } from "../test/support/gateway.ts";
import { parseServerTiming } from "./server-timing.ts";

const { values } = parseArgs({
  options: {
    bytes: { type: "string", default: "1040000" },
    repeat: { type: "string", default: "3" },
    only: { type: "string" },
    targets: { type: "string" },
    "skip-encoder": { type: "boolean", default: false },
  },
});
const BYTES = Number(values.bytes);
const REPEAT = Number(values.repeat);
const ONLY = values.only?.split(",");
const ONLY_TARGETS = values.targets?.split(",");

/** Deterministic pseudo-random picks (a linear congruential generator), so every run sends the same bodies. */
function picker(seed: number): (n: number) => number {
  let x = seed;
  return (n) => {
    x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff;
    return x % n;
  };
}

/** A string of `count` characters drawn from `alphabet` (an array of code points as strings). */
function randomText(alphabet: readonly string[], utf8Bytes: number, seed = 7): string {
  const pick = picker(seed);
  const parts: string[] = [];
  let bytes = 0;
  while (bytes < utf8Bytes) {
    const char = alphabet[pick(alphabet.length)] ?? "a";
    parts.push(char);
    bytes += Buffer.byteLength(char);
  }
  return parts.join("");
}

function range(from: number, to: number): string[] {
  const chars: string[] = [];
  for (let c = from; c <= to; c++) chars.push(String.fromCodePoint(c));
  return chars;
}

/** Lower-case and caseless letters only (\p{Ll}, \p{Lo}, \p{M}): o200k's split keeps them in one piece. */
const MIXED = [...range(0x61, 0x7a), ...range(0x430, 0x44f), ...range(0x3b1, 0x3c9), ...range(0x4e00, 0x4e80), ...range(0x627, 0x64a), ...range(0x905, 0x939)];
const EMOJI = range(0x1f600, 0x1f64f);
/** Private-use characters: bytes o200k has few merges for. */
const RARE = range(0xe000, 0xe0ff);

/** Room for the envelope ({"model":...,"messages":[...]}) under --bytes. */
const ENVELOPE = 200;
const text = (alphabet: readonly string[]) => randomText(alphabet, BYTES - ENVELOPE);

interface Body {
  name: string;
  /** The hostile text, for the chat and embeddings shapes; undefined for bodies that only make sense as chat. */
  chat: (model: string) => unknown;
  embeddings?: () => unknown;
}

const user = (content: string, model: string) => ({ model, max_tokens: 16, messages: [{ role: "user", content }] });

function nested(depth: number): unknown {
  let value: unknown = "x";
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

const BODIES: Body[] = [
  { name: "spaceless-ascii", chat: (model) => user(text(range(0x61, 0x7a)), model), embeddings: () => ({ model: "text-embedding-3-small", input: text(range(0x61, 0x7a)) }) },
  { name: "one-letter", chat: (model) => user("a".repeat(BYTES - ENVELOPE), model), embeddings: () => ({ model: "text-embedding-3-small", input: "a".repeat(BYTES - ENVELOPE) }) },
  { name: "spaceless-mixed", chat: (model) => user(text(MIXED), model), embeddings: () => ({ model: "text-embedding-3-small", input: text(MIXED) }) },
  { name: "emoji", chat: (model) => user(text(EMOJI), model), embeddings: () => ({ model: "text-embedding-3-small", input: text(EMOJI) }) },
  { name: "rare-bytes", chat: (model) => user(text(RARE), model), embeddings: () => ({ model: "text-embedding-3-small", input: text(RARE) }) },
  {
    name: "deep-json",
    // Just inside json-body.ts's limits: 62 levels deep (the envelope adds 2) and ~99,000 arrays,
    // with the rest of the body a long string in another unknown field, which passes through.
    chat: (model) => {
      const unit = JSON.stringify(nested(58)).length + 1;
      const arrays = Array.from({ length: Math.min(Math.floor(99_000 / 58), Math.floor((BYTES - ENVELOPE) / unit)) }, () => nested(58));
      const padding = BYTES - ENVELOPE - JSON.stringify(arrays).length - 100;
      return { ...user("hi", model), metadata: arrays, padding: "lorem ipsum ".repeat(Math.max(0, padding) / 12) };
    },
  },
  {
    name: "too-deep-json",
    // The depth check reads the whole 1 MB string of brackets (inside a string, so they do not count) before the 65 levels at the end.
    chat: (model) => ({ padding: "[".repeat(BYTES - 2 * ENVELOPE), ...user("hi", model), metadata: JSON.parse(`${"[".repeat(65)}${"]".repeat(65)}`) as unknown }),
  },
  {
    name: "too-many-arrays",
    chat: (model) => ({ ...user("hi", model), metadata: Array.from({ length: Math.floor((BYTES - ENVELOPE) / 3) }, () => []) }),
  },
  {
    name: "many-messages",
    chat: (model) => {
      const message = { role: "user", content: "hi" };
      return { model, max_tokens: 16, messages: Array.from({ length: Math.floor((BYTES - ENVELOPE) / (JSON.stringify(message).length + 1)) }, () => message) };
    },
    embeddings: () => ({ model: "text-embedding-3-small", input: Array.from({ length: 2048 }, (_, i) => randomText(range(0x61, 0x7a), Math.floor((BYTES - ENVELOPE) / 2048) - 4, i + 1)) }),
  },
  {
    name: "tool-arguments",
    chat: (model) => ({
      model,
      max_tokens: 16,
      messages: [
        { role: "user", content: "call it" },
        { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "f", arguments: JSON.stringify({ a: text(range(0x61, 0x7a)).slice(0, BYTES - 2 * ENVELOPE) }) } }] },
        { role: "tool", tool_call_id: "call_1", content: "ok" },
      ],
    }),
  },
];

interface Target {
  label: string;
  path: string;
  body: (b: Body) => unknown;
}

const TARGETS: Target[] = [
  { label: "chat gpt-4o", path: "/v1/chat/completions", body: (b) => b.chat("gpt-4o") },
  { label: "chat gpt-4.1", path: "/v1/chat/completions", body: (b) => b.chat("gpt-4.1") },
  { label: "route auto", path: "/v1/route", body: (b) => b.chat("auto") },
  { label: "embeddings", path: "/v1/embeddings", body: (b) => b.embeddings?.() },
];

/** Ordinary text: the training prompts (nine sets, 26 languages), the gateway's own source, the catalog's JSON. */
function ordinaryTexts(): Record<string, string> {
  const prompts: string[] = [];
  for (const file of readdirSync("data/routing-train")) {
    for (const line of readFileSync(`data/routing-train/${file}`, "utf8").split("\n")) {
      if (line === "") continue;
      for (const message of (JSON.parse(line) as { messages: Array<{ content: unknown }> }).messages) if (typeof message.content === "string") prompts.push(message.content);
    }
  }
  const source = readdirSync("src/routing").filter((f) => f.endsWith(".ts")).map((f) => readFileSync(`src/routing/${f}`, "utf8"));
  return { "prompts (data/routing-train)": prompts.join("\n"), "TypeScript (src/routing)": source.join("\n"), "JSON (catalog x8)": readFileSync("src/catalog/default-catalog.json", "utf8").repeat(8) };
}

function encoderTable(): void {
  preloadTokenizer();
  const hostile = (alphabet: readonly string[]) => randomText(alphabet, 512 * 1024);
  const texts: Record<string, string> = {
    ...ordinaryTexts(),
    "spaceless ASCII": hostile(range(0x61, 0x7a)),
    "one letter": "a".repeat(512 * 1024),
    "spaceless mixed scripts": hostile(MIXED),
    emoji: hostile(EMOJI),
    "rare bytes": hostile(RARE),
    "16-letter random words": hostile(range(0x61, 0x7a)).replace(/(.{15})/g, "$1 "),
  };
  const cpuMs = (run: () => void) => {
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 3; i++) {
      const start = process.cpuUsage();
      run();
      const used = process.cpuUsage(start);
      best = Math.min(best, (used.user + used.system) / 1000);
    }
    return best;
  };
  console.log(`\no200k encoder alone (best of 3); the allowance is ${EXACT_COUNT_STEPS} steps\n`);
  console.log("| text | KiB | steps/byte | ns/step | KiB counted exactly within the allowance | CPU ms with the allowance |");
  console.log("|---|---|---|---|---|---|");
  for (const [name, text] of Object.entries(texts)) {
    const bytes = Buffer.byteLength(text);
    const before = tokenizerWork();
    encodeTokens(text);
    const steps = tokenizerWork() - before;
    const whole = cpuMs(() => encodeTokens(text));
    // The longest prefix counted exactly within the allowance, to within 1 KiB.
    let fits = 0;
    let over = text.length;
    while (over - fits > 1024) {
      const middle = (fits + over) >> 1;
      const budget = new TokenBudget(EXACT_COUNT_STEPS);
      budget.count(text.slice(0, middle));
      if (budget.exact) fits = middle;
      else over = middle;
    }
    const bounded = cpuMs(() => new TokenBudget(EXACT_COUNT_STEPS).count(text));
    console.log(`| ${name} | ${(bytes / 1024).toFixed(0)} | ${(steps / bytes).toFixed(1)} | ${((whole * 1e6) / steps).toFixed(0)} | ${(Buffer.byteLength(text.slice(0, fits)) / 1024).toFixed(0)} | ${bounded.toFixed(1)} |`);
  }
}

async function main(): Promise<void> {
  if (!values["skip-encoder"]) encoderTable();
  const gateway = await startTestGateway();
  const hostile = new Agent({ connections: 1, keepAliveTimeout: 60_000 });
  const probe = new Agent({ connections: 1, keepAliveTimeout: 60_000 });
  const healthz = async (): Promise<number> => {
    const started = performance.now();
    const res = await request(`${gateway.url}/healthz`, { dispatcher: probe });
    await res.body.text();
    return performance.now() - started;
  };
  try {
    for (let i = 0; i < 50; i++) await healthz();
    const idle: number[] = [];
    for (let i = 0; i < 50; i++) idle.push(await healthz());

    let polling = true;
    const underLoad: number[] = [];
    const poller = (async () => {
      while (polling) {
        underLoad.push(await healthz());
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();

    const rows: string[] = [];
    for (const body of BODIES) {
      if (ONLY !== undefined && !ONLY.includes(body.name)) continue;
      for (const target of TARGETS) {
        if (ONLY_TARGETS !== undefined && !ONLY_TARGETS.some((t) => target.label.includes(t))) continue;
        const value = target.body(body);
        if (value === undefined) continue;
        const payload = JSON.stringify(value);
        const cpu: number[] = [];
        const wall: number[] = [];
        let status = 0;
        let code = "";
        let plan = Number.NaN;
        for (let r = 0; r < REPEAT; r++) {
          const cpuStart = process.cpuUsage();
          const started = performance.now();
          const res = await request(`${gateway.url}${target.path}`, { method: "POST", dispatcher: hostile, headers: { "content-type": "application/json" }, body: payload });
          const text = await res.body.text();
          wall.push(performance.now() - started);
          const used = process.cpuUsage(cpuStart);
          cpu.push((used.user + used.system) / 1000);
          status = res.statusCode;
          code = status >= 400 && status !== 402 ? /"code":"(\w+)"/.exec(text)?.[1] ?? "" : "";
          const timing = res.headers["server-timing"];
          plan = parseServerTiming(typeof timing === "string" ? timing : undefined)["plan"] ?? Number.NaN;
        }
        rows.push(`| ${body.name} | ${target.label} | ${(Buffer.byteLength(payload) / 1024).toFixed(0)} | ${status}${code === "" ? "" : ` ${code}`} | ${median(cpu).toFixed(1)} | ${median(wall).toFixed(1)} | ${Number.isNaN(plan) ? "" : plan.toFixed(1)} |`);
        console.error(rows.at(-1));
      }
    }
    polling = false;
    await poller;

    console.log(`\nbodies of ~${(BYTES / 1024).toFixed(0)} KiB, median of ${REPEAT}; CPU is this process's user+system time during the request\n`);
    console.log("| body | target | KiB | status | CPU ms | wall ms | plan ms |");
    console.log("|---|---|---|---|---|---|---|");
    for (const row of rows) console.log(row);
    const sortedIdle = [...idle].sort((a, b) => a - b);
    const sortedLoad = [...underLoad].sort((a, b) => a - b);
    console.log(`\n/healthz idle: p50 ${pct(sortedIdle, 50).toFixed(2)} ms, max ${pct(sortedIdle, 100).toFixed(2)} ms`);
    console.log(`/healthz with hostile bodies in flight (n=${sortedLoad.length}): p50 ${pct(sortedLoad, 50).toFixed(2)} ms, p99 ${pct(sortedLoad, 99).toFixed(2)} ms, max ${pct(sortedLoad, 100).toFixed(2)} ms`);
  } finally {
    await hostile.close();
    await probe.close();
    await gateway.close();
  }
}

function median(values: number[]): number {
  return pct([...values].sort((a, b) => a - b), 50);
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

await main();
