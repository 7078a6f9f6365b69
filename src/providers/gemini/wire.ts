import { z } from "zod";
import type { Usage } from "../types.ts";

/**
 * The parts of the Gemini API's `GenerateContentResponse` the adapter reads
 * (https://ai.google.dev/api/generate-content#generatecontentresponse), and its error body
 * (https://ai.google.dev/gemini-api/docs/troubleshooting). Loose objects: fields Google adds
 * later pass unnoticed.
 */

const Count = z.int().nonnegative();

export const UsageMetadata = z
  .object({
    promptTokenCount: Count.nullish(),
    candidatesTokenCount: Count.nullish(),
    thoughtsTokenCount: Count.nullish(),
    cachedContentTokenCount: Count.nullish(),
    toolUsePromptTokenCount: Count.nullish(),
    totalTokenCount: Count.nullish(),
  })
  .loose();
export type UsageMetadata = z.infer<typeof UsageMetadata>;

export const TextPart = z.object({ text: z.string(), thought: z.boolean().nullish() }).loose();
export const FunctionCallPart = z
  .object({
    functionCall: z.object({ name: z.string().min(1), args: z.record(z.string(), z.unknown()).nullish(), id: z.string().nullish() }).loose(),
  })
  .loose();
/** Inline data, executable code and whatever else a model may produce: not carried over. */
const OtherPart = z.object({}).loose();
export const ResponsePart = z.union([FunctionCallPart, TextPart, OtherPart]);
export type ResponsePart = z.infer<typeof ResponsePart>;

export const Candidate = z
  .object({
    content: z.object({ parts: z.array(ResponsePart).nullish(), role: z.string().nullish() }).loose().nullish(),
    finishReason: z.string().nullish(),
  })
  .loose();
export type Candidate = z.infer<typeof Candidate>;

export const GenerateContentResponse = z
  .object({
    candidates: z.array(Candidate).nullish(),
    /** Set instead of candidates when the prompt itself was blocked. */
    promptFeedback: z.object({ blockReason: z.string().nullish() }).loose().nullish(),
    usageMetadata: UsageMetadata.nullish(),
    modelVersion: z.string().nullish(),
    responseId: z.string().nullish(),
  })
  .loose();
export type GenerateContentResponse = z.infer<typeof GenerateContentResponse>;

/** Google's RetryInfo detail: `retryDelay` is a protobuf Duration in JSON, e.g. "37s" or "1.5s". */
const RetryInfo = z.object({ "@type": z.string().endsWith("google.rpc.RetryInfo"), retryDelay: z.string() }).loose();

/** `{error:{code, message, status, details}}`, Google's API error body. */
export const GeminiErrorBody = z
  .object({
    error: z
      .object({ code: z.int(), message: z.string(), status: z.string().nullish(), details: z.array(z.unknown()).nullish() })
      .loose(),
  })
  .loose();
export type GeminiErrorBody = z.infer<typeof GeminiErrorBody>;

/** The retry delay a RESOURCE_EXHAUSTED error carries in its details, in milliseconds. */
export function retryDelayMs(body: GeminiErrorBody): number | undefined {
  for (const detail of body.error.details ?? []) {
    const info = RetryInfo.safeParse(detail);
    const seconds = info.success ? /^(\d+(?:\.\d+)?)s$/.exec(info.data.retryDelay)?.[1] : undefined;
    if (seconds !== undefined) return Math.round(Number(seconds) * 1000);
  }
  return undefined;
}

/**
 * `usageMetadata` (https://ai.google.dev/api/generate-content#UsageMetadata) in OpenAI's
 * convention:
 * - `promptTokenCount` already includes `cachedContentTokenCount` (the reference: with cached
 *   content it "is still the total effective prompt size"), so the cached count is a part of
 *   the prompt count, not added to it; `toolUsePromptTokenCount` (results of Google's own
 *   tools fed back to the model) is input counted beside the prompt, so it is added;
 * - thinking models report `thoughtsTokenCount` apart from `candidatesTokenCount`, and Google
 *   bills thoughts as output (https://ai.google.dev/gemini-api/docs/pricing, output price
 *   "including thinking tokens"), so completion = candidates + thoughts, thoughts being the
 *   reasoning tokens, as OpenAI counts reasoning inside completion tokens.
 */
export function normaliseGeminiUsage(usage: UsageMetadata): Usage {
  const thoughts = usage.thoughtsTokenCount ?? 0;
  return {
    promptTokens: (usage.promptTokenCount ?? 0) + (usage.toolUsePromptTokenCount ?? 0),
    completionTokens: (usage.candidatesTokenCount ?? 0) + thoughts,
    cachedPromptTokens: usage.cachedContentTokenCount ?? 0,
    reasoningTokens: thoughts,
    estimated: false,
  };
}
