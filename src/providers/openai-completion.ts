import type { FinishReason } from "./openai-chunks.ts";
import { toWireUsage } from "./openai-wire.ts";
import type { Usage } from "./types.ts";

/** A tool call of the translated reply, arguments already a JSON string. */
export interface CompletionToolCall {
  id: string;
  name: string;
  arguments: string;
}

export interface CompletionParts {
  id: string;
  /** Unix seconds. */
  created: number;
  model: string;
  /** Text of the reply; null when the model only called tools (as OpenAI answers then). */
  content: string | null;
  toolCalls: readonly CompletionToolCall[];
  finishReason: FinishReason;
  usage: Usage;
}

/**
 * An OpenAI `chat.completion` object (https://platform.openai.com/docs/api-reference/chat/object)
 * for adapters that translate another wire format's non-streamed reply.
 */
export function buildChatCompletion(parts: CompletionParts): Record<string, unknown> {
  const message: Record<string, unknown> = { role: "assistant", content: parts.content, refusal: null };
  if (parts.toolCalls.length > 0) {
    message.tool_calls = parts.toolCalls.map((call) => ({
      id: call.id,
      type: "function",
      function: { name: call.name, arguments: call.arguments },
    }));
  }
  return {
    id: parts.id,
    object: "chat.completion",
    created: parts.created,
    model: parts.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: parts.finishReason }],
    usage: toWireUsage(parts.usage),
  };
}
