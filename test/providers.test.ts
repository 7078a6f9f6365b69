import { createServer } from "node:net";
import { request } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CatalogIndex } from "../src/catalog/index.ts";
import { ModelEntry } from "../src/catalog/schema.ts";
import { countMessageTokens, countTokens } from "../src/lib/tokenizer.ts";
import { parseRetryAfter } from "../src/providers/http-upstream.ts";
import { createOpenAICompatibleProvider } from "../src/providers/openai-compatible.ts";
import { NATIVE_PRESETS, createProviderRegistry } from "../src/providers/registry.ts";
import { createSseDataReader } from "../src/providers/sse.ts";
import { ProviderError, type ChatCall, type ChatStream, type Provider } from "../src/providers/types.ts";
import { startFakeOpenAI, type FakeOpenAI } from "./fakes/openai-upstream.ts";

const KEY = "sk-test-7f3a9c2e5b1d4f6a8c0e2b4d6f8a1c3e";
const MESSAGES = [
  { role: "system", content: "You are terse." },
  { role: "user", content: "Say hello to the router." },
];

function entry(id: string, provider: string, extra: Partial<ModelEntry> = {}): ModelEntry {
  return ModelEntry.parse({
    id,
    provider,
    pricing: { inputPerMTok: "0.15", outputPerMTok: "0.60", asOf: "2025-07-01", source: "https://platform.openai.com/docs/pricing" },
    contextWindow: 128_000,
    maxOutputTokens: 16_384,
    capabilities: ["tools", "json", "streaming"],
    ...extra,
  });
}

const MODEL = entry("gpt-4o-mini", "openai");

function call(body: Record<string, unknown> = {}, signal: AbortSignal = new AbortController().signal): ChatCall {
  return { model: MODEL, body: { model: "gpt-4o-mini", messages: MESSAGES, max_tokens: 64, ...body }, signal };
}

async function drain(stream: ChatStream): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream.chunks) chunks.push(Buffer.from(chunk));
  return chunks;
}

async function rejection(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ProviderError)) throw new Error(`expected a ProviderError, got ${String(error)}`);
  return error;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

let fake: FakeOpenAI;
let provider: Provider;

beforeAll(async () => {
  fake = await startFakeOpenAI({ apiKey: KEY });
  provider = createOpenAICompatibleProvider({ id: "openai", baseUrl: fake.url, apiKey: KEY, maxTokensParam: "max_completion_tokens" });
});
afterEach(() => fake.resetBehaviour());
afterAll(async () => {
  await provider.close?.();
  await fake.close();
});

describe("OpenAI-compatible adapter, non-streamed", () => {
  it("returns the upstream chat.completion with usage normalised, cached and reasoning tokens included", async () => {
    fake.setBehaviour({ usage: { prompt_tokens: 1_200, completion_tokens: 300, cached_tokens: 1_024, reasoning_tokens: 128 } });
    const result = await provider.chat(call());
    expect(result.usage).toEqual({ promptTokens: 1_200, completionTokens: 300, cachedPromptTokens: 1_024, reasoningTokens: 128, estimated: false });
    expect(result.provider).toBe("openai");
    expect(result.body).toMatchObject({ object: "chat.completion", model: "gpt-4o-mini", system_fingerprint: "fp_fake0001" });
    expect(JSON.stringify(result.body)).toBe(fake.requests[0]?.response);
  });

  it("sends the key as a bearer token and only the paid-for cap, under the upstream's name for it", async () => {
    await provider.chat(call({ max_completion_tokens: 10_000, stream: false }));
    const sent = fake.requests[0];
    expect(sent?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(sent?.body).toMatchObject({ model: "gpt-4o-mini", max_completion_tokens: 64, messages: MESSAGES });
    expect(sent?.body).not.toHaveProperty("max_tokens");
    expect(sent?.body).not.toHaveProperty("stream");
  });

  it("sends max_tokens to servers that only know the older name", async () => {
    const compatible = createOpenAICompatibleProvider({ id: "deepseek", baseUrl: fake.url, apiKey: KEY });
    try {
      await compatible.chat(call({ max_completion_tokens: 10_000 }));
      expect(fake.requests[0]?.body).toMatchObject({ max_tokens: 64 });
      expect(fake.requests[0]?.body).not.toHaveProperty("max_completion_tokens");
    } finally {
      await compatible.close?.();
    }
  });

  it("estimates usage when the reply's usage block is unreadable instead of failing the answer", async () => {
    fake.setBehaviour({ usage: { prompt_tokens: -1 } });
    const result = await provider.chat(call());
    expect(result.usage.estimated).toBe(true);
    expect(result.usage.promptTokens).toBe(countMessageTokens(MESSAGES));
  });

  it("estimates usage with the tokenizer when the reply has none", async () => {
    fake.setBehaviour({ omitUsage: true, content: "Hello, router. Nice to meet you." });
    const result = await provider.chat(call());
    expect(result.usage).toEqual({
      promptTokens: countMessageTokens(MESSAGES),
      completionTokens: countTokens("Hello, router. Nice to meet you."),
      cachedPromptTokens: 0,
      reasoningTokens: 0,
      estimated: true,
    });
  });
});

describe("OpenAI-compatible adapter, streamed", () => {
  it("passes the upstream bytes through unchanged and takes usage from the final chunk", async () => {
    fake.setBehaviour({ usage: { prompt_tokens: 40, completion_tokens: 17, cached_tokens: 0, reasoning_tokens: 0 } });
    const stream = await provider.chatStream(call());
    const chunks = await drain(stream);
    expect(await fake.requests[0]?.outcome).toBe("completed");
    expect(Buffer.concat(chunks).toString("utf8")).toBe(fake.requests[0]?.response);
    expect(fake.requests[0]?.response).toContain('"choices":[],"usage":{"prompt_tokens":40');
    expect(stream.usage()).toEqual({ promptTokens: 40, completionTokens: 17, cachedPromptTokens: 0, reasoningTokens: 0, estimated: false });
    expect(stream.provider).toBe("openai");
  });

  it("yields each chunk as it arrives instead of waiting for the end of the stream", async () => {
    const gate = deferred();
    fake.setBehaviour({ streamGate: gate.promise });
    const stream = await provider.chatStream(call());
    const iterator = stream.chunks[Symbol.asyncIterator]();
    // The fake holds the rest of the stream until the gate opens: a buffering adapter would hang here.
    let seen = "";
    while (!seen.includes('"content":"Hello!"')) {
      const step = await iterator.next();
      expect(step.done).toBe(false);
      if (!step.done) seen += Buffer.from(step.value).toString("utf8");
    }
    expect(seen).not.toContain("[DONE]");
    gate.resolve();
    for (let step = await iterator.next(); !step.done; step = await iterator.next()) seen += Buffer.from(step.value).toString("utf8");
    expect(seen).toBe(fake.requests[0]?.response);
  });

  it("forces stream and stream_options.include_usage on even when the agent turned them off", async () => {
    const stream = await provider.chatStream(call({ stream: false, stream_options: { include_usage: false } }));
    await drain(stream);
    expect(fake.requests[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(stream.usage().estimated).toBe(false);
  });

  it("estimates usage with the tokenizer when the stream ends without a usage chunk", async () => {
    fake.setBehaviour({ omitUsage: true, content: "Streaming without usage, as some servers do." });
    const stream = await provider.chatStream(call());
    const text = Buffer.concat(await drain(stream)).toString("utf8");
    expect(text).not.toContain('"usage":{');
    expect(stream.usage()).toEqual({
      promptTokens: countMessageTokens(MESSAGES),
      completionTokens: countTokens("Streaming without usage, as some servers do."),
      cachedPromptTokens: 0,
      reasoningTokens: 0,
      estimated: true,
    });
  });

  it("throws a non-retryable ProviderError from iteration when the upstream drops the connection mid-stream", async () => {
    const gate = deferred();
    fake.setBehaviour({ streamGate: gate.promise, dropAfterEvents: 3 });
    const stream = await provider.chatStream(call());
    const iterator = stream.chunks[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    gate.resolve();
    const error = await rejection(
      (async () => {
        for (let step = await iterator.next(); !step.done; step = await iterator.next());
      })(),
    );
    expect(error.provider).toBe("openai");
    // Bytes already went to the consumer, so another attempt would repeat them.
    expect(error.retryable).toBe(false);
    expect(await fake.requests[0]?.outcome).toBe("dropped");
  });

  it("reports a drop before any byte was passed on as retryable", async () => {
    fake.setBehaviour({ dropAfterEvents: 0 });
    const stream = await provider.chatStream(call());
    const error = await rejection(drain(stream));
    expect(error).toMatchObject({ provider: "openai", retryable: true });
    expect(await fake.requests[0]?.outcome).toBe("dropped");
  });

  it("closes the upstream connection when the consumer stops reading early", async () => {
    const gate = deferred();
    fake.setBehaviour({ streamGate: gate.promise });
    const stream = await provider.chatStream(call());
    for await (const _chunk of stream.chunks) break;
    expect(await fake.requests[0]?.outcome).toBe("client-closed");
    gate.resolve();
  });
});

describe("OpenAI-compatible adapter, failures", () => {
  it.each([408, 409, 429, 500, 503])("reports %i as a retryable ProviderError, streamed or not", async (status) => {
    fake.setBehaviour({ error: { status, message: `upstream says ${status}` } });
    for (const attempt of [provider.chat(call()), provider.chatStream(call())]) {
      const error = await rejection(attempt);
      expect(error).toMatchObject({ status, retryable: true, provider: "openai" });
      expect(error.message).toContain(`upstream says ${status}`);
    }
  });

  it("carries the retry-after of a 429 as retryAfterMs", async () => {
    fake.setBehaviour({ error: { status: 429, message: "Rate limit reached" } });
    expect(await rejection(provider.chat(call()))).toMatchObject({ status: 429, retryable: true, retryAfterMs: 1_000 });
  });

  it.each([400, 401, 403, 404, 422])("reports %i as a non-retryable ProviderError", async (status) => {
    fake.setBehaviour({ error: { status } });
    for (const attempt of [provider.chat(call()), provider.chatStream(call())]) {
      expect(await rejection(attempt)).toMatchObject({ status, retryable: false });
    }
  });

  it("never puts the API key in an error message, even when the upstream quotes it", async () => {
    fake.setBehaviour({ error: { status: 401, message: `Incorrect API key provided: ${KEY}.`, code: "invalid_api_key" } });
    const quoted = await rejection(provider.chat(call()));
    expect(quoted.message).not.toContain(KEY);
    expect(quoted.message).toContain("[redacted]");

    fake.resetBehaviour();
    const wrongKey = `${KEY.slice(0, -4)}0000`;
    const other = createOpenAICompatibleProvider({ id: "openai", baseUrl: fake.url, apiKey: wrongKey });
    try {
      const masked = await rejection(other.chatStream(call()));
      expect(masked.status).toBe(401);
      expect(masked.message).not.toContain(wrongKey);
      expect(masked.message).not.toContain(wrongKey.slice(0, 5));
      expect(masked.message).toContain("Incorrect API key provided");
    } finally {
      await other.close?.();
    }
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

  it("reports a headers timeout as retryable", async () => {
    const gate = deferred();
    fake.setBehaviour({ holdFirstByte: gate.promise });
    const impatient = createOpenAICompatibleProvider({ id: "openai", baseUrl: fake.url, apiKey: KEY, headersTimeoutMs: 100 });
    try {
      const error = await rejection(impatient.chatStream(call()));
      expect(error).toMatchObject({ retryable: true, status: undefined });
      expect(error.message).toContain("timed out");
    } finally {
      gate.resolve();
      await impatient.close?.();
    }
  });

  it("reports an unreachable upstream as retryable", async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const address = server.address();
        server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
      });
    });
    const unreachable = createOpenAICompatibleProvider({ id: "openai", baseUrl: `http://127.0.0.1:${port}/v1`, apiKey: KEY });
    try {
      const error = await rejection(unreachable.chat(call()));
      expect(error.retryable).toBe(true);
      expect(error.message).not.toContain(KEY);
    } finally {
      await unreachable.close?.();
    }
  });
});

describe("fake OpenAI upstream", () => {
  it("refuses a request without an output cap the way OpenAI refuses bad bodies", async () => {
    const response = await request(`${fake.url}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: MESSAGES, stream_options: { include_usage: true } }),
    });
    expect(response.statusCode).toBe(400);
    expect(await response.body.json()).toMatchObject({ error: { type: "invalid_request_error", param: "max_tokens" } });
  });

  it("lists models", async () => {
    const response = await request(`${fake.url}/models`);
    expect(await response.body.json()).toMatchObject({ object: "list", data: expect.arrayContaining([expect.objectContaining({ id: "gpt-4o-mini" })]) });
  });
});

describe("provider registry", () => {
  const models = [
    entry("gpt-4o-mini", "openai"),
    entry("deepseek-chat", "deepseek"),
    entry("claude-3-5-haiku-20241022", "anthropic"),
    entry("local-llama", "vllm"),
  ];
  const catalog = new CatalogIndex({ version: 1, models });

  it("serves providers without a key (or with an empty one) by the simulator", async () => {
    const registry = createProviderRegistry({ catalog, providers: { anthropic: { apiKey: " " }, deepseek: { apiKey: "" } } });
    try {
      for (const model of models) expect(registry.providerFor(model).id).toBe("simulator");
      expect(registry.modes()).toEqual({ openai: "simulator", deepseek: "simulator", anthropic: "simulator", vllm: "simulator" });
    } finally {
      await registry.close();
    }
  });

  it("serves anthropic and google through their native adapters at the presets once their keys are set", async () => {
    const claude = entry("claude-3-5-haiku-20241022", "anthropic");
    const gemini = entry("gemini-2.5-flash", "google");
    const registry = createProviderRegistry({
      catalog: new CatalogIndex({ version: 1, models: [claude, gemini] }),
      providers: { anthropic: { apiKey: "sk-ant-x" }, google: { apiKey: "AIza-x" } },
    });
    try {
      expect(registry.providerFor(claude).id).toBe("anthropic");
      expect(registry.providerFor(gemini).id).toBe("google");
      expect(registry.modes()).toEqual({ anthropic: "live", google: "live" });
      expect(NATIVE_PRESETS).toEqual({ anthropic: "https://api.anthropic.com", google: "https://generativelanguage.googleapis.com" });
    } finally {
      await registry.close();
    }
  });

  it("goes live when a key is set, the settings' base URL beating the preset, and sends OpenAI max_completion_tokens", async () => {
    const registry = createProviderRegistry({ catalog, providers: { openai: { apiKey: KEY, baseUrl: fake.url } } });
    try {
      const live = registry.providerFor(models[0] ?? MODEL);
      expect(live.id).toBe("openai");
      expect(registry.providerFor(models[0] ?? MODEL)).toBe(live);
      expect(registry.modes().openai).toBe("live");
      await live.chat(call());
      expect(fake.requests[0]?.body).toMatchObject({ max_completion_tokens: 64 });
    } finally {
      await registry.close();
    }
  });

  it("uses a catalog entry's base URL for a provider without a preset", async () => {
    const local = entry("local-llama", "vllm", { baseUrl: fake.url });
    const registry = createProviderRegistry({ catalog, providers: { vllm: { apiKey: KEY } } });
    try {
      const live = registry.providerFor(local);
      expect(live.id).toBe("vllm");
      await live.chat({ ...call(), model: local });
      expect(fake.requests[0]?.body).toMatchObject({ model: "local-llama", max_tokens: 64 });
      // Without a base URL anywhere, a provider outside the presets cannot go live.
      expect(registry.providerFor(entry("other", "vllm")).id).toBe("simulator");
    } finally {
      await registry.close();
    }
  });
});

describe("retry-after", () => {
  it("reads delay-seconds and HTTP-dates, and ignores anything else", () => {
    const now = Date.parse("2025-07-01T12:00:00Z");
    expect(parseRetryAfter("30", now)).toBe(30_000);
    expect(parseRetryAfter(["7"], now)).toBe(7_000);
    expect(parseRetryAfter("Tue, 01 Jul 2025 12:00:05 GMT", now)).toBe(5_000);
    expect(parseRetryAfter("Tue, 01 Jul 2025 11:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter("-3", now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe("SSE data reader", () => {
  function read(pieces: Array<string | Uint8Array>): string[] {
    const seen: string[] = [];
    const reader = createSseDataReader((data) => seen.push(data));
    for (const piece of pieces) reader.push(typeof piece === "string" ? new TextEncoder().encode(piece) : piece);
    reader.end();
    return seen;
  }

  it("reassembles events split anywhere, CRLF and multi-byte characters included", () => {
    const bytes = new TextEncoder().encode('data: {"a":"é€"}\r\n\r\n: keep-alive\n\ndata: [DONE]\n\n');
    const whole = read([bytes]);
    expect(whole).toEqual(['{"a":"é€"}', "[DONE]"]);
    for (let cut = 1; cut < bytes.length; cut++) expect(read([bytes.slice(0, cut), bytes.slice(cut)])).toEqual(whole);
    expect(read([...bytes].map((b) => new Uint8Array([b])))).toEqual(whole);
  });

  it("joins multi-line data, ignores other fields and flushes an unterminated last event", () => {
    expect(read(["event: x\nid: 1\ndata: one\ndata:two\n\nretry: 5\n\ndata: tail"])).toEqual(["one\ntwo", "tail"]);
  });
});

describe("tokenizer", () => {
  it("counts o200k tokens with OpenAI's per-message framing", () => {
    expect(countTokens("")).toBe(0);
    expect(countTokens("hello world")).toBe(2);
    // 3 framing + "user" (1) + "Hello" (1) + 3 reply primer: the 8 prompt tokens gpt-4o reports.
    expect(countMessageTokens([{ role: "user", content: "Hello" }])).toBe(8);
  });

  it("counts text parts, prices images at the documented estimates and survives special-token text", () => {
    const parts = [
      { type: "text", text: "What is in this picture?" },
      { type: "image_url", image_url: { url: "https://example.com/cat.png", detail: "low" } },
    ];
    expect(countMessageTokens([{ role: "user", content: parts }])).toBe(3 + 1 + countTokens("What is in this picture?") + 85 + 3);
    expect(countMessageTokens([{ role: "user", content: [{ type: "image_url", image_url: { url: "x" } }] }])).toBe(3 + 1 + 765 + 3);
    expect(countTokens("<|endoftext|>")).toBeGreaterThan(0);
  });
});
