import { ChatCompletionStream } from "openai/lib/ChatCompletionStream";
import type { ChatCompletion, ChatCompletionChunk } from "openai/resources/chat/completions";
import { Stream } from "openai/streaming";
import type { ChatStream } from "../../src/providers/types.ts";

/**
 * Reads a translated stream the way an agent using the official `openai` package would: its
 * SSE parser yields the chunks, and its ChatCompletionStream helper folds them into the final
 * chat.completion (it refuses tool-call deltas without an index, a first delta without an id,
 * and the like), so both the chunk sequence and the result are checked by OpenAI's own code.
 */
export interface ReadStream {
  /** The bytes as they came, decoded. */
  raw: string;
  /** Each byte piece the adapter yielded, decoded. */
  pieces: string[];
  chunks: ChatCompletionChunk[];
  final: ChatCompletion;
}

function bytesResponse(text: string): Response {
  return new Response(text, { headers: { "content-type": "text/event-stream" } });
}

export async function readOpenAIStream(stream: ChatStream): Promise<ReadStream> {
  const pieces: string[] = [];
  for await (const piece of stream.chunks) pieces.push(Buffer.from(piece).toString("utf8"));
  const raw = pieces.join("");

  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of Stream.fromSSEResponse<ChatCompletionChunk>(bytesResponse(raw), new AbortController())) chunks.push(chunk);

  const folded = ChatCompletionStream.fromReadableStream(
    Stream.fromSSEResponse<ChatCompletionChunk>(bytesResponse(raw), new AbortController()).toReadableStream(),
  );
  const final = await folded.finalChatCompletion();
  return { raw, pieces, chunks, final };
}
