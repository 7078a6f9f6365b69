import { readFileSync } from "node:fs";
import { decodePaymentRequiredHeader } from "@x402/core/http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devUsdcAbi } from "../contracts-abi/abi.ts";
import { createPayingFetch, type PayingFetch } from "../examples/paying-fetch.ts";
import { ChatRequest, SOLD_TOOL_TYPES, UNSOLD } from "../src/call/chat-request.ts";
import { devnetPrivateKey, devnetTestAccount } from "../src/devnet/accounts.ts";
import { countTokens } from "../src/lib/tokenizer.ts";
import { analyse } from "../src/routing/analyse.ts";
import { CAPPED_REASONING_FIELDS, FORWARDED_FIELDS } from "../src/providers/openai-request.ts";
import { startFakeAnthropic, type FakeAnthropic } from "./fakes/anthropic-upstream.ts";
import { startFakeGemini, type FakeGemini } from "./fakes/gemini-upstream.ts";
import { startFakeOpenAI, type FakeOpenAI } from "./fakes/openai-upstream.ts";
import { startTestGateway, type TestGateway } from "./support/gateway.ts";
import { recordedBody } from "./support/provider-calls.ts";
import { base64Json, signAuthorization } from "./support/sign-payment.ts";

/**
 * Only priced fields reach the upstream (docs/request-fields.md). The price covers input tokens
 * and the output cap at list price; a field that makes the upstream bill more is refused before
 * any quote, a field Tollgate does not sell is dropped, and the fields agents rely on arrive as
 * they were sent. Each upstream here is a loopback fake that records the body it received.
 */

const agent = devnetTestAccount(2);
const messages = [{ role: "user", content: "What is a toll road?" }];
const chat = { model: "gpt-4o-mini", messages, max_tokens: 32 };

let openai: FakeOpenAI;
let anthropic: FakeAnthropic;
let gemini: FakeGemini;
let gateway: TestGateway;
let paying: PayingFetch;

beforeAll(async () => {
  [openai, anthropic, gemini] = await Promise.all([startFakeOpenAI(), startFakeAnthropic(), startFakeGemini()]);
  gateway = await startTestGateway({
    OPENAI_API_KEY: "sk-test",
    OPENAI_BASE_URL: openai.url,
    // Groq speaks OpenAI's wire format but is sent the output cap as max_tokens.
    GROQ_API_KEY: "gsk-test",
    GROQ_BASE_URL: openai.url,
    ANTHROPIC_API_KEY: "sk-ant-test",
    ANTHROPIC_BASE_URL: anthropic.url,
    GOOGLE_API_KEY: "AIza-test",
    GOOGLE_BASE_URL: gemini.url,
  });
  await gateway.dev.faucet(agent.address, 20_000_000n);
  paying = createPayingFetch({ privateKey: devnetPrivateKey(agent), allowedAsset: { network: "eip155:84532", asset: gateway.dev.info.asset } });
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all([openai?.close(), anthropic?.close(), gemini?.close()]);
});

interface ErrorBody {
  error: { code: string; message: string; param: string | null; type: string };
}

/** POSTs `body` with the paying fetch: a 402 is paid, anything else comes back as it is. */
async function paidCall(body: object, path = "/v1/chat/completions"): Promise<{ status: number; json: unknown }> {
  const res = await paying.fetch(`${gateway.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

/** The body the upstream received for a paid call that must succeed. */
async function forwarded(upstream: FakeOpenAI | FakeAnthropic | FakeGemini, body: object): Promise<Record<string, unknown>> {
  const before = upstream.requests.length;
  const { status, json } = await paidCall(body);
  expect(status, JSON.stringify(json)).toBe(200);
  expect(upstream.requests.length).toBe(before + 1);
  return recordedBody(upstream.requests.at(-1));
}

function balance(): Promise<bigint> {
  return gateway.publicClient.readContract({ address: gateway.dev.info.asset, abi: devUsdcAbi, functionName: "balanceOf", args: [agent.address] });
}

async function callsRecorded(): Promise<number> {
  return (await gateway.runtime.deps.ledger.wallet(agent.address))?.totals.calls ?? 0;
}

/** Runs `attempt` and proves no upstream was called, no USDC moved and no call was recorded. */
async function expectNothingCharged<T>(attempt: () => Promise<T>): Promise<T> {
  const upstreamBefore = openai.requests.length + anthropic.requests.length + gemini.requests.length;
  const [balanceBefore, callsBefore] = await Promise.all([balance(), callsRecorded()]);
  const result = await attempt();
  expect(openai.requests.length + anthropic.requests.length + gemini.requests.length).toBe(upstreamBefore);
  expect(await balance()).toBe(balanceBefore);
  expect(await callsRecorded()).toBe(callsBefore);
  return result;
}

const FUNCTION_TOOL = { type: "function", function: { name: "get_toll", description: "Toll for a road", parameters: { type: "object", properties: { road: { type: "string" } } } } };

/** [what, extra body fields, the param the refusal must name]. */
const REFUSED: Array<[string, Record<string, unknown>, string]> = [
  ["n > 1", { n: 3 }, "n"],
  ["best_of > 1", { best_of: 2 }, "best_of"],
  ['service_tier "priority"', { service_tier: "priority" }, "service_tier"],
  ['service_tier "flex"', { service_tier: "flex" }, "service_tier"],
  ['service_tier "scale"', { service_tier: "scale" }, "service_tier"],
  ["audio modalities", { modalities: ["text", "audio"] }, "modalities"],
  ["audio output settings", { audio: { voice: "alloy", format: "wav" } }, "audio"],
  ["a predicted output", { prediction: { type: "content", content: "A toll road is a road you pay to use." } }, "prediction"],
  ["web search, even with default options", { web_search_options: {} }, "web_search_options"],
  ["moderation", { moderation: { model: "omni-moderation-latest" } }, "moderation"],
  ["deprecated functions", { functions: [FUNCTION_TOOL.function] }, "functions"],
  ["deprecated function_call", { function_call: "auto" }, "function_call"],
  ["OpenRouter fallback models", { models: ["openai/gpt-4o", "anthropic/claude-3.5-sonnet"] }, "models"],
  ["OpenRouter plugins", { plugins: [{ id: "web" }] }, "plugins"],
  ["a tool the provider runs itself", { tools: [FUNCTION_TOOL, { type: "browser_search" }] }, "tools.1.type"],
];

describe("fields that would bill beyond the price are refused before any quote", () => {
  it.each(REFUSED)("refuses %s with 400 unsupported_parameter naming the field, and charges nothing", async (_what, extra, param) => {
    const { status, json } = await expectNothingCharged(() => paidCall({ ...chat, ...extra }));
    expect(status).toBe(400);
    const { error } = json as ErrorBody;
    expect(error.code).toBe("unsupported_parameter");
    expect(error.type).toBe("invalid_request_error");
    expect(error.param).toBe(param);
    expect(error.message).toContain(`'${param}'`);
  });

  it("refuses the same body on POST /v1/route, so no decision or price is shown for it", async () => {
    const res = await fetch(`${gateway.url}/v1/route`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ...chat, service_tier: "priority" }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error).toMatchObject({ code: "unsupported_parameter", param: "service_tier" });
  });

  it("refuses a paid retry that adds service_tier: priority to a quoted body, before the payment is used", async () => {
    const challenge = await fetch(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(chat) });
    expect(challenge.status).toBe(402);
    const accepted = decodePaymentRequiredHeader(challenge.headers.get("PAYMENT-REQUIRED") ?? "").accepts.find((a) => a.scheme === "exact");
    if (accepted === undefined) throw new Error("no payment requirement offered");
    const payload = await signAuthorization(agent, { asset: gateway.dev.info.asset, chainId: 84532 }, { to: accepted.payTo as `0x${string}`, value: BigInt(accepted.amount) });
    const header = base64Json({ x402Version: 2, accepted, payload });
    const res = await expectNothingCharged(() =>
      fetch(`${gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", "PAYMENT-SIGNATURE": header },
        body: JSON.stringify({ ...chat, service_tier: "priority" }),
      }),
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error).toMatchObject({ code: "unsupported_parameter", param: "service_tier" });
  });
});

describe("fields the price does not cover, at their defaults, and unknown fields are dropped", () => {
  const DEFAULTS = { n: 1, best_of: 1, service_tier: "auto", modalities: ["text"], audio: null, prediction: null, web_search_options: null, models: [], plugins: [] };
  const UNPRICED = { store: true, metadata: { run: "fields-test" }, prompt_cache_key: "agent-7", prompt_cache_retention: "24h" };
  const FOREIGN = { provider: { order: ["expensive-host"] }, transforms: ["middle-out"], top_k: 40, repetition_penalty: 1.1, compound_custom: { tools: { enabled_tools: ["web_search"] } }, thinking: { type: "enabled", budget_tokens: 4096 } };

  it("keeps store, metadata, prompt-cache settings, default-valued unsold fields and foreign fields from an OpenAI upstream", async () => {
    const sent = await forwarded(openai, { ...chat, ...DEFAULTS, ...UNPRICED, ...FOREIGN });
    for (const field of [...Object.keys(DEFAULTS), ...Object.keys(UNPRICED), ...Object.keys(FOREIGN)]) expect(sent, field).not.toHaveProperty(field);
    expect(sent).toMatchObject({ model: "gpt-4o-mini", messages, max_completion_tokens: 32 });
  });

  it("forwards reasoning_effort where the cap goes out as max_completion_tokens (OpenAI), drops it where it goes out as max_tokens (Groq)", async () => {
    const toOpenAI = await forwarded(openai, { ...chat, model: "o4-mini", reasoning_effort: "high" });
    expect(toOpenAI).toMatchObject({ reasoning_effort: "high", max_completion_tokens: 32 });
    const toGroq = await forwarded(openai, { ...chat, model: "llama-3.1-8b-instant", reasoning_effort: "high" });
    expect(toGroq).toMatchObject({ model: "llama-3.1-8b-instant", max_tokens: 32 });
    expect(toGroq).not.toHaveProperty("reasoning_effort");
    expect(toGroq).not.toHaveProperty("max_completion_tokens");
  });

  const EVERYTHING = { ...DEFAULTS, ...UNPRICED, ...FOREIGN, seed: 7, logprobs: true, top_logprobs: 2, presence_penalty: 0.5, reasoning_effort: "high", verbosity: "low", safety_identifier: "agent-7" };

  it("sends the Messages API only the fields its translation builds", async () => {
    const sent = await forwarded(anthropic, { ...chat, model: "claude-3-5-haiku-20241022", temperature: 0.5, stop: ["\n\n"], user: "agent-7", ...EVERYTHING });
    expect(Object.keys(sent).sort()).toEqual(["max_tokens", "messages", "metadata", "model", "stop_sequences", "temperature"]);
    expect(sent["metadata"]).toEqual({ user_id: "agent-7" });
  });

  it("sends the Gemini API only the fields its translation builds", async () => {
    const sent = await forwarded(gemini, { ...chat, model: "gemini-2.0-flash", temperature: 0.5, stop: "END", ...EVERYTHING });
    expect(Object.keys(sent).sort()).toEqual(["contents", "generationConfig"]);
    expect(sent["generationConfig"]).toEqual({ maxOutputTokens: 32, temperature: 0.5, stopSequences: ["END"] });
  });
});

describe("the fields agents rely on arrive unchanged", () => {
  it("forwards sampling, stop, logprobs, tools and output format to an OpenAI upstream exactly as sent", async () => {
    const harmless = {
      temperature: 0.3,
      top_p: 0.9,
      stop: ["\n\n", "END"],
      seed: 42,
      presence_penalty: 0.5,
      frequency_penalty: -0.5,
      logit_bias: { "1734": -100 },
      logprobs: true,
      top_logprobs: 3,
      tools: [FUNCTION_TOOL, { type: "custom", custom: { name: "sql", description: "Runs a read-only query" } }],
      tool_choice: { type: "function", function: { name: "get_toll" } },
      parallel_tool_calls: false,
      response_format: { type: "json_schema", json_schema: { name: "toll", schema: { type: "object", properties: { usd: { type: "number" } } } } },
      user: "agent-7",
      safety_identifier: "9f86d081884c7d65",
      verbosity: "low",
    };
    const sent = await forwarded(openai, { ...chat, ...harmless });
    expect(sent).toEqual({ ...harmless, messages, model: "gpt-4o-mini", max_completion_tokens: 32 });
  });

  it("forwards null for the fields OpenAI lets an agent null out", async () => {
    const sent = await forwarded(openai, { ...chat, stop: null, seed: null, logprobs: null, user: null });
    expect(sent).toMatchObject({ stop: null, seed: null, logprobs: null, user: null });
  });
});

describe("forwarded definitions are priced", () => {
  const schemaFormat = { type: "json_schema", json_schema: { name: "toll", schema: { type: "object", properties: { usd: { type: "number" } } } } } as const;

  it("counts tool definitions and a json_schema response format into the input tokens, as their JSON", () => {
    const plain = analyse(ChatRequest.parse(chat));
    const tools = [FUNCTION_TOOL, FUNCTION_TOOL];
    const withBoth = analyse(ChatRequest.parse({ ...chat, tools, response_format: schemaFormat }));
    expect(withBoth.inputTokens).toBe(plain.inputTokens + countTokens(JSON.stringify({ tools, schema: schemaFormat })));
    expect(withBoth.minContextWindow).toBe(withBoth.inputTokens + 1);
    // Routing's sense of how hard the task is does not move with the tool set.
    expect(withBoth.complexity).toBe(plain.complexity);
  });

  it("quotes a call with a large tool set above the same call without it", async () => {
    const quote = async (body: object) => {
      const res = await fetch(`${gateway.url}/v1/route`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      expect(res.status).toBe(200);
      return (await res.json()) as { price: { amount: string }; inputTokens: number };
    };
    const tools = Array.from({ length: 40 }, (_, i) => ({ ...FUNCTION_TOOL, function: { ...FUNCTION_TOOL.function, name: `get_toll_${i}` } }));
    const without = await quote({ ...chat, model: "gpt-4o" });
    const withTools = await quote({ ...chat, model: "gpt-4o", tools });
    expect(withTools.inputTokens - without.inputTokens).toBe(countTokens(JSON.stringify({ tools })));
    expect(BigInt(withTools.price.amount)).toBeGreaterThan(BigInt(without.price.amount));
  });
});

describe("the allowlists and their documentation stay in step", () => {
  const ADAPTER_SET = ["model", "max_tokens", "max_completion_tokens", "stream", "stream_options"];

  it("every field ChatRequest keeps is forwarded, capped-forwarded or set by the OpenAI-compatible adapter", () => {
    const kept = Object.keys(ChatRequest.shape).sort();
    expect(kept).toEqual([...FORWARDED_FIELDS, ...CAPPED_REASONING_FIELDS, ...ADAPTER_SET].sort());
    for (const field of Object.keys(UNSOLD)) expect(kept, field).not.toContain(field);
  });

  it("docs/request-fields.md has a row for every field ChatRequest keeps or refuses", () => {
    const doc = readFileSync(new URL("../docs/request-fields.md", import.meta.url), "utf8");
    const rows = new Set([...doc.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]));
    for (const field of [...Object.keys(ChatRequest.shape), ...Object.keys(UNSOLD)]) expect(rows, field).toContain(field);
    for (const type of SOLD_TOOL_TYPES) expect(doc).toContain(`"${type}"`);
  });
});

describe("embeddings fields", () => {
  it("forwards dimensions, encoding_format and user to the upstream as sent", async () => {
    const before = openai.requests.length;
    const { status } = await paidCall({ model: "text-embedding-3-small", input: "toll", dimensions: 8, encoding_format: "float", user: "agent-7" }, "/v1/embeddings");
    expect(status).toBe(200);
    expect(openai.requests.length).toBe(before + 1);
    expect(recordedBody(openai.requests.at(-1))).toEqual({ model: "text-embedding-3-small", input: "toll", dimensions: 8, encoding_format: "float", user: "agent-7" });
  });

  it("refuses any other field, naming it, and charges nothing", async () => {
    const { status, json } = await expectNothingCharged(() => paidCall({ model: "text-embedding-3-small", input: "toll", truncate: "END" }, "/v1/embeddings"));
    expect(status).toBe(400);
    expect((json as ErrorBody).error).toMatchObject({ code: "invalid_request", param: "truncate" });
  });
});
