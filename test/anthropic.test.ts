import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CatalogIndex } from "../src/catalog/index.ts";
import { ModelEntry } from "../src/catalog/schema.ts";
import { createAnthropicProvider } from "../src/providers/anthropic/provider.ts";
import { createProviderRegistry } from "../src/providers/registry.ts";
import type { ChatCall, Provider } from "../src/providers/types.ts";
import { startFakeAnthropic, type FakeAnthropic } from "./fakes/anthropic-upstream.ts";
import { readOpenAIStream } from "./support/openai-stream.ts";
import { deferred, recordedBody, rejection, SAMPLE_MESSAGES as MESSAGES, chatCall } from "./support/provider-calls.ts";

const KEY = "sk-ant-api03-fakefakefakefakefakefakefake-0123456789abcdef";
const MODEL = ModelEntry.parse({
  id: "claude-3-5-haiku-20241022",
  provider: "anthropic",
  pricing: { inputPerMTok: "0.80", outputPerMTok: "4.00", asOf: "2025-07-01", source: "https://docs.anthropic.com/en/docs/about-claude/pricing" },
  contextWindow: 200_000,
  maxOutputTokens: 8192,
  capabilities: ["tools", "streaming"],
});
const WEATHER_TOOL = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Current weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

const call = (body: Record<string, unknown> = {}, signal?: AbortSignal): ChatCall => chatCall(MODEL, body, signal);

let fake: FakeAnthropic;
let provider: Provider;

beforeAll(async () => {
  fake = await startFakeAnthropic({ apiKey: KEY });
  provider = createAnthropicProvider({ baseUrl: fake.url, apiKey: KEY });
});
afterEach(() => fake.resetBehaviour());
afterAll(async () => {
  await provider.close?.();
  await fake.close();
});

describe("Anthropic adapter, non-streamed", () => {
  it("translates a text reply into a chat.completion", async () => {
    fake.setBehaviour({ text: "Hello, router." });
    const result = await provider.chat(call());
    expect(result.provider).toBe("anthropic");
    expect(result.body).toMatchObject({
      id: expect.stringMatching(/^msg_fake/),
      object: "chat.completion",
      model: "claude-3-5-haiku-20241022",
      choices: [{ index: 0, message: { role: "assistant", content: "Hello, router." }, finish_reason: "stop" }],
    });
    expect(result.body.created).toEqual(expect.any(Number));
  });

  it.each([
    ["end_turn", "stop"],
    ["stop_sequence", "stop"],
    ["max_tokens", "length"],
    ["refusal", "content_filter"],
  ])("maps stop_reason %s to finish_reason %s", async (stopReason, finish) => {
    fake.setBehaviour({ stopReason });
    const result = await provider.chat(call());
    expect(result.body).toMatchObject({ choices: [{ finish_reason: finish }] });
  });

  it("translates tool_use blocks into tool_calls with JSON string arguments", async () => {
    fake.setBehaviour({ text: "", toolUses: [{ name: "get_weather", input: { city: "Paris", units: "metric" } }] });
    const result = await provider.chat(call({ tools: [WEATHER_TOOL] }));
    expect(result.body).toMatchObject({
      choices: [
        {
          message: {
            role: "assistant",
            content: null,
            tool_calls: [{ id: expect.stringMatching(/^toolu_fake\d+x0$/), type: "function", function: { name: "get_weather", arguments: '{"city":"Paris","units":"metric"}' } }],
          },
          finish_reason: "tool_calls",
        },
      ],
    });
  });

  it("counts cache reads and writes into the prompt tokens and reports the reads as cached", async () => {
    fake.setBehaviour({ usage: { input_tokens: 21, cache_creation_input_tokens: 1_500, cache_read_input_tokens: 3_000, output_tokens: 90 } });
    const result = await provider.chat(call());
    expect(result.usage).toEqual({ promptTokens: 4_521, completionTokens: 90, cachedPromptTokens: 3_000, reasoningTokens: 0, estimated: false });
    expect(result.body).toMatchObject({
      usage: { prompt_tokens: 4_521, completion_tokens: 90, total_tokens: 4_611, prompt_tokens_details: { cached_tokens: 3_000 } },
    });
  });
});

describe("Anthropic adapter, streamed", () => {
  it("emits OpenAI chunks: the role first, content deltas, the finish reason, a usage chunk and [DONE]", async () => {
    fake.setBehaviour({ text: "One two three.", usage: { input_tokens: 30, cache_read_input_tokens: 2_048, cache_creation_input_tokens: 0, output_tokens: 5 } });
    const stream = await provider.chatStream(call());
    const read = await readOpenAIStream(stream);
    expect(await fake.requests[0]?.outcome).toBe("completed");
    expect(recordedBody(fake.requests[0]).stream).toBe(true);

    const [first, ...rest] = read.chunks;
    expect(first?.choices[0]?.delta).toEqual({ role: "assistant", content: "" });
    const contents = rest.flatMap((c) => (c.choices[0]?.delta.content ? [c.choices[0].delta.content] : []));
    expect(contents).toEqual(["One", " two", " three."]);
    const finishes = read.chunks.flatMap((c) => (c.choices[0]?.finish_reason ? [c.choices[0].finish_reason] : []));
    expect(finishes).toEqual(["stop"]);
    const last = read.chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toMatchObject({ prompt_tokens: 2_078, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 2_048 } });
    expect(read.raw.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(new Set(read.chunks.map((c) => c.id)).size).toBe(1);

    expect(read.final.choices[0]?.message.content).toBe("One two three.");
    expect(stream.usage()).toEqual({ promptTokens: 2_078, completionTokens: 5, cachedPromptTokens: 2_048, reasoningTokens: 0, estimated: false });
  });

  it("streams tool calls: index, id and name first, then the argument pieces", async () => {
    fake.setBehaviour({
      text: "Let me check.",
      toolUses: [
        { name: "get_weather", input: { city: "Paris" } },
        { name: "get_weather", input: { city: "Oslo", units: "metric" } },
      ],
    });
    const read = await readOpenAIStream(await provider.chatStream(call({ tools: [WEATHER_TOOL] })));
    const deltas = read.chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    const [firstId, secondId] = [...(fake.requests[0]?.response.matchAll(/"id":"(toolu_[^"]+)"/g) ?? [])].map((m) => m[1]);
    expect(deltas[0]).toEqual({ index: 0, id: firstId, type: "function", function: { name: "get_weather", arguments: "" } });
    expect(deltas.filter((d) => d.id !== undefined).map((d) => [d.index, d.id])).toEqual([
      [0, firstId],
      [1, secondId],
    ]);
    expect(deltas.filter((d) => d.id === undefined).every((d) => d.function?.name === undefined)).toBe(true);

    const message = read.final.choices[0]?.message;
    expect(message?.content).toBe("Let me check.");
    expect(message?.tool_calls?.map((t) => (t.type === "function" ? [t.id, t.function.name, JSON.parse(t.function.arguments)] : []))).toEqual([
      [firstId, "get_weather", { city: "Paris" }],
      [secondId, "get_weather", { city: "Oslo", units: "metric" }],
    ]);
    expect(read.final.choices[0]?.finish_reason).toBe("tool_calls");
  });

  it("yields each event's chunk as it arrives instead of waiting for the end of the stream", async () => {
    const gate = deferred();
    fake.setBehaviour({ streamGate: gate.promise, text: "Hello there, agent." });
    const stream = await provider.chatStream(call());
    const iterator = stream.chunks[Symbol.asyncIterator]();
    // The fake holds the rest of the stream until the gate opens: a buffering adapter would hang here.
    let seen = "";
    while (!seen.includes('"content":"Hello"')) {
      const step = await iterator.next();
      expect(step.done).toBe(false);
      if (!step.done) seen += Buffer.from(step.value).toString("utf8");
    }
    expect(seen).toContain('"role":"assistant"');
    expect(seen).not.toContain("[DONE]");
    gate.resolve();
    for (let step = await iterator.next(); !step.done; step = await iterator.next()) seen += Buffer.from(step.value).toString("utf8");
    expect(seen).toContain("[DONE]");
  });

  it("throws a ProviderError from iteration on an error event, after passing on what came before it", async () => {
    fake.setBehaviour({ errorEvent: { afterEvents: 4, type: "overloaded_error", message: "Overloaded" } });
    const stream = await provider.chatStream(call());
    const seen: string[] = [];
    const error = await rejection(
      (async () => {
        for await (const piece of stream.chunks) seen.push(Buffer.from(piece).toString("utf8"));
      })(),
    );
    expect(error).toMatchObject({ provider: "anthropic", status: 529, retryable: false });
    expect(error.message).toContain("overloaded_error: Overloaded");
    expect(seen.join("")).toContain('"role":"assistant"');
  });

  it("reports an error event before anything was passed on as retryable", async () => {
    fake.setBehaviour({ errorEvent: { afterEvents: 0, type: "overloaded_error", message: "Overloaded" } });
    const stream = await provider.chatStream(call());
    expect(await rejection(readOpenAIStream(stream))).toMatchObject({ status: 529, retryable: true });
  });

  it("throws a non-retryable ProviderError when the upstream drops the connection mid-stream", async () => {
    const gate = deferred();
    fake.setBehaviour({ streamGate: gate.promise, dropAfterEvents: 5 });
    const stream = await provider.chatStream(call());
    const iterator = stream.chunks[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    gate.resolve();
    const error = await rejection(
      (async () => {
        for (let step = await iterator.next(); !step.done; step = await iterator.next());
      })(),
    );
    // Bytes already went to the consumer, so another attempt would repeat them.
    expect(error).toMatchObject({ provider: "anthropic", retryable: false });
    expect(await fake.requests[0]?.outcome).toBe("dropped");
  });

  it("reports a drop before any byte was passed on as retryable", async () => {
    fake.setBehaviour({ dropAfterEvents: 0 });
    const stream = await provider.chatStream(call());
    expect(await rejection(readOpenAIStream(stream))).toMatchObject({ provider: "anthropic", retryable: true });
    expect(await fake.requests[0]?.outcome).toBe("dropped");
  });

  it("throws when the stream ends cleanly but before message_stop, and estimates the output it saw", async () => {
    fake.setBehaviour({ endAfterEvents: 6, text: "One two three four five.", usage: { input_tokens: 40 } });
    const stream = await provider.chatStream(call());
    const error = await rejection(readOpenAIStream(stream));
    expect(error.message).toContain("before message_stop");
    expect(stream.usage()).toMatchObject({ promptTokens: 40, estimated: true });
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
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("aborted");
    expect(await fake.requests[0]?.outcome).toBe("client-closed");
    gate.resolve();
  });

  it("closes the upstream connection when the consumer stops reading early", async () => {
    const gate = deferred();
    fake.setBehaviour({ streamGate: gate.promise });
    const stream = await provider.chatStream(call());
    for await (const _piece of stream.chunks) break;
    expect(await fake.requests[0]?.outcome).toBe("client-closed");
    gate.resolve();
  });
});

describe("Anthropic adapter, failures", () => {
  it.each([400, 401, 403, 404, 413])("reports %i as a non-retryable ProviderError carrying Anthropic's message", async (status) => {
    fake.setBehaviour({ error: { status, message: `upstream says ${status}` } });
    for (const attempt of [() => provider.chat(call()), () => provider.chatStream(call())]) {
      const error = await rejection(attempt());
      expect(error).toMatchObject({ provider: "anthropic", status, retryable: false });
      expect(error.message).toContain(`upstream says ${status}`);
    }
  });

  it.each([429, 500, 529])("reports %i as retryable", async (status) => {
    fake.setBehaviour({ error: { status } });
    for (const attempt of [() => provider.chat(call()), () => provider.chatStream(call())]) {
      expect(await rejection(attempt())).toMatchObject({ status, retryable: true });
    }
  });

  it("carries a 429's retry-after as retryAfterMs", async () => {
    fake.setBehaviour({ error: { status: 429, message: "Number of request tokens has exceeded your per-minute rate limit", retryAfterSeconds: 17 } });
    const error = await rejection(provider.chat(call()));
    expect(error).toMatchObject({ status: 429, retryable: true, retryAfterMs: 17_000 });
    expect(error.message).toContain("rate_limit_error");
  });

  it("never puts the API key in an error message", async () => {
    fake.setBehaviour({ error: { status: 400, message: `bad request from key ${KEY}` } });
    const quoted = await rejection(provider.chat(call()));
    expect(quoted.message).not.toContain(KEY);
    expect(quoted.message).toContain("[redacted]");

    fake.resetBehaviour();
    const wrong = createAnthropicProvider({ baseUrl: fake.url, apiKey: `${KEY}-wrong` });
    try {
      const refused = await rejection(wrong.chat(call()));
      expect(refused).toMatchObject({ status: 401, retryable: false });
      expect(refused.message).toContain("invalid x-api-key");
      expect(refused.message).not.toContain(KEY.slice(0, 20));
    } finally {
      await wrong.close?.();
    }
  });

  it("reports a slow first byte past the headers timeout as retryable", async () => {
    const gate = deferred();
    fake.setBehaviour({ holdFirstByte: gate.promise });
    const impatient = createAnthropicProvider({ baseUrl: fake.url, apiKey: KEY, headersTimeoutMs: 100 });
    try {
      const error = await rejection(impatient.chatStream(call()));
      expect(error).toMatchObject({ retryable: true, status: undefined });
      expect(error.message).toContain("timed out");
    } finally {
      gate.resolve();
      await impatient.close?.();
    }
  });

  it("aborting before the response closes the upstream connection", async () => {
    const gate = deferred();
    fake.setBehaviour({ holdFirstByte: gate.promise });
    const controller = new AbortController();
    const pending = provider.chat(call({}, controller.signal));
    await fake.waitForRequests(1);
    controller.abort();
    expect(await rejection(pending)).toMatchObject({ retryable: false, status: undefined });
    expect(await fake.requests[0]?.outcome).toBe("client-closed");
    gate.resolve();
  });
});

describe("provider registry, Anthropic", () => {
  const catalog = new CatalogIndex({ version: 1, models: [MODEL] });

  it("serves anthropic models through the Messages adapter once ANTHROPIC_API_KEY is set, the base URL overridable", async () => {
    const without = createProviderRegistry({ catalog, providers: {} });
    const registry = createProviderRegistry({ catalog, providers: { anthropic: { apiKey: KEY, baseUrl: fake.url } } });
    try {
      expect(without.providerFor(MODEL).id).toBe("simulator");
      const live = registry.providerFor(MODEL);
      expect(live.id).toBe("anthropic");
      expect(registry.modes()).toEqual({ anthropic: "live" });
      const result = await live.chat(call());
      expect(result.provider).toBe("anthropic");
      expect(fake.requests[0]?.path).toBe("/v1/messages");
    } finally {
      await without.close();
      await registry.close();
    }
  });
});
