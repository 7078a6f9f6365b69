import type { Capability } from "../catalog/schema.ts";
import type { ChatMessage, ChatRequest } from "../call/chat-request.ts";
import { countMessageTokens } from "../lib/tokenizer.ts";
import { guessTask } from "./task.ts";
import type { Analysis } from "./types.ts";

/** Pure analysis of a chat request: tokens, task, complexity and needed capabilities. */
export function analyse(request: ChatRequest): Analysis {
  const inputTokens = countMessageTokens(request.messages);
  const latest = latestUserText(request.messages);
  const capabilities = new Set<Capability>();
  if (request.tools !== undefined && request.tools.length > 0) capabilities.add("tools");
  if (request.messages.some(hasImage)) capabilities.add("vision");
  const format = request.response_format?.type;
  if (format === "json_object" || format === "json_schema") capabilities.add("json");
  if (request.stream === true) capabilities.add("streaming");
  return {
    inputTokens,
    task: guessTask(latest),
    complexity: complexityOf(latest, inputTokens),
    capabilities: [...capabilities],
    requestedMaxTokens: request.max_completion_tokens ?? request.max_tokens,
  };
}

function textOf(message: ChatMessage): string {
  const { content } = message;
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content.map((part) => ("text" in part && typeof part.text === "string" ? part.text : "")).join("\n");
  }
  return "";
}

function latestUserText(messages: ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message?.role === "user") return textOf(message);
  }
  return messages.map(textOf).join("\n");
}

function hasImage(message: ChatMessage): boolean {
  return Array.isArray(message.content) && message.content.some((part) => part.type === "image_url" || part.type === "input_image");
}

/** Longer prompts and multi-step asks score higher; a crude first cut, bounded to [0, 1]. */
function complexityOf(text: string, inputTokens: number): number {
  const length = Math.min(1, Math.log10(1 + inputTokens) / 4);
  const steps = Math.min(1, (text.match(/\b(then|and then|step|first|second|finally|also|prove|explain why)\b/gi)?.length ?? 0) / 4);
  return Math.round((0.6 * length + 0.4 * steps) * 100) / 100;
}
