import { randomBytes } from "node:crypto";
import type { FinishReason } from "../openai-chunks.ts";
import { buildChatCompletion, type CompletionToolCall } from "../openai-completion.ts";
import { FunctionCallPart, TextPart, type GenerateContentResponse, type ResponsePart } from "./wire.ts";
import type { Usage } from "../types.ts";

/** The reasons a function-calling turn goes wrong; the model stopped, nothing filtered it. */
const TOOL_TROUBLE = new Set(["MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS", "FINISH_REASON_UNSPECIFIED"]);

/**
 * Gemini `finishReason` (https://ai.google.dev/api/generate-content#FinishReason) -> OpenAI
 * `finish_reason`. Gemini says STOP after a function call too, so calls made decide
 * `tool_calls`. SAFETY, RECITATION, LANGUAGE, BLOCKLIST, PROHIBITED_CONTENT, SPII, OTHER and
 * later reasons are Google stopping the model, which OpenAI calls `content_filter`.
 */
export function finishReasonOf(reason: string | null | undefined, calledTools: boolean): FinishReason {
  if (reason === "MAX_TOKENS") return "length";
  if (calledTools) return "tool_calls";
  if (reason == null || reason === "STOP" || TOOL_TROUBLE.has(reason)) return "stop";
  return "content_filter";
}

/** Ids for Gemini's function calls, which carry none: `call_<per-reply prefix>_<n>`, unique across turns. */
export function createCallIds(): (upstreamId: string | null | undefined) => string {
  const prefix = randomBytes(6).toString("hex");
  let n = 0;
  return (upstreamId) => upstreamId ?? `call_${prefix}_${n++}`;
}

/** What one response (or stream chunk) holds, read part by part; thought summaries are left out. */
export function readParts(parts: readonly ResponsePart[], nextId: (upstreamId: string | null | undefined) => string): { text: string; toolCalls: CompletionToolCall[] } {
  let text = "";
  const toolCalls: CompletionToolCall[] = [];
  for (const part of parts) {
    const call = FunctionCallPart.safeParse(part);
    if (call.success) {
      const { name, args, id } = call.data.functionCall;
      toolCalls.push({ id: nextId(id), name, arguments: JSON.stringify(args ?? {}) });
      continue;
    }
    const textPart = TextPart.safeParse(part);
    if (textPart.success && textPart.data.thought !== true) text += textPart.data.text;
  }
  return { text, toolCalls };
}

export function toChatCompletion(response: GenerateContentResponse, fallback: { id: string; model: string; created: number }, usage: Usage): Record<string, unknown> {
  const candidate = response.candidates?.[0];
  const { text, toolCalls } = readParts(candidate?.content?.parts ?? [], createCallIds());
  const blocked = candidate === undefined && response.promptFeedback?.blockReason != null;
  return buildChatCompletion({
    id: response.responseId ?? fallback.id,
    created: fallback.created,
    model: response.modelVersion ?? fallback.model,
    content: text === "" && toolCalls.length > 0 ? null : text,
    toolCalls,
    finishReason: blocked ? "content_filter" : finishReasonOf(candidate?.finishReason, toolCalls.length > 0),
    usage,
  });
}
