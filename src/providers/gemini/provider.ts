import { randomBytes } from "node:crypto";
import { countMessageTokens, countTokens } from "../../lib/tokenizer.ts";
import { createHttpUpstream, type UpstreamResponse } from "../http-upstream.ts";
import { readTranslatableRequest } from "../openai-request.ts";
import { translateSseBody } from "../translated-stream.ts";
import { ProviderError, type ChatCall, type ChatResult, type ChatStream, type Provider, type Usage } from "../types.ts";
import { geminiErrorDetail } from "./errors.ts";
import { toGenerateContentRequest } from "./request.ts";
import { readParts, createCallIds, toChatCompletion } from "./response.ts";
import { createGeminiStreamTranslator } from "./stream.ts";
import { GenerateContentResponse, normaliseGeminiUsage } from "./wire.ts";

export interface GeminiOptions {
  /** Provider id as used in the catalog; "google" unless a catalog names it otherwise. */
  id?: string;
  /** Up to, not including, the API version: "https://generativelanguage.googleapis.com". */
  baseUrl: string;
  apiKey: string;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
}

/**
 * Adapter for the Gemini API's `models.generateContent` and `models.streamGenerateContent`
 * (https://ai.google.dev/api/generate-content): agents keep speaking OpenAI chat completions,
 * and this translates each call there and back. The key goes in the `x-goog-api-key` header,
 * never in the URL, so no URL that reaches a log or an error carries it.
 */
export function createGeminiProvider(options: GeminiOptions): Provider {
  const id = options.id ?? "google";
  const base = `${options.baseUrl.replace(/\/+$/, "")}/v1beta`;
  const http = createHttpUpstream({ ...options, id });

  function upstreamModel(call: ChatCall): string {
    // The API names models "models/<id>"; catalogs usually hold the bare id.
    return (call.model.upstreamId ?? call.model.id).replace(/^models\//, "");
  }

  function send(call: ChatCall, stream: boolean): Promise<UpstreamResponse> {
    const body = toGenerateContentRequest(id, readTranslatableRequest(id, call.body));
    const method = stream ? "streamGenerateContent?alt=sse" : "generateContent";
    const url = `${base}/models/${encodeURIComponent(upstreamModel(call))}:${method}`;
    const headers = { "x-goog-api-key": options.apiKey, accept: stream ? "text/event-stream" : "application/json" };
    return http.postJson(url, headers, body, call.signal);
  }

  function estimate(call: ChatCall, outputText: string): Usage {
    return {
      promptTokens: countMessageTokens(call.body.messages),
      completionTokens: countTokens(outputText),
      cachedPromptTokens: 0,
      reasoningTokens: 0,
      estimated: true,
    };
  }

  function head(call: ChatCall): { id: string; model: string; created: number } {
    return { id: `chatcmpl-${randomBytes(12).toString("hex")}`, model: upstreamModel(call), created: Math.floor(Date.now() / 1000) };
  }

  async function chat(call: ChatCall): Promise<ChatResult> {
    const response = await send(call, false);
    if (response.statusCode < 200 || response.statusCode > 299) throw await http.statusError(response, call.signal, geminiErrorDetail);
    const parsed = GenerateContentResponse.safeParse(await http.readJson(response, call.signal));
    if (!parsed.success) {
      throw new ProviderError(`${id} answered with a malformed GenerateContentResponse`, id, response.statusCode, true, { cause: parsed.error });
    }
    const reply = parsed.data;
    const usage = reply.usageMetadata != null ? normaliseGeminiUsage(reply.usageMetadata) : estimate(call, generatedText(reply));
    return { body: toChatCompletion(reply, head(call), usage), usage, provider: id };
  }

  async function chatStream(call: ChatCall): Promise<ChatStream> {
    const response = await send(call, true);
    if (response.statusCode < 200 || response.statusCode > 299) throw await http.statusError(response, call.signal, geminiErrorDetail);
    if (String(response.headers["content-type"] ?? "").includes("application/json")) {
      // Without alt=sse the API streams a JSON array; that is not what this adapter reads.
      response.body.destroy();
      throw new ProviderError(`${id} answered a streamed call with JSON instead of SSE`, id, response.statusCode, true);
    }
    const translator = createGeminiStreamTranslator(id, head(call), http.redact, (outputText) => estimate(call, outputText));
    return { provider: id, chunks: translateSseBody(http, response.body, call.signal, translator), usage: () => translator.usage() };
  }

  return { id, chat, chatStream, close: () => http.close() };
}

/** What a reply generated, as text, for estimating its output tokens. */
function generatedText(reply: GenerateContentResponse): string {
  const { text, toolCalls } = readParts(reply.candidates?.[0]?.content?.parts ?? [], createCallIds());
  return text + toolCalls.map((c) => c.name + c.arguments).join("");
}
