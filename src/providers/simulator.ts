import { createHash, randomBytes } from "node:crypto";
import { setTimeout as sleepFor } from "node:timers/promises";
import { countMessageTokens, countTokens, decodeTokens, encodeTokens } from "../lib/tokenizer.ts";
import { sampleJson } from "./schema-sample.ts";
import { ProviderError, type ChatCall, type ChatResult, type ChatStream, type EmbedCall, type EmbedResult, type Provider, type Usage } from "./types.ts";

/** Time source for the simulator, so tests can run its latencies on a fake clock. */
export interface SimulatorClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason once it aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const systemClock: SimulatorClock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    signal.throwIfAborted();
    if (ms > 0) await sleepFor(ms, undefined, { signal });
  },
};

export interface SimulatorOptions {
  /** Delay before the reply starts (time to first byte). */
  latencyMs?: number;
  /** Delay between two streamed content chunks. */
  tokenDelayMs?: number;
  clock?: SimulatorClock;
}

export const SIMULATOR_ID = "simulator";

/** Tokens per streamed content chunk: OpenAI's chunks carry one to a few tokens each. */
const TOKENS_PER_CHUNK = 3;

const WORDS = [
  "the", "router", "model", "agent", "request", "payment", "token", "answer", "network", "price",
  "call", "stream", "provider", "result", "quote", "wallet", "ledger", "value", "simple", "useful",
  "quickly", "carefully", "clearly", "always", "often", "today", "every", "each", "this", "that",
  "checks", "returns", "sends", "reads", "builds", "keeps", "measures", "settles", "routes", "counts",
  "small", "large", "fast", "cheap", "reliable", "honest", "exact", "local", "remote", "final",
  "and", "with", "for", "from", "over", "into", "about", "without", "through", "before",
];
const OPENING = ["This", " is", " a", " simulated", " reply."];

/** A function call the simulated model makes, OpenAI's `tool_calls[i]` without the wrapping. */
interface ToolCall {
  id: string;
  name: string;
  /** JSON text, valid against the function's parameters where the schema is simple (schema-sample.ts). */
  arguments: string;
}

/** A text answer (`toolCall` undefined) or one function call (`text` null), as OpenAI's message carries them. */
interface Reply {
  text: string | null;
  toolCall: ToolCall | undefined;
  finishReason: "stop" | "length" | "tool_calls";
  usage: Usage;
}

/** Embedding size when neither the request nor the catalog entry gives one (OpenAI's text-embedding-3-small). */
const DEFAULT_DIMENSIONS = 1536;

/** mulberry32: a tiny seeded PRNG; determinism matters here, statistical quality does not. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The seed covers everything that shapes an answer except the output cap and the transport, so
 * the same request gives the same text streamed or not, and a smaller cap gives a prefix of it.
 */
function seedOf(call: ChatCall): Buffer {
  const { max_tokens: _cap, max_completion_tokens: _agentCap, stream: _s, stream_options: _so, ...shape } = call.body;
  return createHash("sha256").update(JSON.stringify({ ...shape, model: upstreamModel(call) })).digest();
}

function upstreamModel(call: ChatCall): string {
  return call.model.upstreamId ?? call.model.id;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** What `response_format` asks for: JSON of a schema, any JSON object, or text. */
function jsonWanted(call: ChatCall): { schema: unknown } | "object" | undefined {
  const format = call.body.response_format;
  if (!isRecord(format)) return undefined;
  if (format["type"] === "json_object") return "object";
  if (format["type"] !== "json_schema") return undefined;
  const spec = format["json_schema"];
  return { schema: isRecord(spec) ? spec["schema"] : undefined };
}

/** The text of the agent's last message (string content or its text parts), to fill free strings with. */
function lastUserText(messages: readonly unknown[]): string {
  const last = [...messages].reverse().find((m) => isRecord(m) && m["role"] === "user");
  const content = isRecord(last) ? last["content"] : undefined;
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((part) => (isRecord(part) && typeof part["text"] === "string" ? part["text"] : "")).join(" ");
}

interface FunctionTool {
  name: string;
  parameters: unknown;
}

function functionTools(call: ChatCall): FunctionTool[] {
  const tools = Array.isArray(call.body["tools"]) ? call.body["tools"] : [];
  return tools.flatMap((tool: unknown) => {
    const fn = isRecord(tool) && tool["type"] === "function" ? tool["function"] : undefined;
    return isRecord(fn) && typeof fn["name"] === "string" ? [{ name: fn["name"], parameters: fn["parameters"] }] : [];
  });
}

/**
 * The function the simulated model calls, honouring `tool_choice` as OpenAI documents it: "none"
 * answers in text; a named function is called; "required" calls one of the tools; "auto" (the
 * default when tools are offered) calls one unless the conversation ends with a tool result, so an
 * agent's loop (call, result, answer) ends. `allowed_tools` narrows the set with its own mode.
 * Which tool is seeded by the request, so the same request calls the same one.
 */
function chosenTool(call: ChatCall, seed: Buffer): FunctionTool | undefined {
  let tools = functionTools(call);
  let choice = call.body["tool_choice"] ?? "auto";
  if (isRecord(choice) && choice["type"] === "allowed_tools" && isRecord(choice["allowed_tools"])) {
    const allowed = choice["allowed_tools"];
    const names = new Set((Array.isArray(allowed["tools"]) ? allowed["tools"] : []).map((t: unknown) => (isRecord(t) && isRecord(t["function"]) ? t["function"]["name"] : undefined)));
    tools = tools.filter((t) => names.has(t.name));
    choice = allowed["mode"] === "required" ? "required" : "auto";
  }
  if (isRecord(choice)) {
    const named = isRecord(choice["function"]) ? choice["function"]["name"] : undefined;
    return tools.find((t) => t.name === named);
  }
  if (tools.length === 0 || choice === "none") return undefined;
  const last = call.body.messages.at(-1);
  if (choice !== "required" && isRecord(last) && last["role"] === "tool") return undefined;
  return tools[seed.readUInt32BE(4) % tools.length];
}

/** A function call with arguments sampled from its parameters schema; cut at the paid-for cap like text. */
function composeToolCall(call: ChatCall, tool: FunctionTool, seed: Buffer, promptTokens: number): Reply {
  const cap = Math.max(0, Math.floor(call.body.max_tokens));
  let args = JSON.stringify(sampleJson(tool.parameters ?? { type: "object", properties: {} }, { text: lastUserText(call.body.messages) }));
  let finishReason: Reply["finishReason"] = "tool_calls";
  if (countTokens(args) > cap) {
    args = decodeTokens(encodeTokens(args).slice(0, cap));
    finishReason = "length";
  }
  const id = `call_${createHash("sha256").update(seed).update(tool.name).digest("hex").slice(0, 24)}`;
  return {
    text: null,
    toolCall: { id, name: tool.name, arguments: args },
    finishReason,
    usage: { promptTokens, completionTokens: countTokens(args), cachedPromptTokens: 0, reasoningTokens: 0, estimated: false },
  };
}

/** Largest n in [0, max] with fits(n), for a predicate true at 0 and monotone (true then false). */
function largestFitting(max: number, fits: (n: number) => boolean): number {
  let lo = 0;
  let hi = max;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Deterministic reply: a function call when the request's tools and tool_choice call for one;
 * else an opening sentence, then sentences of seeded words until the length target (growing with
 * the prompt) is reached, as JSON when response_format asks (`{"simulated":true,"text":...}` for
 * json_object, a value of the schema for json_schema); cut at the paid-for cap if it does not fit.
 */
function composeReply(call: ChatCall): Reply {
  const seed = seedOf(call);
  const random = prng(seed.readUInt32BE(0));
  const promptTokens = countMessageTokens(call.body.messages);
  const tool = chosenTool(call, seed);
  if (tool !== undefined) return composeToolCall(call, tool, seed, promptTokens);
  const target = Math.min(600, 12 + Math.round(Math.sqrt(promptTokens) * 6) + Math.floor(random() * 24));
  const cap = Math.max(0, Math.floor(call.body.max_tokens));
  const json = jsonWanted(call);
  const schemaValue = isRecord(json) ? JSON.stringify(sampleJson(json.schema, { text: lastUserText(call.body.messages) })) : undefined;
  const render =
    schemaValue !== undefined
      ? // A schema's value is whole or nothing: the words are not part of it, and it has no length target.
        () => schemaValue
      : json === "object"
        ? (pieces: readonly string[]) => JSON.stringify({ simulated: true, text: pieces.join("") })
        : (pieces: readonly string[]) => pieces.join("");

  const pieces = [...OPENING];
  while (schemaValue === undefined && countTokens(render(pieces)) < target) {
    const length = 5 + Math.floor(random() * 10);
    for (let i = 0; i < length; i++) {
      const word = WORDS[Math.floor(random() * WORDS.length)] ?? "the";
      const first = i === 0 ? word.charAt(0).toUpperCase() + word.slice(1) : word;
      pieces.push(` ${first}${i === length - 1 ? "." : ""}`);
    }
  }

  let text = render(pieces);
  let finishReason: Reply["finishReason"] = "stop";
  if (countTokens(text) > cap) {
    finishReason = "length";
    const n = largestFitting(pieces.length, (k) => countTokens(render(pieces.slice(0, k))) <= cap);
    text = render(pieces.slice(0, n));
    // Even an empty JSON wrapper can exceed a tiny cap; the model would stop mid-token then.
    if (countTokens(text) > cap) text = decodeTokens(encodeTokens(text).slice(0, cap));
  }
  return {
    text,
    toolCall: undefined,
    finishReason,
    usage: { promptTokens, completionTokens: countTokens(text), cachedPromptTokens: 0, reasoningTokens: 0, estimated: false },
  };
}

function wireToolCall(toolCall: ToolCall): Record<string, unknown> {
  return { id: toolCall.id, type: "function", function: { name: toolCall.name, arguments: toolCall.arguments } };
}

function wireUsage(usage: Usage): Record<string, unknown> {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function contentChunks(text: string): string[] {
  const tokens = encodeTokens(text);
  const chunks: string[] = [];
  // The word vocabulary is ASCII, so token groups decode to clean substrings that join back to
  // `text`; text taken from the agent's prompt (JSON strings, tool arguments) may not be, and a
  // token group can end inside a character: then it goes out in groups of whole characters.
  for (let i = 0; i < tokens.length; i += TOKENS_PER_CHUNK) chunks.push(decodeTokens(tokens.slice(i, i + TOKENS_PER_CHUNK)));
  if (chunks.join("") === text) return chunks;
  const chars = Array.from(text);
  return Array.from({ length: Math.ceil(chars.length / 12) }, (_, i) => chars.slice(i * 12, i * 12 + 12).join(""));
}

const encoder = new TextEncoder();
function sseEvent(data: unknown): Uint8Array {
  return encoder.encode(`data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
}

/**
 * Stands in for any model whose provider has no API key (or no adapter yet), so the whole paid
 * flow runs with zero configuration. Replies are deterministic, sized like real ones, and shaped
 * exactly like OpenAI's `chat.completion` / `chat.completion.chunk` objects.
 */
export function createSimulatorProvider(options: SimulatorOptions = {}): Provider {
  const latencyMs = options.latencyMs ?? 0;
  const tokenDelayMs = options.tokenDelayMs ?? 0;
  const clock = options.clock ?? systemClock;

  async function wait(ms: number, signal: AbortSignal, phase: string): Promise<void> {
    try {
      await clock.sleep(ms, signal);
    } catch (error) {
      throw new ProviderError(`${SIMULATOR_ID}: request aborted ${phase}`, SIMULATOR_ID, undefined, false, { cause: error });
    }
  }

  function envelope(call: ChatCall, object: "chat.completion" | "chat.completion.chunk") {
    return {
      id: `chatcmpl-sim-${randomBytes(12).toString("hex")}`,
      object,
      created: Math.floor(clock.now() / 1000),
      model: upstreamModel(call),
      service_tier: "default",
      system_fingerprint: `fp_${createHash("sha256").update(`simulator:${upstreamModel(call)}`).digest("hex").slice(0, 10)}`,
    };
  }

  async function chat(call: ChatCall): Promise<ChatResult> {
    const reply = composeReply(call);
    // A non-streamed reply arrives when the whole text would have been generated.
    await wait(latencyMs + tokenDelayMs * contentChunks(reply.text ?? reply.toolCall?.arguments ?? "").length, call.signal, "before the response");
    const toolCalls = reply.toolCall === undefined ? {} : { tool_calls: [wireToolCall(reply.toolCall)] };
    const body = {
      ...envelope(call, "chat.completion"),
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: reply.text, refusal: null, ...toolCalls, annotations: [] },
          logprobs: null,
          finish_reason: reply.finishReason,
        },
      ],
      usage: wireUsage(reply.usage),
    };
    return { body, usage: reply.usage, provider: SIMULATOR_ID };
  }

  async function chatStream(call: ChatCall): Promise<ChatStream> {
    const reply = composeReply(call);
    await wait(latencyMs, call.signal, "before the response");
    const head = envelope(call, "chat.completion.chunk");
    const choice = (delta: Record<string, unknown>, finishReason: string | null) => ({
      ...head,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      // With include_usage, OpenAI sends `usage: null` on every chunk but the last.
      usage: null,
    });

    async function* chunks(): AsyncGenerator<Uint8Array> {
      const toolCall = reply.toolCall;
      if (toolCall === undefined) {
        yield sseEvent(choice({ role: "assistant", content: "", refusal: null }, null));
        for (const content of contentChunks(reply.text ?? "")) {
          await wait(tokenDelayMs, call.signal, "mid-stream");
          yield sseEvent(choice({ content }, null));
        }
      } else {
        // OpenAI's shape: the call's id and name open it, then its arguments arrive in pieces.
        const opening = { index: 0, ...wireToolCall({ ...toolCall, arguments: "" }) };
        yield sseEvent(choice({ role: "assistant", content: null, tool_calls: [opening], refusal: null }, null));
        for (const piece of contentChunks(toolCall.arguments)) {
          await wait(tokenDelayMs, call.signal, "mid-stream");
          yield sseEvent(choice({ tool_calls: [{ index: 0, function: { arguments: piece } }] }, null));
        }
      }
      yield sseEvent(choice({}, reply.finishReason));
      // Always sent: the OpenAI adapter forces include_usage upstream, so agents see this chunk
      // from real providers too; the simulator matches what they get.
      yield sseEvent({ ...head, choices: [], usage: wireUsage(reply.usage) });
      yield sseEvent("[DONE]");
    }

    return { chunks: chunks(), usage: () => reply.usage, provider: SIMULATOR_ID };
  }

  /**
   * Deterministic unit vectors seeded by each input text, as long as the model's own (catalog
   * `dimensions`: 1536 for text-embedding-3-small, 3072 for -large) or shortened to the request's
   * `dimensions`, so equal inputs embed equally; usage is the tokenizer's count of the inputs.
   */
  async function embed(call: EmbedCall): Promise<EmbedResult> {
    const native = call.model.dimensions ?? DEFAULT_DIMENSIONS;
    const requested = typeof call.body["dimensions"] === "number" ? call.body["dimensions"] : undefined;
    if (requested !== undefined && requested > native) {
      // What OpenAI answers a text-embedding-3 model asked for more than it has.
      throw new ProviderError(`${SIMULATOR_ID}: dimensions ${requested} is larger than ${call.model.id}'s ${native}`, SIMULATOR_ID, 400, false);
    }
    await wait(latencyMs, call.signal, "before the response");
    const inputs = [call.body.input].flat();
    const dimensions = requested ?? native;
    const data = inputs.map((text, index) => {
      const next = prng(createHash("sha256").update(text).digest().readUInt32BE(0));
      const raw = Array.from({ length: dimensions }, () => next() * 2 - 1);
      const norm = Math.hypot(...raw) || 1;
      const vector = raw.map((x) => x / norm);
      // encoding_format "base64" is little-endian float32 bytes, as OpenAI sends them.
      const embedding = call.body["encoding_format"] === "base64" ? Buffer.from(new Float32Array(vector).buffer).toString("base64") : vector;
      return { object: "embedding", index, embedding };
    });
    const promptTokens = inputs.reduce((sum, text) => sum + countTokens(text), 0);
    const usage: Usage = { promptTokens, completionTokens: 0, cachedPromptTokens: 0, reasoningTokens: 0, estimated: false };
    return { body: { object: "list", data, model: call.model.upstreamId ?? call.model.id, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } }, usage, provider: SIMULATOR_ID };
  }

  return { id: SIMULATOR_ID, chat, chatStream, embed };
}
