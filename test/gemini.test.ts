import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CatalogIndex } from "../src/catalog/index.ts";
import { ModelEntry } from "../src/catalog/schema.ts";
import { createGeminiProvider } from "../src/providers/gemini/provider.ts";
import { createProviderRegistry } from "../src/providers/registry.ts";
import type { ChatCall, Provider } from "../src/providers/types.ts";
import { startFakeGemini, type FakeGemini } from "./fakes/gemini-upstream.ts";
import { readOpenAIStream } from "./support/openai-stream.ts";
import { deferred, rejection, SAMPLE_MESSAGES as MESSAGES, chatCall } from "./support/provider-calls.ts";

const KEY = "AIzaSyFakeFakeFakeFakeFakeFakeFake012345";
const MODEL = ModelEntry.parse({
  id: "gemini-2.5-flash",
  provider: "google",
  pricing: { inputPerMTok: "0.30", outputPerMTok: "2.50", asOf: "2025-07-01", source: "https://ai.google.dev/gemini-api/docs/pricing" },
  contextWindow: 1_048_576,
  maxOutputTokens: 65_536,
  capabilities: ["tools", "vision", "json", "streaming", "reasoning"],
});
const WEATHER_TOOL = {
  type: "function",
  function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
};

const call = (body: Record<string, unknown> = {}, signal?: AbortSignal): ChatCall => chatCall(MODEL, body, signal);

let fake: FakeGemini;
let provider: Provider;

beforeAll(async () => {
  fake = await startFakeGemini({ apiKey: KEY });
  provider = createGeminiProvider({ baseUrl: fake.url, apiKey: KEY });
});
afterEach(() => fake.resetBehaviour());
afterAll(async () => {
  await provider.close?.();
  await fake.close();
});

describe("Gemini adapter, non-streamed", () => {
  it("translates a text reply into a chat.completion", async () => {
    fake.setBehaviour({ text: "Hello, router." });
    const result = await provider.chat(call());
    expect(result.provider).toBe("google");
    expect(result.body).toMatchObject({
      id: expect.stringMatching(/^fakeGemini/),
      object: "chat.completion",
      model: "gemini-2.5-flash",
      choices: [{ index: 0, message: { role: "assistant", content: "Hello, router." }, finish_reason: "stop" }],
    });
  });

  it.each([
    ["STOP", "stop"],
    ["MAX_TOKENS", "length"],
    ["SAFETY", "content_filter"],
    ["RECITATION", "content_filter"],
    ["PROHIBITED_CONTENT", "content_filter"],
    ["MALFORMED_FUNCTION_CALL", "stop"],
  ])("maps finishReason %s to finish_reason %s", async (finishReason, expected) => {
    fake.setBehaviour({ finishReason });
    expect((await provider.chat(call())).body).toMatchObject({ choices: [{ finish_reason: expected }] });
  });

  it("answers a blocked prompt with an empty reply and finish_reason content_filter", async () => {
    fake.setBehaviour({ blockPrompt: "SAFETY" });
    expect((await provider.chat(call())).body).toMatchObject({ choices: [{ message: { content: "" }, finish_reason: "content_filter" }] });
  });

  it("translates functionCall parts into tool_calls with generated ids and JSON string arguments", async () => {
    fake.setBehaviour({
      text: "",
      functionCalls: [
        { name: "get_weather", args: { city: "Paris" } },
        { name: "get_weather", args: { city: "Oslo" } },
      ],
    });
    const result = await provider.chat(call({ tools: [WEATHER_TOOL] }));
    expect(result.body).toMatchObject({
      choices: [
        {
          message: {
            content: null,
            tool_calls: [
              { id: expect.stringMatching(/^call_\w+_0$/), type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
              { id: expect.stringMatching(/^call_\w+_1$/), type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
            ],
          },
          finish_reason: "tool_calls",
        },
      ],
    });
  });

  it("keeps cached tokens inside the prompt count and bills thoughts as completion (reasoning) tokens", async () => {
    fake.setBehaviour({ usage: { promptTokenCount: 5_000, cachedContentTokenCount: 4_096, candidatesTokenCount: 120, thoughtsTokenCount: 880 } });
    const result = await provider.chat(call());
    expect(result.usage).toEqual({ promptTokens: 5_000, completionTokens: 1_000, cachedPromptTokens: 4_096, reasoningTokens: 880, estimated: false });
    expect(result.body).toMatchObject({
      usage: {
        prompt_tokens: 5_000,
        completion_tokens: 1_000,
        total_tokens: 6_000,
        prompt_tokens_details: { cached_tokens: 4_096 },
        completion_tokens_details: { reasoning_tokens: 880 },
      },
    });
  });
});

describe("Gemini adapter, streamed", () => {
  it("emits OpenAI chunks: the role first, content deltas, the finish reason, a usage chunk and [DONE]", async () => {
    fake.setBehaviour({ text: "One two three four five.", usage: { promptTokenCount: 300, cachedContentTokenCount: 256, candidatesTokenCount: 6, thoughtsTokenCount: 40 } });
    const stream = await provider.chatStream(call());
    const read = await readOpenAIStream(stream);
    const sent = fake.requests[0];
    expect(sent?.path).toBe("/v1beta/models/gemini-2.5-flash:streamGenerateContent");
    expect(sent?.query.get("alt")).toBe("sse");
    expect(await sent?.outcome).toBe("completed");

    const [first, ...rest] = read.chunks;
    expect(first?.choices[0]?.delta).toMatchObject({ role: "assistant" });
    const contents = read.chunks.flatMap((c) => (c.choices[0]?.delta.content ? [c.choices[0].delta.content] : []));
    expect(contents).toEqual(["One two", " three four", " five."]);
    expect(rest.flatMap((c) => (c.choices[0]?.finish_reason ? [c.choices[0].finish_reason] : []))).toEqual(["stop"]);
    expect(read.chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 300, completion_tokens: 46, prompt_tokens_details: { cached_tokens: 256 } } });
    expect(read.raw.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(read.final.choices[0]?.message.content).toBe("One two three four five.");
    expect(stream.usage()).toEqual({ promptTokens: 300, completionTokens: 46, cachedPromptTokens: 256, reasoningTokens: 40, estimated: false });
  });

  it("streams each function call as one delta with index, id, name and arguments", async () => {
    fake.setBehaviour({ text: "Checking.", functionCalls: [{ name: "get_weather", args: { city: "Paris" } }, { name: "get_weather", args: { city: "Oslo" } }] });
    const read = await readOpenAIStream(await provider.chatStream(call({ tools: [WEATHER_TOOL] })));
    const deltas = read.chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(deltas).toEqual([
      { index: 0, id: expect.stringMatching(/^call_/), type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
      { index: 1, id: expect.stringMatching(/^call_/), type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
    ]);
    expect(read.final.choices[0]?.message.tool_calls?.map((t) => (t.type === "function" ? t.function.arguments : ""))).toEqual(['{"city":"Paris"}', '{"city":"Oslo"}']);
    expect(read.final.choices[0]?.finish_reason).toBe("tool_calls");
  });

  it("yields each upstream chunk as it arrives instead of waiting for the end of the stream", async () => {
    const gate = deferred();
    fake.setBehaviour({ streamGate: gate.promise, text: "Hello there, agent." });
    const stream = await provider.chatStream(call());
    const iterator = stream.chunks[Symbol.asyncIterator]();
    let seen = "";
    while (!seen.includes('"content":"Hello there,"')) {
      const step = await iterator.next();
      expect(step.done).toBe(false);
      if (!step.done) seen += Buffer.from(step.value).toString("utf8");
    }
    expect(seen).not.toContain("[DONE]");
    gate.resolve();
    for (let step = await iterator.next(); !step.done; step = await iterator.next()) seen += Buffer.from(step.value).toString("utf8");
    expect(seen).toContain("[DONE]");
  });

  it("throws a ProviderError from iteration when an error object arrives mid-stream", async () => {
    fake.setBehaviour({ errorEvent: { afterChunks: 2, code: 503, status: "UNAVAILABLE", message: "The model is overloaded." } });
    const stream = await provider.chatStream(call());
    const error = await rejection(readOpenAIStream(stream));
    expect(error).toMatchObject({ provider: "google", status: 503, retryable: false });
    expect(error.message).toContain("UNAVAILABLE: The model is overloaded.");
  });

  it("throws a non-retryable ProviderError when the upstream drops the connection mid-stream", async () => {
    const gate = deferred();
    fake.setBehaviour({ streamGate: gate.promise, dropAfterChunks: 2 });
    const stream = await provider.chatStream(call());
    const iterator = stream.chunks[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    gate.resolve();
    const error = await rejection(
      (async () => {
        for (let step = await iterator.next(); !step.done; step = await iterator.next());
      })(),
    );
    expect(error).toMatchObject({ provider: "google", retryable: false });
    expect(await fake.requests[0]?.outcome).toBe("dropped");
  });

  it("throws when the stream ends without a finishReason, and estimates the output it saw", async () => {
    fake.setBehaviour({ endAfterChunks: 2, usage: { promptTokenCount: 77 } });
    const stream = await provider.chatStream(call());
    const error = await rejection(readOpenAIStream(stream));
    expect(error.message).toContain("without a finishReason");
    expect(stream.usage()).toMatchObject({ promptTokens: 77, estimated: true });
    expect(stream.usage().completionTokens).toBeGreaterThan(0);
  });

  it("aborting mid-stream makes iteration throw and closes the upstream connection", async () => {
    const gate = deferred();
    fake.setBehaviour({ streamGate: gate.promise });
    const controller = new AbortController();
    const stream = await provider.chatStream(call({}, controller.signal));
    const iterator = stream.chunks[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    controller.abort();
    const error = await rejection(iterator.next());
    expect(error).toMatchObject({ retryable: false });
    expect(error.message).toContain("aborted");
    expect(await fake.requests[0]?.outcome).toBe("client-closed");
    gate.resolve();
  });
});

describe("Gemini adapter, failures", () => {
  it.each([
    [400, "INVALID_ARGUMENT"],
    [403, "PERMISSION_DENIED"],
    [404, "NOT_FOUND"],
  ])("reports %i as a non-retryable ProviderError carrying Google's status and message", async (status, name) => {
    fake.setBehaviour({ error: { status, message: `upstream says ${status}` } });
    for (const attempt of [() => provider.chat(call()), () => provider.chatStream(call())]) {
      const error = await rejection(attempt());
      expect(error).toMatchObject({ provider: "google", status, retryable: false });
      expect(error.message).toContain(`${name}: upstream says ${status}`);
    }
  });

  it.each([429, 500, 503])("reports %i as retryable", async (status) => {
    fake.setBehaviour({ error: { status } });
    for (const attempt of [() => provider.chat(call()), () => provider.chatStream(call())]) {
      expect(await rejection(attempt())).toMatchObject({ status, retryable: true });
    }
  });

  it("carries a RESOURCE_EXHAUSTED error's RetryInfo delay as retryAfterMs", async () => {
    fake.setBehaviour({ error: { status: 429, message: "You exceeded your current quota.", retryDelay: "37s" } });
    expect(await rejection(provider.chat(call()))).toMatchObject({ status: 429, retryable: true, retryAfterMs: 37_000 });
  });

  it("never puts the API key in an error message", async () => {
    const wrongKey = "AIzaSyWrongWrongWrongWrongWrongWrong999";
    const wrong = createGeminiProvider({ baseUrl: fake.url, apiKey: wrongKey });
    try {
      const error = await rejection(wrong.chat(call()));
      expect(error).toMatchObject({ status: 400, retryable: false });
      expect(error.message).toContain("API key not valid");
      expect(error.message).not.toContain(wrongKey);
    } finally {
      await wrong.close?.();
    }
    fake.setBehaviour({ error: { status: 400, message: `key ${KEY} is not enabled for this API` } });
    const quoted = await rejection(provider.chat(call()));
    expect(quoted.message).not.toContain(KEY);
    expect(quoted.message).toContain("[redacted]");
  });

  it("reports a slow first byte past the headers timeout as retryable", async () => {
    const gate = deferred();
    fake.setBehaviour({ holdFirstByte: gate.promise });
    const impatient = createGeminiProvider({ baseUrl: fake.url, apiKey: KEY, headersTimeoutMs: 100 });
    try {
      const error = await rejection(impatient.chat(call()));
      expect(error).toMatchObject({ retryable: true, status: undefined });
      expect(error.message).toContain("timed out");
    } finally {
      gate.resolve();
      await impatient.close?.();
    }
  });
});

describe("provider registry, Gemini", () => {
  const catalog = new CatalogIndex({ version: 1, models: [MODEL] });

  it("serves google models through the Gemini adapter once GOOGLE_API_KEY is set, the base URL overridable", async () => {
    const without = createProviderRegistry({ catalog, providers: {} });
    const registry = createProviderRegistry({ catalog, providers: { google: { apiKey: KEY, baseUrl: fake.url } } });
    try {
      expect(without.providerFor(MODEL).id).toBe("simulator");
      const live = registry.providerFor(MODEL);
      expect(live.id).toBe("google");
      expect(registry.modes()).toEqual({ google: "live" });
      const result = await live.chat(call());
      expect(result.provider).toBe("google");
      expect(fake.requests[0]?.path).toBe("/v1beta/models/gemini-2.5-flash:generateContent");
    } finally {
      await without.close();
      await registry.close();
    }
  });
});
