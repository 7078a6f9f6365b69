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
