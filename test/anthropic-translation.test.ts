import { request } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ModelEntry } from "../src/catalog/schema.ts";
import { createAnthropicProvider } from "../src/providers/anthropic/provider.ts";
import type { ChatCall, Provider } from "../src/providers/types.ts";
import { startFakeAnthropic, type FakeAnthropic } from "./fakes/anthropic-upstream.ts";
import { recordedBody, rejection, SAMPLE_MESSAGES as MESSAGES, chatCall, ONE_PIXEL_PNG as PNG } from "./support/provider-calls.ts";

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

describe("Anthropic adapter, request translation", () => {
  it("sends the key, the API version and the paid-for max_tokens, with system text at the top", async () => {
    await provider.chat(call({ messages: [{ role: "developer", content: "Answer in English." }, ...MESSAGES], max_completion_tokens: 9_000 }));
    const sent = fake.requests[0];
    expect(sent?.path).toBe("/v1/messages");
    expect(sent?.headers["x-api-key"]).toBe(KEY);
    expect(sent?.headers["anthropic-version"]).toBe("2023-06-01");
    expect(sent?.headers.authorization).toBeUndefined();
    expect(sent?.body).toEqual({
      model: "claude-3-5-haiku-20241022",
      max_tokens: 64,
      system: [
        { type: "text", text: "Answer in English." },
        { type: "text", text: "You are terse." },
      ],
      messages: [{ role: "user", content: [{ type: "text", text: "Say hello to the router." }] }],
    });
  });

  it("merges consecutive turns of one role so that roles alternate", async () => {
    await provider.chat(
      call({
        messages: [
          { role: "user", content: "First." },
          { role: "user", content: [{ type: "text", text: "Second." }] },
          { role: "assistant", content: "Reply one." },
          { role: "assistant", content: "Reply two." },
          { role: "user", content: "Third." },
        ],
      }),
    );
    expect(recordedBody(fake.requests[0]).messages).toEqual([
      { role: "user", content: [{ type: "text", text: "First." }, { type: "text", text: "Second." }] },
      { role: "assistant", content: [{ type: "text", text: "Reply one." }, { type: "text", text: "Reply two." }] },
      { role: "user", content: [{ type: "text", text: "Third." }] },
    ]);
  });

  it("sends data: URL images as base64 sources and http(s) URLs as url sources", async () => {
    const content = [
      { type: "text", text: "Compare these." },
      { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}`, detail: "low" } },
      { type: "image_url", image_url: { url: "https://upload.example.org/cat.jpg" } },
    ];
    await provider.chat(call({ messages: [{ role: "user", content }] }));
    expect(recordedBody(fake.requests[0]).messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "Compare these." },
          { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
          { type: "image", source: { type: "url", url: "https://upload.example.org/cat.jpg" } },
        ],
      },
    ]);
  });

  it.each([
    ["auto", { type: "auto" }],
    ["none", { type: "none" }],
    ["required", { type: "any" }],
    [{ type: "function", function: { name: "get_weather" } }, { type: "tool", name: "get_weather" }],
  ])("translates tools, and tool_choice %j", async (choice, expected) => {
    await provider.chat(call({ tools: [WEATHER_TOOL], tool_choice: choice }));
    const body = recordedBody(fake.requests[0]);
    expect(body.tools).toEqual([
      { name: "get_weather", description: "Current weather for a city", input_schema: WEATHER_TOOL.function.parameters },
    ]);
    expect(body.tool_choice).toEqual(expected);
  });

  it("turns parallel_tool_calls: false into disable_parallel_tool_use", async () => {
    await provider.chat(call({ tools: [WEATHER_TOOL], parallel_tool_calls: false }));
    expect(recordedBody(fake.requests[0]).tool_choice).toEqual({ type: "auto", disable_parallel_tool_use: true });
  });

  it("round-trips tool calls: tool_use blocks out, tool_result blocks first in the next user turn", async () => {
    await provider.chat(
      call({
        tools: [WEATHER_TOOL],
        messages: [
          { role: "user", content: "Weather in Paris and Oslo?" },
          {
            role: "assistant",
            content: "Checking both.",
            tool_calls: [
              { id: "toolu_01A", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
              { id: "toolu_01B", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
            ],
          },
          { role: "tool", tool_call_id: "toolu_01A", content: "18°C, clear" },
          { role: "tool", tool_call_id: "toolu_01B", content: [{ type: "text", text: "9°C, rain" }] },
          { role: "user", content: "Which is warmer?" },
        ],
      }),
    );
    expect(fake.requests[0]?.response).toContain('"type":"message"');
    expect(recordedBody(fake.requests[0]).messages).toEqual([
      { role: "user", content: [{ type: "text", text: "Weather in Paris and Oslo?" }] },
      {
        role: "assistant",
        content: [
          { type: "text", text: "Checking both." },
          { type: "tool_use", id: "toolu_01A", name: "get_weather", input: { city: "Paris" } },
          { type: "tool_use", id: "toolu_01B", name: "get_weather", input: { city: "Oslo" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "toolu_01A", content: "18°C, clear" },
          { type: "tool_result", tool_use_id: "toolu_01B", content: "9°C, rain" },
          { type: "text", text: "Which is warmer?" },
        ],
      },
    ]);
  });

  it("maps stop to stop_sequences, user to metadata and clamps temperature to Anthropic's 0..1", async () => {
    await provider.chat(call({ stop: "\n\n", temperature: 1.6, top_p: 0.9, user: "agent-42", seed: 7 }));
    expect(recordedBody(fake.requests[0])).toMatchObject({ stop_sequences: ["\n\n"], temperature: 1, top_p: 0.9, metadata: { user_id: "agent-42" } });
    expect(recordedBody(fake.requests[0])).not.toHaveProperty("seed");
  });

  it.each([
    ["a JSON response_format", { response_format: { type: "json_object" } }],
    ["an audio part", { messages: [{ role: "user", content: [{ type: "input_audio", input_audio: { data: "AAAA", format: "wav" } }] }] }],
    ["an image of an unsupported type", { messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "data:image/bmp;base64,Qk0=" } }] }] }],
    ["tool arguments that are not a JSON object", {
      messages: [
        { role: "user", content: "Hi" },
        { role: "assistant", tool_calls: [{ id: "toolu_X", type: "function", function: { name: "f", arguments: "not json" } }] },
        { role: "tool", tool_call_id: "toolu_X", content: "ok" },
      ],
    }],
  ])("refuses to translate %s, retryably, without calling the upstream", async (_what, body) => {
    const error = await rejection(provider.chat(call(body)));
    expect(error).toMatchObject({ provider: "anthropic", retryable: true, status: undefined });
    expect(error.message).toContain("cannot translate");
    expect(fake.requests).toHaveLength(0);
  });
});

describe("fake Anthropic upstream", () => {
  async function post(body: unknown, headers: Record<string, string> = {}) {
    const response = await request(`${fake.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": KEY, "anthropic-version": "2023-06-01", "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
    return { status: response.statusCode, body: await response.body.json() };
  }

  it.each([
    ["no max_tokens", { model: "m", messages: [{ role: "user", content: "Hi" }] }, "max_tokens: Field required"],
    ["a system role in messages", { model: "m", max_tokens: 5, messages: [{ role: "system", content: "Be nice" }] }, "messages.0.role"],
    ["two user turns in a row", { model: "m", max_tokens: 5, messages: [{ role: "user", content: "a" }, { role: "user", content: "b" }] }, "roles must alternate"],
    ["an OpenAI field", { model: "m", max_tokens: 5, stop: ["x"], messages: [{ role: "user", content: "a" }] }, "Extra inputs are not permitted"],
  ])("refuses a request with %s, in Anthropic's error shape", async (_what, body, message) => {
    const answer = await post(body);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ type: "error", error: { type: "invalid_request_error", message: expect.stringContaining(message) } });
  });

  it("refuses a request without anthropic-version", async () => {
    const answer = await post({ model: "m", max_tokens: 5, messages: [{ role: "user", content: "a" }] }, { "anthropic-version": "" });
    expect(answer.status).toBe(400);
  });
});
