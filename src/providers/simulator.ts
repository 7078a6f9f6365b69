import { createHash, randomBytes } from "node:crypto";
import { setTimeout as sleepFor } from "node:timers/promises";
import { countMessageTokens, countTokens, decodeTokens, encodeTokens } from "../lib/tokenizer.ts";
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

interface Reply {
  text: string;
  finishReason: "stop" | "length";
  usage: Usage;
}

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

function wantsJson(call: ChatCall): boolean {
  const format = call.body.response_format;
  if (typeof format !== "object" || format === null || !("type" in format)) return false;
  return format.type === "json_object" || format.type === "json_schema";
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
 * Deterministic reply: an opening sentence, then sentences of seeded words until the length
 * target (growing with the prompt) is reached; cut at the paid-for cap if it does not fit.
 */
function composeReply(call: ChatCall): Reply {
  const seed = seedOf(call);
  const random = prng(seed.readUInt32BE(0));
  const promptTokens = countMessageTokens(call.body.messages);
  const target = Math.min(600, 12 + Math.round(Math.sqrt(promptTokens) * 6) + Math.floor(random() * 24));
  const cap = Math.max(0, Math.floor(call.body.max_tokens));
  const render = wantsJson(call)
    ? (pieces: readonly string[]) => JSON.stringify({ simulated: true, text: pieces.join("") })
    : (pieces: readonly string[]) => pieces.join("");

  const pieces = [...OPENING];
  while (countTokens(render(pieces)) < target) {
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
    finishReason,
    usage: { promptTokens, completionTokens: countTokens(text), cachedPromptTokens: 0, reasoningTokens: 0, estimated: false },
  };
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
  // The vocabulary is ASCII, so token groups decode to clean substrings that join back to `text`.
  for (let i = 0; i < tokens.length; i += TOKENS_PER_CHUNK) chunks.push(decodeTokens(tokens.slice(i, i + TOKENS_PER_CHUNK)));
  return chunks;
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
    await wait(latencyMs + tokenDelayMs * contentChunks(reply.text).length, call.signal, "before the response");
    const body = {
      ...envelope(call, "chat.completion"),
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: reply.text, refusal: null, annotations: [] },
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
      yield sseEvent(choice({ role: "assistant", content: "", refusal: null }, null));
      for (const content of contentChunks(reply.text)) {
        await wait(tokenDelayMs, call.signal, "mid-stream");
        yield sseEvent(choice({ content }, null));
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
   * Deterministic unit vectors seeded by each input text, `dimensions` long (default 256), so
   * equal inputs embed equally; usage is the tokenizer's count of the inputs.
   */
  async function embed(call: EmbedCall): Promise<EmbedResult> {
    await wait(latencyMs, call.signal, "before the response");
    const inputs = [call.body.input].flat();
    const dimensions = typeof call.body["dimensions"] === "number" ? call.body["dimensions"] : 256;
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
