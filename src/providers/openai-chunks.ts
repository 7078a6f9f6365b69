import { toWireUsage } from "./openai-wire.ts";
import type { Usage } from "./types.ts";

/**
 * Writes OpenAI `chat.completion.chunk` SSE events (https://platform.openai.com/docs/api-reference/chat-streaming)
 * for adapters that translate another wire format, one event per call, ready to go on the wire:
 * the role first, then content and tool-call deltas, the finish reason, the usage chunk with
 * `choices: []` (as OpenAI sends it under `stream_options.include_usage`), and `[DONE]`.
 */

export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter";

/** The fields every chunk of one completion repeats. */
export interface ChunkHead {
  id: string;
  /** Unix seconds. */
  created: number;
  model: string;
}

/**
 * One tool call's delta. The first delta of a call carries its `id` and `name`; later ones
 * only append to `arguments`. `index` numbers the calls of the message, from 0.
 */
export interface ToolCallDelta {
  index: number;
  id?: string;
  name?: string;
  arguments?: string;
}

export interface ChunkWriter {
  role(): string;
  content(text: string): string;
  toolCall(delta: ToolCallDelta): string;
  finish(reason: FinishReason): string;
  usage(usage: Usage): string;
  done(): string;
}

function event(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

export function createChunkWriter(head: ChunkHead): ChunkWriter {
  const common = { id: head.id, object: "chat.completion.chunk", created: head.created, model: head.model };

  function choice(delta: Record<string, unknown>, finishReason: FinishReason | null): string {
    // With include_usage, OpenAI sends `usage: null` on every chunk but the last.
    return event({ ...common, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }], usage: null });
  }

  return {
    role: () => choice({ role: "assistant", content: "" }, null),
    content: (text) => choice({ content: text }, null),
    toolCall(delta) {
      const call: Record<string, unknown> = { index: delta.index };
      if (delta.id !== undefined) call.id = delta.id;
      // OpenAI names the type only on a call's first delta, the one that carries its id.
      if (delta.id !== undefined) call.type = "function";
      const fn: Record<string, unknown> = {};
      if (delta.name !== undefined) fn.name = delta.name;
      fn.arguments = delta.arguments ?? "";
      call.function = fn;
      return choice({ tool_calls: [call] }, null);
    },
    finish: (reason) => choice({}, reason),
    usage: (usage) => event({ ...common, choices: [], usage: toWireUsage(usage) }),
    done: () => "data: [DONE]\n\n",
  };
}
