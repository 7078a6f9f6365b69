import { request } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ModelEntry } from "../src/catalog/schema.ts";
import { createGeminiProvider } from "../src/providers/gemini/provider.ts";
import { toGeminiSchema } from "../src/providers/gemini/schema.ts";
import type { ChatCall, Provider } from "../src/providers/types.ts";
import { startFakeGemini, type FakeGemini } from "./fakes/gemini-upstream.ts";
import { recordedBody, rejection, SAMPLE_MESSAGES as MESSAGES, chatCall, ONE_PIXEL_PNG as PNG } from "./support/provider-calls.ts";

const KEY = "AIzaSyFakeFakeFakeFakeFakeFakeFake012345";
const MODEL = ModelEntry.parse({
  id: "gemini-2.5-flash",
  provider: "google",
  pricing: { inputPerMTok: "0.30", outputPerMTok: "2.50", asOf: "2025-07-01", source: "https://ai.google.dev/gemini-api/docs/pricing" },
  contextWindow: 1_048_576,
  maxOutputTokens: 65_536,
  capabilities: ["tools", "vision", "json", "streaming", "reasoning"],
});
const WEATHER_PARAMETERS = {
  type: "object",
  properties: { city: { type: "string", description: "City name" }, units: { type: ["string", "null"], enum: ["metric", "imperial", null] } },
  required: ["city"],
  additionalProperties: false,
};
const WEATHER_TOOL = { type: "function", function: { name: "get_weather", description: "Current weather for a city", parameters: WEATHER_PARAMETERS } };

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

describe("Gemini adapter, request translation", () => {
  it("sends the key in x-goog-api-key, system text as systemInstruction and the paid-for cap as maxOutputTokens", async () => {
    await provider.chat(call({ max_completion_tokens: 9_000, temperature: 1.4, top_p: 0.8, stop: ["END"] }));
    const sent = fake.requests[0];
    expect(sent?.path).toBe("/v1beta/models/gemini-2.5-flash:generateContent");
    expect(sent?.headers["x-goog-api-key"]).toBe(KEY);
    expect(sent?.query.get("key")).toBeNull();
    expect(sent?.body).toEqual({
      systemInstruction: { parts: [{ text: "You are terse." }] },
      contents: [{ role: "user", parts: [{ text: "Say hello to the router." }] }],
      generationConfig: { maxOutputTokens: 64, temperature: 1.4, topP: 0.8, stopSequences: ["END"] },
    });
  });

  it("names turns user and model, merging consecutive turns of one role", async () => {
    await provider.chat(
      call({
        messages: [
          { role: "user", content: "First." },
          { role: "user", content: "Second." },
          { role: "assistant", content: [{ type: "text", text: "Reply." }] },
          { role: "user", content: "Third." },
        ],
      }),
    );
    expect(recordedBody(fake.requests[0]).contents).toEqual([
      { role: "user", parts: [{ text: "First." }, { text: "Second." }] },
      { role: "model", parts: [{ text: "Reply." }] },
      { role: "user", parts: [{ text: "Third." }] },
    ]);
  });

  it("sends data: URL images as inlineData and http(s) URLs as fileData", async () => {
    const content = [
      { type: "text", text: "Compare these." },
      { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
      { type: "image_url", image_url: { url: "https://upload.example.org/cat.jpeg?size=large" } },
      { type: "image_url", image_url: { url: "https://upload.example.org/render" } },
    ];
    await provider.chat(call({ messages: [{ role: "user", content }] }));
    expect(recordedBody(fake.requests[0]).contents).toEqual([
      {
        role: "user",
        parts: [
          { text: "Compare these." },
          { inlineData: { mimeType: "image/png", data: PNG } },
          { fileData: { mimeType: "image/jpeg", fileUri: "https://upload.example.org/cat.jpeg?size=large" } },
          { fileData: { fileUri: "https://upload.example.org/render" } },
        ],
      },
    ]);
  });

  it.each([
    ["auto", { mode: "AUTO" }],
    ["none", { mode: "NONE" }],
    ["required", { mode: "ANY" }],
    [{ type: "function", function: { name: "get_weather" } }, { mode: "ANY", allowedFunctionNames: ["get_weather"] }],
  ])("translates tools into functionDeclarations, and tool_choice %j", async (choice, expected) => {
    await provider.chat(call({ tools: [WEATHER_TOOL], tool_choice: choice }));
    const body = recordedBody(fake.requests[0]);
    expect(body.tools).toEqual([
      {
        functionDeclarations: [
          {
            name: "get_weather",
            description: "Current weather for a city",
            parameters: {
              type: "OBJECT",
              properties: { city: { type: "STRING", description: "City name" }, units: { type: "STRING", nullable: true, enum: ["metric", "imperial"] } },
              required: ["city"],
            },
          },
        ],
      },
    ]);
    expect(body.toolConfig).toEqual({ functionCallingConfig: expected });
  });

  it("sends parameters outside Gemini's Schema subset as parametersJsonSchema, and leaves out empty ones", async () => {
    const union = { type: "object", properties: { when: { anyOf: [{ type: "string" }, { type: "integer" }] } } };
    await provider.chat(
      call({
        tools: [
          { type: "function", function: { name: "schedule", parameters: union } },
          { type: "function", function: { name: "ping", parameters: { type: "object", properties: {} } } },
        ],
      }),
    );
    expect(recordedBody(fake.requests[0]).tools).toEqual([{ functionDeclarations: [{ name: "schedule", parametersJsonSchema: union }, { name: "ping" }] }]);
  });

  it("round-trips tool calls: functionCall parts out, functionResponse parts named after the call they answer", async () => {
    await provider.chat(
      call({
        tools: [WEATHER_TOOL],
        messages: [
          { role: "user", content: "Weather in Paris and Oslo?" },
          {
            role: "assistant",
            content: null,
            tool_calls: [
              { id: "call_a_0", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
              { id: "call_a_1", type: "function", function: { name: "get_time", arguments: '{"city":"Oslo"}' } },
            ],
          },
          { role: "tool", tool_call_id: "call_a_1", content: '{"time":"14:05"}' },
          { role: "tool", tool_call_id: "call_a_0", content: "18°C, clear" },
          { role: "user", content: "Summarise." },
        ],
      }),
    );
    expect(recordedBody(fake.requests[0]).contents).toEqual([
      { role: "user", parts: [{ text: "Weather in Paris and Oslo?" }] },
      {
        role: "model",
        parts: [{ functionCall: { name: "get_weather", args: { city: "Paris" } } }, { functionCall: { name: "get_time", args: { city: "Oslo" } } }],
      },
      {
        role: "user",
        parts: [
          { functionResponse: { name: "get_time", response: { time: "14:05" } } },
          { functionResponse: { name: "get_weather", response: { result: "18°C, clear" } } },
          { text: "Summarise." },
        ],
      },
    ]);
  });

  it("asks for JSON with responseMimeType, adding responseSchema only when the schema converts", async () => {
    const schema = { type: "object", properties: { answer: { type: "string" } }, required: ["answer"], additionalProperties: false };
    await provider.chat(call({ response_format: { type: "json_schema", json_schema: { name: "reply", strict: true, schema } } }));
    expect(recordedBody(fake.requests[0]).generationConfig).toMatchObject({
      responseMimeType: "application/json",
      responseSchema: { type: "OBJECT", properties: { answer: { type: "STRING" } }, required: ["answer"] },
    });

    fake.resetBehaviour();
    const refs = { type: "object", properties: { node: { $ref: "#/$defs/node" } }, $defs: { node: { type: "string" } } };
    await provider.chat(call({ response_format: { type: "json_schema", json_schema: { name: "tree", schema: refs } } }));
    expect(recordedBody(fake.requests[0]).generationConfig).toEqual({ maxOutputTokens: 64, responseMimeType: "application/json" });

    fake.resetBehaviour();
    await provider.chat(call({ response_format: { type: "json_object" } }));
    expect(recordedBody(fake.requests[0]).generationConfig).toEqual({ maxOutputTokens: 64, responseMimeType: "application/json" });
  });

  it.each([
    ["a tool message answering no earlier call", { messages: [{ role: "user", content: "Hi" }, { role: "tool", tool_call_id: "call_nowhere", content: "ok" }] }],
    ["an audio part", { messages: [{ role: "user", content: [{ type: "input_audio", input_audio: { data: "AAAA", format: "wav" } }] }] }],
    ["an image URL that is neither data: nor http(s)", { messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "ftp://example.org/a.png" } }] }] }],
  ])("refuses to translate %s, retryably, without calling the upstream", async (_what, body) => {
    const error = await rejection(provider.chat(call(body)));
    expect(error).toMatchObject({ provider: "google", retryable: true, status: undefined });
    expect(error.message).toContain("cannot translate");
    expect(fake.requests).toHaveLength(0);
  });
});

describe("JSON Schema to Gemini Schema", () => {
  it("converts the shared subset and refuses the rest", () => {
    expect(toGeminiSchema({ type: "array", items: { type: "integer", format: "int64", minimum: 0 }, maxItems: 3 })).toEqual({
      type: "ARRAY",
      items: { type: "INTEGER", format: "int64", minimum: 0 },
      maxItems: 3,
    });
    expect(toGeminiSchema({ type: "string", pattern: "^a" })).toBeUndefined();
    expect(toGeminiSchema({ type: ["string", "integer"] })).toBeUndefined();
    expect(toGeminiSchema({ type: "object", properties: { x: { type: "object", additionalProperties: { type: "string" } } } })).toBeUndefined();
    expect(toGeminiSchema({ type: "object" })).toBeUndefined();
  });
});

describe("fake Gemini upstream", () => {
  async function post(path: string, body: unknown, headers: Record<string, string> = { "x-goog-api-key": KEY }) {
    const response = await request(`${fake.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
    return { status: response.statusCode, body: await response.body.json() };
  }
  const GENERATE = "/v1beta/models/gemini-2.5-flash:generateContent";

  it.each([
    ["an assistant role", { contents: [{ role: "assistant", parts: [{ text: "Hi" }] }] }, "Please use a valid role: user, model."],
    ["an OpenAI field", { contents: [{ role: "user", parts: [{ text: "Hi" }] }], max_tokens: 5 }, 'Unknown name "max_tokens"'],
    [
      "a function response without a call before it",
      { contents: [{ role: "user", parts: [{ functionResponse: { name: "f", response: {} } }] }] },
      "function response turn comes immediately after a function call turn",
    ],
  ])("refuses a request with %s, in Google's error shape", async (_what, body, message) => {
    const answer = await post(GENERATE, body);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: { code: 400, status: "INVALID_ARGUMENT", message: expect.stringContaining(message) } });
  });

  it("refuses a request without a key", async () => {
    const answer = await post(GENERATE, { contents: [{ role: "user", parts: [{ text: "Hi" }] }] }, {});
    expect(answer).toMatchObject({ status: 403, body: { error: { status: "PERMISSION_DENIED" } } });
  });
});
