import { countMessageTokens } from "../../lib/tokenizer.ts";
import { createHttpUpstream, type UpstreamResponse } from "../http-upstream.ts";
import { readTranslatableRequest } from "../openai-request.ts";
import { translateSseBody } from "../translated-stream.ts";
import { ProviderError, type ChatCall, type ChatResult, type ChatStream, type Provider } from "../types.ts";
import { anthropicErrorDetail } from "./errors.ts";
import { toMessagesRequest } from "./request.ts";
import { toChatCompletion } from "./response.ts";
import { createAnthropicStreamTranslator } from "./stream.ts";
import { AnthropicMessage, normaliseAnthropicUsage } from "./wire.ts";

export interface AnthropicOptions {
  /** Provider id as used in the catalog; "anthropic" unless a catalog names it otherwise. */
  id?: string;
  /** Up to, not including, the API version: "https://api.anthropic.com" (the SDKs' ANTHROPIC_BASE_URL). */
  baseUrl: string;
  apiKey: string;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
}

/**
 * The API version this adapter speaks (https://docs.anthropic.com/en/api/versioning). It is
 * still the current one; newer features arrive as `anthropic-beta` headers, none used here.
 */
export const ANTHROPIC_VERSION = "2023-06-01";

/**
 * Adapter for Anthropic's Messages API (`POST /v1/messages`): agents keep speaking OpenAI chat
 * completions, and this translates each call there and back, streamed or not.
 */
export function createAnthropicProvider(options: AnthropicOptions): Provider {
  const id = options.id ?? "anthropic";
  const url = `${options.baseUrl.replace(/\/+$/, "")}/v1/messages`;
  const http = createHttpUpstream({ ...options, id });

  function send(call: ChatCall, stream: boolean): Promise<UpstreamResponse> {
    const request = readTranslatableRequest(id, call.body);
    const body = toMessagesRequest(id, request, call.model.upstreamId ?? call.model.id, stream);
    const headers = {
      "x-api-key": options.apiKey,
      "anthropic-version": ANTHROPIC_VERSION,
      accept: stream ? "text/event-stream" : "application/json",
    };
    return http.postJson(url, headers, body, call.signal);
  }

  async function chat(call: ChatCall): Promise<ChatResult> {
    const response = await send(call, false);
    if (response.statusCode < 200 || response.statusCode > 299) throw await http.statusError(response, call.signal, anthropicErrorDetail);
    const json = await http.readJson(response, call.signal);
    const parsed = AnthropicMessage.safeParse(json);
    if (!parsed.success) {
      throw new ProviderError(`${id} answered with a malformed message`, id, response.statusCode, true, { cause: parsed.error });
    }
    return { body: toChatCompletion(parsed.data, nowSeconds()), usage: normaliseAnthropicUsage(parsed.data.usage), provider: id };
  }

  async function chatStream(call: ChatCall): Promise<ChatStream> {
    const response = await send(call, true);
    if (response.statusCode < 200 || response.statusCode > 299) throw await http.statusError(response, call.signal, anthropicErrorDetail);
    if (String(response.headers["content-type"] ?? "").includes("application/json")) {
      response.body.destroy();
      throw new ProviderError(`${id} answered a streamed call with JSON instead of SSE`, id, response.statusCode, true);
    }
    const translator = createAnthropicStreamTranslator(id, nowSeconds(), http.redact);
    return {
      provider: id,
      chunks: translateSseBody(http, response.body, call.signal, translator),
      // Before message_start nothing was counted upstream: estimate the whole call then.
      usage: () =>
        translator.usage() ?? {
          promptTokens: countMessageTokens(call.body.messages),
          completionTokens: 0,
          cachedPromptTokens: 0,
          reasoningTokens: 0,
          estimated: true,
        },
    };
  }

  return { id, chat, chatStream, close: () => http.close() };
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
