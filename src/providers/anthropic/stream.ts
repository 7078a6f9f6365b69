import { z } from "zod";
import { countTokens } from "../../lib/tokenizer.ts";
import { safeJson } from "../http-upstream.ts";
import { createChunkWriter, type ChunkWriter } from "../openai-chunks.ts";
import type { StreamTranslator } from "../translated-stream.ts";
import { ProviderError, type Usage } from "../types.ts";
import { anthropicStreamError } from "./errors.ts";
import { finishReasonOf } from "./response.ts";
import {
  InputJsonDelta,
  STREAM_EVENT_TYPES,
  StreamEvent,
  TextBlock,
  TextDelta,
  ToolUseBlock,
  normaliseAnthropicUsage,
  type AnthropicUsage,
} from "./wire.ts";

const EventType = z.object({ type: z.string() }).loose();

export interface AnthropicStreamTranslator extends StreamTranslator {
  /**
   * Usage as Anthropic reported it, or undefined before `message_start`. If the stream stopped
   * before `message_delta` brought the output count, the output is counted with the tokenizer
   * and the usage marked estimated.
   */
  usage(): Usage | undefined;
}

/**
 * Anthropic's stream (https://docs.anthropic.com/en/docs/build-with-claude/streaming):
 * `message_start`, then per content block `content_block_start`, `content_block_delta`s and
 * `content_block_stop`, then `message_delta` (stop reason, cumulative usage) and
 * `message_stop`; `ping`s anywhere, and an `error` event when the upstream fails mid-stream.
 * Each becomes the matching OpenAI chunk as soon as it arrives: the role on `message_start`,
 * text and tool-call deltas (tool calls numbered in order of appearance, as OpenAI does), the
 * finish reason on `message_delta`, and the usage chunk and `[DONE]` on `message_stop`.
 */
export function createAnthropicStreamTranslator(
  provider: string,
  created: number,
  redact: (text: string) => string,
): AnthropicStreamTranslator {
  let writer: ChunkWriter | undefined;
  let counts: AnthropicUsage | undefined;
  let outputCounted = false;
  let outputText = "";
  let finishSent = false;
  let stopped = false;
  /** Content block index -> OpenAI tool call index. */
  const toolCalls = new Map<number, number>();

  function malformed(what: string): ProviderError {
    return new ProviderError(`${provider}: malformed stream (${what})`, provider, undefined, true);
  }

  function usage(): Usage | undefined {
    if (counts === undefined) return undefined;
    const normalised = normaliseAnthropicUsage(counts);
    return outputCounted ? normalised : { ...normalised, completionTokens: countTokens(outputText), estimated: true };
  }

  function onData(data: string): string {
    const json = safeJson(data);
    const typed = EventType.safeParse(json);
    if (!typed.success) throw malformed("an event without a type");
    const { type } = typed.data;
    // The streaming guide asks clients to skip event types they do not know.
    if (!STREAM_EVENT_TYPES.has(type)) return "";
    const parsed = StreamEvent.safeParse(json);
    if (!parsed.success) throw malformed(`an unreadable ${type} event`);
    const event = parsed.data;
    if (event.type === "error") throw anthropicStreamError(provider, event, redact);
    if (event.type === "ping") return "";
    if (event.type === "message_start") {
      writer = createChunkWriter({ id: event.message.id, created, model: event.message.model });
      counts = event.message.usage;
      return writer.role();
    }
    if (writer === undefined || counts === undefined) throw malformed(`${event.type} before message_start`);

    switch (event.type) {
      case "content_block_start": {
        const toolUse = ToolUseBlock.safeParse(event.content_block);
        if (toolUse.success) {
          const index = toolCalls.size;
          toolCalls.set(event.index, index);
          outputText += toolUse.data.name;
          return writer.toolCall({ index, id: toolUse.data.id, name: toolUse.data.name, arguments: "" });
        }
        const text = TextBlock.safeParse(event.content_block);
        if (!text.success || text.data.text === "") return "";
        outputText += text.data.text;
        return writer.content(text.data.text);
      }
      case "content_block_delta": {
        const text = TextDelta.safeParse(event.delta);
        if (text.success) {
          if (text.data.text === "") return "";
          outputText += text.data.text;
          return writer.content(text.data.text);
        }
        const json = InputJsonDelta.safeParse(event.delta);
        if (!json.success) return ""; // thinking and signature deltas have no OpenAI counterpart
        const index = toolCalls.get(event.index);
        if (index === undefined) throw malformed("input_json_delta outside a tool_use block");
        if (json.data.partial_json === "") return "";
        outputText += json.data.partial_json;
        return writer.toolCall({ index, arguments: json.data.partial_json });
      }
      case "content_block_stop":
        return "";
      case "message_delta": {
        if (event.usage != null) {
          // Cumulative counts: each message_delta replaces what came before.
          counts = {
            input_tokens: event.usage.input_tokens ?? counts.input_tokens,
            output_tokens: event.usage.output_tokens,
            cache_creation_input_tokens: event.usage.cache_creation_input_tokens ?? counts.cache_creation_input_tokens,
            cache_read_input_tokens: event.usage.cache_read_input_tokens ?? counts.cache_read_input_tokens,
          };
          outputCounted = true;
        }
        if (event.delta.stop_reason == null || finishSent) return "";
        finishSent = true;
        return writer.finish(finishReasonOf(event.delta.stop_reason));
      }
      case "message_stop": {
        stopped = true;
        const finish = finishSent ? "" : writer.finish("stop");
        finishSent = true;
        return finish + writer.usage(usage() ?? normaliseAnthropicUsage(counts)) + writer.done();
      }
    }
  }

  return {
    onData,
    onEnd() {
      if (!stopped) throw new ProviderError(`${provider}: stream ended before message_stop`, provider, undefined, true);
      return "";
    },
    usage,
  };
}
