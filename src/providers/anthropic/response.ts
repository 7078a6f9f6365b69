import type { FinishReason } from "../openai-chunks.ts";
import { buildChatCompletion, type CompletionToolCall } from "../openai-completion.ts";
import { TextBlock, ToolUseBlock, normaliseAnthropicUsage, type AnthropicMessage } from "./wire.ts";

/**
 * Messages `stop_reason` -> OpenAI `finish_reason`
 * (https://docs.anthropic.com/en/api/handling-stop-reasons). `pause_turn` (a server tool paused
 * a long turn) ends this reply as far as the agent can tell; `refusal` is the safety classifier
 * stepping in; running out of context is running out of room, like the token cap.
 */
export function finishReasonOf(stopReason: string | null | undefined): FinishReason {
  switch (stopReason) {
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "refusal":
      return "content_filter";
    default:
      return "stop";
  }
}

/** A Messages reply as an OpenAI `chat.completion`. */
export function toChatCompletion(message: AnthropicMessage, created: number): Record<string, unknown> {
  let text = "";
  let sawText = false;
  const toolCalls: CompletionToolCall[] = [];
  for (const block of message.content) {
    const textBlock = TextBlock.safeParse(block);
    if (textBlock.success) {
      text += textBlock.data.text;
      sawText = true;
      continue;
    }
    const toolUse = ToolUseBlock.safeParse(block);
    if (toolUse.success) toolCalls.push({ id: toolUse.data.id, name: toolUse.data.name, arguments: JSON.stringify(toolUse.data.input) });
  }
  return buildChatCompletion({
    id: message.id,
    created,
    model: message.model,
    // OpenAI answers content null when the model only called tools.
    content: sawText || toolCalls.length === 0 ? text : null,
    toolCalls,
    finishReason: finishReasonOf(message.stop_reason),
    usage: normaliseAnthropicUsage(message.usage),
  });
}
