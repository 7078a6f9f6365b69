import { z } from "zod";
import type { Usage } from "../types.ts";

/**
 * The parts of Anthropic's Messages API replies that the adapter reads
 * (https://docs.anthropic.com/en/api/messages, .../en/docs/build-with-claude/streaming,
 * .../en/api/errors). Loose objects: fields Anthropic adds later pass unnoticed.
 */

const Count = z.int().nonnegative();

export const AnthropicUsage = z
  .object({
    input_tokens: Count,
    output_tokens: Count,
    cache_creation_input_tokens: Count.nullish(),
    cache_read_input_tokens: Count.nullish(),
  })
  .loose();
export type AnthropicUsage = z.infer<typeof AnthropicUsage>;

/**
 * `message_delta` usage. Its counts are cumulative, not increments; `output_tokens` is always
 * there, and newer API versions repeat the input and cache counts beside it.
 */
export const AnthropicDeltaUsage = z
  .object({
    output_tokens: Count,
    input_tokens: Count.nullish(),
    cache_creation_input_tokens: Count.nullish(),
    cache_read_input_tokens: Count.nullish(),
  })
  .loose();
export type AnthropicDeltaUsage = z.infer<typeof AnthropicDeltaUsage>;

export const TextBlock = z.object({ type: z.literal("text"), text: z.string() }).loose();
export const ToolUseBlock = z
  .object({ type: z.literal("tool_use"), id: z.string().min(1), name: z.string().min(1), input: z.record(z.string(), z.unknown()) })
  .loose();
/** Thinking, redacted thinking and server-tool blocks: no OpenAI counterpart, not carried over. */
const OtherBlock = z.object({ type: z.string() }).loose();
export const ContentBlock = z.union([TextBlock, ToolUseBlock, OtherBlock]);
export type ContentBlock = z.infer<typeof ContentBlock>;

export const AnthropicMessage = z
  .object({
    id: z.string().min(1),
    type: z.literal("message"),
    role: z.literal("assistant"),
    model: z.string(),
    content: z.array(ContentBlock),
    stop_reason: z.string().nullish(),
    usage: AnthropicUsage,
  })
  .loose();
export type AnthropicMessage = z.infer<typeof AnthropicMessage>;

/** `{type:"error", error:{type, message}}`: the body of every error status, and the `error` stream event. */
export const AnthropicErrorBody = z
  .object({ type: z.literal("error"), error: z.object({ type: z.string(), message: z.string() }).loose() })
  .loose();
export type AnthropicErrorBody = z.infer<typeof AnthropicErrorBody>;

/** Status of each documented error type, for errors that arrive inside a 200 stream. */
export const ERROR_TYPE_STATUS: Readonly<Record<string, number>> = Object.freeze({
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
});

export const TextDelta = z.object({ type: z.literal("text_delta"), text: z.string() }).loose();
export const InputJsonDelta = z.object({ type: z.literal("input_json_delta"), partial_json: z.string() }).loose();
/** Thinking and signature deltas, and whatever comes later. */
const OtherDelta = z.object({ type: z.string() }).loose();

/** The documented stream events. Anthropic may add event types; unknown ones are skipped. */
export const StreamEvent = z.discriminatedUnion("type", [
  z
    .object({
      type: z.literal("message_start"),
      message: z.object({ id: z.string().min(1), model: z.string(), usage: AnthropicUsage }).loose(),
    })
    .loose(),
  z.object({ type: z.literal("content_block_start"), index: Count, content_block: ContentBlock }).loose(),
  z.object({ type: z.literal("content_block_delta"), index: Count, delta: z.union([TextDelta, InputJsonDelta, OtherDelta]) }).loose(),
  z.object({ type: z.literal("content_block_stop"), index: Count }).loose(),
  z
    .object({
      type: z.literal("message_delta"),
      delta: z.object({ stop_reason: z.string().nullish() }).loose(),
      usage: AnthropicDeltaUsage.nullish(),
    })
    .loose(),
  z.object({ type: z.literal("message_stop") }).loose(),
  z.object({ type: z.literal("ping") }).loose(),
  AnthropicErrorBody,
]);
export type StreamEvent = z.infer<typeof StreamEvent>;
export const STREAM_EVENT_TYPES: ReadonlySet<string> = new Set(StreamEvent.options.map((o) => o.shape.type.value));

/**
 * Anthropic's `input_tokens` counts only the input after the last cache breakpoint: the tokens
 * read from the cache (`cache_read_input_tokens`) and those written to it
 * (`cache_creation_input_tokens`) are reported beside it, and the prompt caching guide gives the
 * total input as the sum of the three
 * (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching, "Tracking cache
 * performance"). Usage follows OpenAI's convention, where the prompt count includes the cached
 * tokens, so: promptTokens = input + cache writes + cache reads, cachedPromptTokens = cache reads.
 * Thinking tokens are part of `output_tokens` and not reported apart, hence reasoningTokens 0.
 */
export function normaliseAnthropicUsage(usage: AnthropicUsage): Usage {
  const cacheWrites = usage.cache_creation_input_tokens ?? 0;
  const cacheReads = usage.cache_read_input_tokens ?? 0;
  return {
    promptTokens: usage.input_tokens + cacheWrites + cacheReads,
    completionTokens: usage.output_tokens,
    cachedPromptTokens: cacheReads,
    reasoningTokens: 0,
    estimated: false,
  };
}
