import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPayingFetch, type PayingFetch } from "../examples/paying-fetch.ts";
import { devnetPrivateKey, devnetTestAccount } from "../src/devnet/accounts.ts";
import { startFakeAnthropic, type FakeAnthropic } from "./fakes/anthropic-upstream.ts";
import { startFakeGemini, type FakeGemini } from "./fakes/gemini-upstream.ts";
import { startFakeOpenAI, type FakeOpenAI } from "./fakes/openai-upstream.ts";
import { startTestGateway, type TestGateway } from "./support/gateway.ts";

/**
 * Tool calling through the paid gateway, for each wire format: the agent sends OpenAI `tools`
 * with the official openai client, the provider answers in its own format, the agent gets
 * OpenAI `tool_calls`, streamed and not.
 */

let openaiFake: FakeOpenAI;
let anthropicFake: FakeAnthropic;
let geminiFake: FakeGemini;
let gateway: TestGateway;
let paying: PayingFetch;
let openai: OpenAI;

const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  { type: "function", function: { name: "get_toll", description: "Toll for a road", parameters: { type: "object", properties: { road: { type: "string" } }, required: ["road"] } } },
];

beforeAll(async () => {
  openaiFake = await startFakeOpenAI();
  anthropicFake = await startFakeAnthropic({ toolUses: [{ name: "get_toll", input: { road: "A1" } }], stopReason: "tool_use" });
  geminiFake = await startFakeGemini({ functionCalls: [{ name: "get_toll", args: { road: "A1" } }] });
  gateway = await startTestGateway({
    ANTHROPIC_API_KEY: "sk-ant-test",
    ANTHROPIC_BASE_URL: anthropicFake.url,
    GOOGLE_API_KEY: "AIza-test",
    GOOGLE_BASE_URL: geminiFake.url,
    OPENAI_API_KEY: "sk-test",
    OPENAI_BASE_URL: openaiFake.url,
  });
  const agent = devnetTestAccount(1);
  await gateway.dev.faucet(agent.address, 50_000_000n);
  paying = createPayingFetch({ privateKey: devnetPrivateKey(agent), allowedAsset: { network: "eip155:84532", asset: gateway.dev.info.asset } });
  openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "unused", fetch: paying.fetch, maxRetries: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all([openaiFake?.close(), anthropicFake?.close(), geminiFake?.close()]);
});

const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [{ role: "user", content: "What is the toll on the A1?" }];

describe.each([
  ["anthropic", "claude-sonnet-4-20250514"],
  ["google", "gemini-2.5-flash"],
])("tool calls through %s", (provider, model) => {
  it("returns OpenAI tool_calls from a non-streamed call", async () => {
    const { data, response } = await openai.chat.completions.create({ model, messages, tools, max_tokens: 128 }).withResponse();
    expect(response.headers.get("x-tollgate-provider")).toBe(provider);
    const call = data.choices[0]?.message.tool_calls?.[0];
    expect(call?.type).toBe("function");
    expect(call?.type === "function" ? call.function.name : undefined).toBe("get_toll");
    expect(JSON.parse(call?.type === "function" ? call.function.arguments : "{}")).toEqual({ road: "A1" });
    expect(data.choices[0]?.finish_reason).toBe("tool_calls");
    expect(paying.receipts.at(-1)?.success).toBe(true);
  });

  it("streams the tool call as OpenAI deltas and settles", async () => {
    const stream = await openai.chat.completions.create({ model, messages, tools, max_tokens: 128, stream: true });
    let name = "";
    let args = "";
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta.tool_calls?.[0];
      name += delta?.function?.name ?? "";
      args += delta?.function?.arguments ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(name).toBe("get_toll");
    expect(JSON.parse(args)).toEqual({ road: "A1" });
    expect(finish).toBe("tool_calls");
    expect(paying.receipts.at(-1)?.success).toBe(true);
  });
});

describe("tool calls through openai", () => {
  it("passes tools to an OpenAI-compatible upstream unchanged", async () => {
    await openai.chat.completions.create({ model: "gpt-4o-mini", messages, tools, tool_choice: "auto", max_tokens: 64 });
    const sent = openaiFake.requests.at(-1)?.body as { tools?: unknown; tool_choice?: unknown };
    expect(sent.tools).toEqual(tools);
    expect(sent.tool_choice).toBe("auto");
  });
});
