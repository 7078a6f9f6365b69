import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ModelEntry } from "../src/catalog/schema.ts";
import { countMessageTokens, countTokens, preloadTokenizer } from "../src/lib/tokenizer.ts";
import { createSimulatorProvider, type SimulatorClock } from "../src/providers/simulator.ts";
import { ProviderError, type ChatCall, type ChatStream } from "../src/providers/types.ts";

const MODEL = ModelEntry.parse({
  id: "claude-3-5-haiku",
  provider: "anthropic",
  upstreamId: "claude-3-5-haiku-20241022",
  pricing: { inputPerMTok: "0.80", outputPerMTok: "4.00", asOf: "2025-07-01", source: "https://docs.anthropic.com/en/docs/about-claude/pricing" },
  contextWindow: 200_000,
  maxOutputTokens: 8_192,
  capabilities: ["tools", "streaming"],
});

const MESSAGES = [
  { role: "system", content: "You are a helpful assistant." },
  { role: "user", content: "Explain in a few sentences why agents might pay per call for model access." },
];

function call(body: Record<string, unknown> = {}, signal: AbortSignal = new AbortController().signal): ChatCall {
  return { model: MODEL, body: { model: "claude-3-5-haiku-20241022", messages: MESSAGES, max_tokens: 1_000, ...body }, signal };
}

// Independent of the gateway's SSE reader: OpenAI streams are "data: <json>\n\n" events.
function parseSse(text: string): string[] {
  expect(text.endsWith("\n\n")).toBe(true);
  return text
    .slice(0, -2)
    .split("\n\n")
    .map((event) => {
      expect(event.startsWith("data: ")).toBe(true);
      return event.slice("data: ".length);
    });
}

async function collect(stream: ChatStream): Promise<string> {
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of stream.chunks) text += decoder.decode(chunk, { stream: true });
  return text;
}

const Completion = z.object({
  id: z.string().startsWith("chatcmpl-sim-"),
  object: z.literal("chat.completion"),
  created: z.int(),
  model: z.string(),
  system_fingerprint: z.string().startsWith("fp_"),
  choices: z.tuple([
    z.object({
      index: z.literal(0),
      message: z.object({ role: z.literal("assistant"), content: z.string() }),
      finish_reason: z.enum(["stop", "length"]),
    }),
  ]),
  usage: z.object({ prompt_tokens: z.int(), completion_tokens: z.int(), total_tokens: z.int() }),
});

const Chunk = z.object({
  id: z.string().startsWith("chatcmpl-sim-"),
  object: z.literal("chat.completion.chunk"),
  created: z.int(),
  model: z.literal("claude-3-5-haiku-20241022"),
  system_fingerprint: z.string().startsWith("fp_"),
  choices: z.array(
    z.looseObject({
      index: z.literal(0),
      delta: z.looseObject({ role: z.literal("assistant").optional(), content: z.string().optional() }),
      finish_reason: z.enum(["stop", "length"]).nullable(),
    }),
  ),
  usage: z.looseObject({ prompt_tokens: z.int(), completion_tokens: z.int(), total_tokens: z.int() }).nullable(),
});

/** Records sleeps and resolves them at once: latencies are asserted, never waited for. */
function fakeClock(now = 1_750_000_000_000): SimulatorClock & { sleeps: number[] } {
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms, signal) => {
      signal.throwIfAborted();
      sleeps.push(ms);
    },
  };
}

beforeAll(() => preloadTokenizer());

describe("simulator provider", () => {
  it("answers the same request with the same text, and a different request with another", async () => {
    const simulator = createSimulatorProvider();
    const first = Completion.parse((await simulator.chat(call())).body);
    const again = Completion.parse((await simulator.chat(call())).body);
    const other = Completion.parse(
      (await simulator.chat(call({ messages: [{ role: "user", content: "Something else entirely." }] }))).body,
    );
    expect(again.choices[0].message.content).toBe(first.choices[0].message.content);
    expect(other.choices[0].message.content).not.toBe(first.choices[0].message.content);
    expect(first.choices[0].finish_reason).toBe("stop");
    expect(first.id).not.toBe(again.id);
  });

  it("reports a realistic chat.completion with usage counted by the tokenizer", async () => {
    const simulator = createSimulatorProvider({ clock: fakeClock(1_750_000_000_999) });
    const result = await simulator.chat(call());
    const body = Completion.parse(result.body);
    const content = body.choices[0].message.content;
    expect(result.provider).toBe("simulator");
    expect(body.model).toBe("claude-3-5-haiku-20241022");
    expect(body.created).toBe(1_750_000_000);
    expect(result.usage).toEqual({
      promptTokens: countMessageTokens(MESSAGES),
      completionTokens: countTokens(content),
      cachedPromptTokens: 0,
      reasoningTokens: 0,
      estimated: false,
    });
    expect(body.usage).toEqual(
      expect.objectContaining({
        prompt_tokens: result.usage.promptTokens,
        completion_tokens: result.usage.completionTokens,
        total_tokens: result.usage.promptTokens + result.usage.completionTokens,
      }),
    );
  });

  it("writes longer answers for longer prompts", async () => {
    const simulator = createSimulatorProvider();
    const short = await simulator.chat(call({ messages: [{ role: "user", content: "Hi" }] }));
    const long = await simulator.chat(call({ messages: [{ role: "user", content: "Tell me about routing. ".repeat(400) }] }));
    expect(long.usage.completionTokens).toBeGreaterThan(short.usage.completionTokens);
  });

  it.each([1, 5, 17, 40])("never exceeds max_tokens=%i and says so with finish_reason length", async (cap) => {
    const simulator = createSimulatorProvider();
    const full = Completion.parse((await simulator.chat(call())).body).choices[0].message.content;
    const result = await simulator.chat(call({ max_tokens: cap }));
    const body = Completion.parse(result.body);
    expect(result.usage.completionTokens).toBeLessThanOrEqual(cap);
    expect(countTokens(body.choices[0].message.content)).toBe(result.usage.completionTokens);
    expect(body.choices[0].finish_reason).toBe("length");
    expect(full.startsWith(body.choices[0].message.content)).toBe(true);

    const streamed = await simulator.chatStream(call({ max_tokens: cap }));
    await collect(streamed);
    expect(streamed.usage().completionTokens).toBeLessThanOrEqual(cap);
  });

  it("keeps JSON mode replies valid JSON", async () => {
    const simulator = createSimulatorProvider();
    const body = Completion.parse((await simulator.chat(call({ response_format: { type: "json_object" } }))).body);
    expect(JSON.parse(body.choices[0].message.content)).toMatchObject({ simulated: true });
  });

  it("streams role, content, finish, usage and [DONE] events exactly as OpenAI does with include_usage", async () => {
    const simulator = createSimulatorProvider();
    const stream = await simulator.chatStream(call({ stream: true, stream_options: { include_usage: true } }));
    const events = parseSse(await collect(stream));
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((data) => Chunk.parse(JSON.parse(data)));

    const [role, ...rest] = chunks;
    const usageChunk = rest.pop();
    const finish = rest.pop();
    expect(role?.choices[0]?.delta).toEqual({ role: "assistant", content: "", refusal: null });
    expect(role?.usage).toBeNull();
    expect(rest.length).toBeGreaterThan(1);
    for (const content of rest) {
      expect(content.choices[0]?.finish_reason).toBeNull();
      expect(countTokens(content.choices[0]?.delta.content ?? "")).toBeLessThanOrEqual(3);
      expect(content.usage).toBeNull();
    }
    expect(finish?.choices).toEqual([{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }]);
    expect(usageChunk?.choices).toEqual([]);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);

    const text = rest.map((c) => c.choices[0]?.delta.content ?? "").join("");
    const nonStreamed = Completion.parse((await simulator.chat(call())).body).choices[0].message.content;
    expect(text).toBe(nonStreamed);
    expect(stream.usage()).toEqual({
      promptTokens: countMessageTokens(MESSAGES),
      completionTokens: countTokens(text),
      cachedPromptTokens: 0,
      reasoningTokens: 0,
      estimated: false,
    });
    expect(usageChunk?.usage).toEqual({
      prompt_tokens: stream.usage().promptTokens,
      completion_tokens: stream.usage().completionTokens,
      total_tokens: stream.usage().promptTokens + stream.usage().completionTokens,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    });
  });

  it("waits latencyMs before answering and tokenDelayMs between content chunks, on the given clock", async () => {
    const clock = fakeClock();
    const simulator = createSimulatorProvider({ latencyMs: 250, tokenDelayMs: 20, clock });
    const stream = await simulator.chatStream(call());
    expect(clock.sleeps).toEqual([250]);
    const events = parseSse(await collect(stream));
    const contentChunks = events.length - 4; // role, finish, usage, [DONE]
    expect(clock.sleeps).toEqual([250, ...Array.from({ length: contentChunks }, () => 20)]);
  });

  it("stops with a ProviderError when the call is aborted", async () => {
    const controller = new AbortController();
    const simulator = createSimulatorProvider({ clock: fakeClock() });
    const stream = await simulator.chatStream(call({}, controller.signal));
    const iterator = stream.chunks[Symbol.asyncIterator]();
    await iterator.next();
    controller.abort();
    await expect(iterator.next()).rejects.toBeInstanceOf(ProviderError);
    await expect(simulator.chat(call({}, controller.signal))).rejects.toMatchObject({ provider: "simulator", retryable: false });
  });
});

describe("simulator: tools, JSON and embeddings an agent can be built against (issue 17, item 6)", () => {
  const Weather = z.object({
    city: z.string().min(2).max(40),
    unit: z.enum(["celsius", "fahrenheit"]),
    days: z.int().min(1).max(7),
    when: z.iso.datetime().optional(),
    tags: z.array(z.string()).min(2),
    options: z.object({ detailed: z.boolean(), limit: z.number().max(0.5).nullable() }),
  });
  const weatherTool = { type: "function", function: { name: "get_weather", description: "Weather for a city", parameters: z.toJSONSchema(Weather) } };
  const timeTool = { type: "function", function: { name: "get_time", parameters: { type: "object", properties: { zone: { type: "string" } }, required: ["zone"] } } };
  const ToolCompletion = z.object({
    choices: z.tuple([
      z.object({
        message: z.object({
          role: z.literal("assistant"),
          content: z.null(),
          tool_calls: z.tuple([z.object({ id: z.string().regex(/^call_[0-9a-f]{24}$/), type: z.literal("function"), function: z.object({ name: z.string(), arguments: z.string() }) })]),
        }),
        finish_reason: z.literal("tool_calls"),
      }),
    ]),
  });
  const simulator = createSimulatorProvider();
  const ask = (body: Record<string, unknown>) => simulator.chat(call(body)).then((r) => r.body);
  const toolCallOf = async (body: Record<string, unknown>) => ToolCompletion.parse(await ask(body)).choices[0].message.tool_calls[0];

  it("calls an offered function with arguments valid against its parameters schema", async () => {
    const toolCall = await toolCallOf({ tools: [weatherTool] });
    expect(toolCall.function.name).toBe("get_weather");
    const args = Weather.parse(JSON.parse(toolCall.function.arguments));
    expect(args.unit).toBe("celsius");
    // Deterministic: the same request calls the same function with the same arguments and id.
    expect(await toolCallOf({ tools: [weatherTool] })).toEqual(toolCall);
  });

  it("honours tool_choice: none answers in text, a named function is called, required and auto call one", async () => {
    const none = Completion.parse(await ask({ tools: [weatherTool, timeTool], tool_choice: "none" }));
    expect(none.choices[0].message.content.length).toBeGreaterThan(0);
    const named = await toolCallOf({ tools: [weatherTool, timeTool], tool_choice: { type: "function", function: { name: "get_time" } } });
    expect(named.function.name).toBe("get_time");
    expect(JSON.parse(named.function.arguments)).toEqual({ zone: MESSAGES[1]?.content.slice(0, 64) });
    for (const choice of ["required", "auto", undefined]) {
      expect(["get_weather", "get_time"], String(choice)).toContain((await toolCallOf({ tools: [weatherTool, timeTool], ...(choice === undefined ? {} : { tool_choice: choice }) })).function.name);
    }
    const allowed = await toolCallOf({ tools: [weatherTool, timeTool], tool_choice: { type: "allowed_tools", allowed_tools: { mode: "required", tools: [{ type: "function", function: { name: "get_time" } }] } } });
    expect(allowed.function.name).toBe("get_time");
  });

  it("answers in text once the conversation ends with the tool's result under auto, but calls again under required", async () => {
    const first = await toolCallOf({ tools: [weatherTool] });
    const messages = [...MESSAGES, { role: "assistant", content: null, tool_calls: [{ id: first.id, type: "function", function: first.function }] }, { role: "tool", tool_call_id: first.id, content: "{\"temp\":21}" }];
    const answer = Completion.parse(await simulator.chat({ ...call({ tools: [weatherTool] }), body: { ...call().body, tools: [weatherTool], messages } }).then((r) => r.body));
    expect(answer.choices[0].finish_reason).toBe("stop");
    const again = await simulator.chat({ ...call(), body: { ...call().body, tools: [weatherTool], tool_choice: "required", messages } });
    expect(ToolCompletion.parse(again.body).choices[0].message.tool_calls[0].function.name).toBe("get_weather");
  });

  it("streams a tool call as OpenAI does: id and name first, then the arguments in pieces that join to the non-streamed ones", async () => {
    const body = { tools: [weatherTool], stream: true };
    const stream = await simulator.chatStream(call(body));
    const events = parseSse(await collect(stream));
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((data) => JSON.parse(data) as { choices: Array<{ delta: { tool_calls?: Array<{ index: number; id?: string; function: { name?: string; arguments: string } }> }; finish_reason: string | null }> });
    const opening = chunks[0]?.choices[0]?.delta.tool_calls?.[0];
    const expected = await toolCallOf({ tools: [weatherTool] });
    expect(opening).toMatchObject({ index: 0, id: expected.id, type: "function", function: { name: "get_weather", arguments: "" } });
    const pieces = chunks.slice(1).flatMap((c) => c.choices[0]?.delta.tool_calls?.map((t) => t.function.arguments) ?? []);
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join("")).toBe(expected.function.arguments);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe("tool_calls");
    expect(stream.usage().completionTokens).toBe(countTokens(expected.function.arguments));
  });

  it("cuts a tool call's arguments at the paid-for cap with finish_reason length", async () => {
    const result = await simulator.chat(call({ tools: [weatherTool], max_tokens: 5 }));
    const choice = (result.body["choices"] as Array<{ finish_reason: string; message: { tool_calls: Array<{ function: { arguments: string } }> } }>)[0];
    expect(choice?.finish_reason).toBe("length");
    expect(result.usage.completionTokens).toBeLessThanOrEqual(5);
    expect(countTokens(choice?.message.tool_calls[0]?.function.arguments ?? "")).toBeLessThanOrEqual(5);
  });

  it("answers response_format json_schema with a value of the schema, streamed or not, even from a non-ASCII prompt", async () => {
    const Answer = z.object({ answer: z.string(), confidence: z.number().min(0).max(1), sources: z.array(z.url()) });
    const format = { type: "json_schema", json_schema: { name: "answer", strict: true, schema: z.toJSONSchema(Answer) } };
    const messages = [{ role: "user", content: "Où est la gare? 駅はどこ" }];
    const body = { ...call().body, messages, response_format: format };
    const text = Completion.parse((await simulator.chat({ ...call(), body })).body).choices[0].message.content;
    expect(Answer.parse(JSON.parse(text)).answer).toBe("Où est la gare? 駅はどこ");
    const streamed = parseSse(await collect(await simulator.chatStream({ ...call(), body: { ...body, stream: true } })))
      .slice(0, -1)
      .map((data) => (JSON.parse(data) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content ?? "")
      .join("");
    expect(streamed).toBe(text);
  });

  it("embeds with the model's real dimension, or the request's smaller one, and refuses a larger one", async () => {
    const embedding = (id: string, dimensions?: number) =>
      ModelEntry.parse({ id, provider: "openai", kind: "embedding", ...(dimensions === undefined ? {} : { dimensions }), pricing: MODEL.pricing, contextWindow: 8191, maxOutputTokens: 1, capabilities: [] });
    const embed = (model: ModelEntry, body: Record<string, unknown> = {}) =>
      simulator.embed?.({ model, body: { model: model.id, input: ["toll", "gate"], ...body }, signal: new AbortController().signal }).then((r) => r.body["data"] as Array<{ embedding: number[] }>);
    expect((await embed(embedding("text-embedding-3-large", 3072)))?.[0]?.embedding).toHaveLength(3072);
    const small = await embed(embedding("text-embedding-3-small", 1536));
    expect(small?.[1]?.embedding).toHaveLength(1536);
    expect(Math.hypot(...(small?.[0]?.embedding ?? []))).toBeCloseTo(1, 6);
    expect((await embed(embedding("text-embedding-3-small", 1536), { dimensions: 512 }))?.[0]?.embedding).toHaveLength(512);
    await expect(embed(embedding("text-embedding-3-small", 1536), { dimensions: 4096 })).rejects.toMatchObject({ status: 400, retryable: false });
    expect((await embed(embedding("custom-embed")))?.[0]?.embedding).toHaveLength(1536);
  });
});
