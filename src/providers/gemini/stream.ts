import { countTokens } from "../../lib/tokenizer.ts";
import { safeJson } from "../http-upstream.ts";
import { createChunkWriter, type ChunkWriter } from "../openai-chunks.ts";
import type { StreamTranslator } from "../translated-stream.ts";
import { ProviderError, type Usage } from "../types.ts";
import { geminiStreamError } from "./errors.ts";
import { createCallIds, finishReasonOf, readParts } from "./response.ts";
import { GeminiErrorBody, GenerateContentResponse, normaliseGeminiUsage, type UsageMetadata } from "./wire.ts";

export interface GeminiStreamTranslator extends StreamTranslator {
  /**
   * Usage from the last chunk's usageMetadata. If the stream stopped before its finishing
   * chunk, the output is counted with the tokenizer and marked estimated; without any
   * usageMetadata, `estimate` answers for the whole call.
   */
  usage(): Usage;
}

/**
 * `streamGenerateContent?alt=sse` sends one GenerateContentResponse per SSE event
 * (https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent), each
 * with the next parts of the reply; the one with `finishReason` carries the full usage. Each
 * becomes OpenAI chunks as it arrives: the role with the first, then text and tool-call
 * deltas (a function call arrives whole, so its one delta carries id, name and arguments), the
 * finish reason; the usage chunk and `[DONE]` follow when the upstream closes the stream.
 */
export function createGeminiStreamTranslator(
  provider: string,
  head: { id: string; model: string; created: number },
  redact: (text: string) => string,
  estimate: (outputText: string) => Usage,
): GeminiStreamTranslator {
  let writer: ChunkWriter | undefined;
  let metadata: UsageMetadata | undefined;
  let outputText = "";
  let toolCount = 0;
  let finished = false;
  const nextId = createCallIds();

  function malformed(what: string): ProviderError {
    return new ProviderError(`${provider}: malformed stream (${what})`, provider, undefined, true);
  }

  function usage(): Usage {
    if (metadata === undefined) return estimate(outputText);
    const normalised = normaliseGeminiUsage(metadata);
    return finished ? normalised : { ...normalised, completionTokens: countTokens(outputText), reasoningTokens: 0, estimated: true };
  }

  function onData(data: string): string {
    const json = safeJson(data);
    const failure = GeminiErrorBody.safeParse(json);
    if (failure.success) throw geminiStreamError(provider, failure.data, redact);
    const parsed = GenerateContentResponse.safeParse(json);
    if (!parsed.success) throw malformed("an event that is not a GenerateContentResponse");
    const chunk = parsed.data;
    if (chunk.usageMetadata != null) metadata = chunk.usageMetadata;

    let out = "";
    if (writer === undefined) {
      writer = createChunkWriter({ id: chunk.responseId ?? head.id, created: head.created, model: chunk.modelVersion ?? head.model });
      out += writer.role();
    }
    const candidate = chunk.candidates?.[0];
    const { text, toolCalls } = readParts(candidate?.content?.parts ?? [], nextId);
    if (text !== "") {
      outputText += text;
      out += writer.content(text);
    }
    for (const call of toolCalls) {
      outputText += call.name + call.arguments;
      out += writer.toolCall({ index: toolCount++, id: call.id, name: call.name, arguments: call.arguments });
    }
    const blocked = candidate === undefined && chunk.promptFeedback?.blockReason != null;
    if (!finished && (candidate?.finishReason != null || blocked)) {
      finished = true;
      out += writer.finish(blocked ? "content_filter" : finishReasonOf(candidate?.finishReason, toolCount > 0));
    }
    return out;
  }

  return {
    onData,
    onEnd() {
      // Gemini has no closing event: the stream is whole only if a finishReason came.
      if (!finished || writer === undefined) throw new ProviderError(`${provider}: stream ended without a finishReason`, provider, undefined, true);
      return writer.usage(usage()) + writer.done();
    },
    usage,
  };
}
