import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { createAnthropicStreamTranslator } from "../src/providers/anthropic/stream.ts";
import { createGeminiStreamTranslator } from "../src/providers/gemini/stream.ts";
import { createHttpUpstream } from "../src/providers/http-upstream.ts";
import { translateSseBody, type StreamTranslator } from "../src/providers/translated-stream.ts";
import { ProviderError } from "../src/providers/types.ts";
import { rejection } from "./support/provider-calls.ts";

const http = createHttpUpstream({ id: "test", apiKey: "" });
afterAll(() => http.close());

const sse = (events: unknown[]) => events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join("");

/** Echoes each event's `say`, throws on `fail`, closes with "END". */
const echo: StreamTranslator = {
  onData(data) {
    const event: unknown = JSON.parse(data);
    if (typeof event === "object" && event !== null && "fail" in event) throw new ProviderError("upstream failed", "test", 529, true);
    return typeof event === "object" && event !== null && "say" in event ? String(event.say) : "";
  },
  onEnd: () => "END",
};

async function collect(iterator: AsyncIterator<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for (let step = await iterator.next(); !step.done; step = await iterator.next()) out.push(Buffer.from(step.value).toString("utf8"));
  return out;
}

describe("translated SSE body", () => {
  it("translates every event a network read completes, at once, and holds back only the unfinished one", async () => {
    const text = sse([{ say: "a" }, { say: "b" }, { say: "c" }]);
    const cut = text.indexOf("data:", text.indexOf("data:", 1) + 1) + 3; // inside the third event
    const body = Readable.from([Buffer.from(text.slice(0, cut)), Buffer.from(text.slice(cut))]);
    expect(await collect(translateSseBody(http, body, new AbortController().signal, echo))).toEqual(["ab", "c", "END"]);
  });

  it("passes on what a read translated before an upstream error in the same read, then throws it, no longer retryable", async () => {
    const body = Readable.from([Buffer.from(sse([{ say: "hello" }, { fail: true }, { say: "never" }]))]);
    const iterator = translateSseBody(http, body, new AbortController().signal, echo);
    expect(Buffer.from((await iterator.next()).value ?? []).toString("utf8")).toBe("hello");
    expect(await rejection(iterator.next())).toMatchObject({ status: 529, retryable: false });
    expect((await iterator.next()).done).toBe(true);
    expect(body.destroyed).toBe(true);
  });

  it("keeps an upstream error retryable when nothing was passed on before it", async () => {
    const body = Readable.from([Buffer.from(sse([{ fail: true }]))]);
    expect(await rejection(collect(translateSseBody(http, body, new AbortController().signal, echo)))).toMatchObject({ retryable: true });
  });
});

describe("stream translators", () => {
  it("Anthropic: skips pings, unknown event types and thinking deltas", () => {
    const translator = createAnthropicStreamTranslator("anthropic", 1_750_000_000, (t) => t);
    const out = [
      { type: "message_start", message: { id: "msg_1", model: "claude-x", usage: { input_tokens: 3, output_tokens: 1 } } },
      { type: "ping" },
      { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } },
      { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "Let me think." } },
      { type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: "EqQB" } },
      { type: "content_block_stop", index: 0 },
      { type: "a_future_event", detail: 1 },
      { type: "content_block_start", index: 1, content_block: { type: "text", text: "" } },
      { type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "Hi." } },
    ].map((event) => translator.onData(JSON.stringify(event)));
    expect(out.filter((s) => s !== "")).toHaveLength(2);
    expect(out.join("")).not.toContain("think");
    expect(out.join("")).toContain('"content":"Hi."');
  });

  it("Anthropic: takes the latest cumulative counts from message_delta", () => {
    const translator = createAnthropicStreamTranslator("anthropic", 1_750_000_000, (t) => t);
    translator.onData(JSON.stringify({ type: "message_start", message: { id: "msg_1", model: "claude-x", usage: { input_tokens: 10, cache_read_input_tokens: 100, output_tokens: 1 } } }));
    translator.onData(JSON.stringify({ type: "message_delta", delta: { stop_reason: null }, usage: { output_tokens: 7 } }));
    translator.onData(JSON.stringify({ type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 12, input_tokens: 10, cache_creation_input_tokens: 5 } }));
    expect(translator.usage()).toEqual({ promptTokens: 115, completionTokens: 12, cachedPromptTokens: 100, reasoningTokens: 0, estimated: false });
  });

  it("Gemini: leaves thought summaries out of the content", () => {
    const translator = createGeminiStreamTranslator("google", { id: "x", model: "gemini-x", created: 1 }, (t) => t, () => {
      throw new Error("not estimated");
    });
    const out = translator.onData(
      JSON.stringify({ candidates: [{ content: { role: "model", parts: [{ text: "Pondering…", thought: true }, { text: "Answer." }] }, finishReason: "STOP" }], usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 2, thoughtsTokenCount: 9 } }),
    );
    expect(out).not.toContain("Pondering");
    expect(out).toContain('"content":"Answer."');
    expect(translator.usage()).toMatchObject({ completionTokens: 11, reasoningTokens: 9, estimated: false });
  });
});
