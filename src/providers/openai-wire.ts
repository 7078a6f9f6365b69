import { z } from "zod";
import type { Usage } from "./types.ts";

/**
 * The parts of OpenAI's Chat Completions wire format that Tollgate reads back from upstreams
 * (https://platform.openai.com/docs/api-reference/chat). Schemas are loose: everything we do
 * not read passes through untouched, because the agent gets the upstream's body as it was.
 */

const Count = z.int().nonnegative();

export const UpstreamUsage = z
  .object({
    prompt_tokens: Count,
    completion_tokens: Count,
    total_tokens: Count.optional(),
    prompt_tokens_details: z.object({ cached_tokens: Count.nullish() }).loose().nullish(),
    completion_tokens_details: z.object({ reasoning_tokens: Count.nullish() }).loose().nullish(),
    /** DeepSeek reports its cache hits here instead of `prompt_tokens_details.cached_tokens`. */
    prompt_cache_hit_tokens: Count.nullish(),
  })
  .loose();
export type UpstreamUsage = z.infer<typeof UpstreamUsage>;

const ToolCallText = z
  .object({ function: z.object({ name: z.string().nullish(), arguments: z.string().nullish() }).loose().nullish() })
  .loose();

export const ChatCompletion = z
  .object({
    id: z.string(),
    object: z.string(),
    choices: z.array(
      z
        .object({
          message: z
            .object({
              content: z.string().nullish(),
              /** DeepSeek's and some vLLM builds' visible reasoning, billed as completion tokens. */
              reasoning_content: z.string().nullish(),
              tool_calls: z.array(ToolCallText).nullish(),
            })
            .loose(),
          finish_reason: z.string().nullish(),
        })
        .loose(),
    ),
    // A usage block we cannot read counts as missing (we estimate) rather than failing a good answer.
    usage: UpstreamUsage.nullish().catch(null),
  })
  .loose();
export type ChatCompletion = z.infer<typeof ChatCompletion>;

export const ChatCompletionChunk = z
  .object({
    choices: z
      .array(
        z
          .object({
            delta: z
              .object({
                content: z.string().nullish(),
                reasoning_content: z.string().nullish(),
                tool_calls: z.array(ToolCallText).nullish(),
              })
              .loose()
              .nullish(),
          })
          .loose(),
      )
      .nullish(),
    // A usage block we cannot read counts as missing (we estimate) rather than failing a good answer.
    usage: UpstreamUsage.nullish().catch(null),
  })
  .loose();
export type ChatCompletionChunk = z.infer<typeof ChatCompletionChunk>;

/**
 * `{error:{message,type,param,code}}`; some compatible servers send `{error:"..."}` or
 * `{message:"..."}`. Parsing yields the message text.
 */
export const UpstreamErrorBody = z.union([
  z.object({ error: z.object({ message: z.string() }).loose() }).transform((b) => b.error.message),
  z.object({ error: z.string() }).transform((b) => b.error),
  z.object({ message: z.string() }).transform((b) => b.message),
]);

/**
 * OpenAI semantics, kept as they are: `prompt_tokens` includes the cached ones and
 * `completion_tokens` includes the reasoning ones; the details say how many of each.
 */
export function normaliseUsage(usage: UpstreamUsage): Usage {
  return {
    promptTokens: usage.prompt_tokens,
    completionTokens: usage.completion_tokens,
    cachedPromptTokens: usage.prompt_tokens_details?.cached_tokens ?? usage.prompt_cache_hit_tokens ?? 0,
    reasoningTokens: usage.completion_tokens_details?.reasoning_tokens ?? 0,
    estimated: false,
  };
}

/** Text the model produced in one message or delta, for estimating completion tokens. */
export function generatedText(part: {
  content?: string | null | undefined;
  reasoning_content?: string | null | undefined;
  tool_calls?: Array<z.infer<typeof ToolCallText>> | null | undefined;
}): string {
  let text = (part.content ?? "") + (part.reasoning_content ?? "");
  for (const call of part.tool_calls ?? []) text += (call.function?.name ?? "") + (call.function?.arguments ?? "");
  return text;
}

/**
 * The inverse of normaliseUsage, for adapters that translate another wire format: an OpenAI
 * `usage` object whose `prompt_tokens` include the cached ones and whose `completion_tokens`
 * include the reasoning ones.
 */
export function toWireUsage(usage: Usage): Record<string, unknown> {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedPromptTokens },
    completion_tokens_details: { reasoning_tokens: usage.reasoningTokens },
  };
}
