import { z } from "zod";
import { createHttpUpstream, safeJson, type UpstreamResponse } from "./http-upstream.ts";
import {
  ChatCompletion,
  ChatCompletionChunk,
  UpstreamErrorBody,
  generatedText,
  normaliseUsage,
} from "./openai-wire.ts";
import { CAPPED_REASONING_FIELDS, FORWARDED_FIELDS } from "./openai-request.ts";
import { createSseDataReader } from "./sse.ts";
import { countMessageTokens, countTokens } from "../lib/tokenizer.ts";
import { ProviderError, type ChatCall, type ChatResult, type ChatStream, type EmbedCall, type EmbedResult, type Provider, type Usage } from "./types.ts";

export interface OpenAICompatibleOptions {
  /** Provider id as used in the catalog (openai, groq, ...). */
  id: string;
  /** Base URL up to the API version, e.g. "https://api.openai.com/v1". */
  baseUrl: string;
  apiKey: string;
  /** Longest wait for the response headers. Non-streamed reasoning calls answer late. */
  headersTimeoutMs?: number;
  /** Longest silence between two body chunks. */
  bodyTimeoutMs?: number;
  /**
   * Body field that carries the paid-for output cap. OpenAI deprecated `max_tokens` and its
   * o-series models refuse it, so the OpenAI preset sends `max_completion_tokens`; most other
   * compatible servers (DeepSeek, Mistral, vLLM, older proxies) only know `max_tokens`.
   */
  maxTokensParam?: "max_tokens" | "max_completion_tokens";
}

const JsonObject = z.record(z.string(), z.unknown());

/** OpenAI's embeddings reply (platform.openai.com/docs/api-reference/embeddings/object). */
const EmbeddingList = z.object({
  data: z.array(z.object({ index: z.int(), embedding: z.union([z.array(z.number()), z.string()]) }).loose()),
  usage: z.object({ prompt_tokens: z.int().nonnegative() }).loose().nullish(),
}).loose();

/**
 * Adapter for any upstream that speaks OpenAI's `POST /chat/completions` (OpenAI, Groq,
 * DeepSeek, Mistral, OpenRouter, Together, Fireworks, vLLM, Ollama, ...), over one keep-alive
 * undici Agent per provider instance.
 */
export function createOpenAICompatibleProvider(options: OpenAICompatibleOptions): Provider {
  const { id, apiKey } = options;
  const url = `${options.baseUrl.replace(/\/+$/, "")}/chat/completions`;
  const embeddingsUrl = `${options.baseUrl.replace(/\/+$/, "")}/embeddings`;
  const maxTokensParam = options.maxTokensParam ?? "max_tokens";
  const http = createHttpUpstream(options);

  function send(call: ChatCall, body: Record<string, unknown>, accept: string): Promise<UpstreamResponse> {
    return http.postJson(url, { authorization: `Bearer ${apiKey}`, accept }, body, call.signal);
  }

  function statusError(response: UpstreamResponse, signal: AbortSignal): Promise<ProviderError> {
    return http.statusError(response, signal, (body) => {
      const parsed = UpstreamErrorBody.safeParse(body);
      return parsed.success ? { message: parsed.data } : undefined;
    });
  }

  const forwarded: readonly string[] = maxTokensParam === "max_completion_tokens" ? [...FORWARDED_FIELDS, ...CAPPED_REASONING_FIELDS] : FORWARDED_FIELDS;

  function upstreamBody(call: ChatCall, stream: boolean): Record<string, unknown> {
    const body: Record<string, unknown> = {};
    for (const field of forwarded) if (call.body[field] !== undefined) body[field] = call.body[field];
    // Whatever output cap the agent asked for, only the paid-for one (`max_tokens` in the call)
    // goes upstream, under the name this upstream understands.
    body.model = call.model.upstreamId ?? call.model.id;
    body[maxTokensParam] = call.body.max_tokens;
    const agentStreamOptions = call.body.stream_options;
    if (stream) {
      body.stream = true;
      // Forced on: the final chunk's usage is what the call is accounted on, whatever the agent set.
      body.stream_options = { ...(isPlainObject(agentStreamOptions) ? agentStreamOptions : {}), include_usage: true };
    }
    return body;
  }

  function estimate(call: ChatCall, completionText: string): Usage {
    return {
      promptTokens: countMessageTokens(call.body.messages),
      completionTokens: countTokens(completionText),
      cachedPromptTokens: 0,
      reasoningTokens: 0,
      estimated: true,
    };
  }

  async function chat(call: ChatCall): Promise<ChatResult> {
    const response = await send(call, upstreamBody(call, false), "application/json");
    if (response.statusCode < 200 || response.statusCode > 299) throw await statusError(response, call.signal);
    const json = await http.readJson(response, call.signal);
    const parsed = ChatCompletion.safeParse(json);
    const body = JsonObject.safeParse(json);
    if (!parsed.success || !body.success) {
      throw new ProviderError(`${id} answered with a malformed chat.completion`, id, response.statusCode, true, {
        cause: parsed.error ?? body.error,
      });
    }
    const completion = parsed.data;
    const usage =
      completion.usage != null
        ? normaliseUsage(completion.usage)
        : estimate(call, completion.choices.map((c) => generatedText(c.message)).join(""));
    // The agent gets the upstream's object as it came, key order included; the schema only vouched for it.
    return { body: body.data, usage, provider: id };
  }

  async function chatStream(call: ChatCall): Promise<ChatStream> {
    const response = await send(call, upstreamBody(call, true), "text/event-stream");
    if (response.statusCode < 200 || response.statusCode > 299) throw await statusError(response, call.signal);
    const contentType = String(response.headers["content-type"] ?? "");
    if (contentType.includes("application/json")) {
      // A server that ignored `stream: true`; its JSON would not parse as SSE on the agent's side.
      response.body.destroy();
      throw new ProviderError(`${id} answered a streamed call with JSON instead of SSE`, id, response.statusCode, true);
    }

    let upstreamUsage: Usage | undefined;
    let completionText = "";
    const sse = createSseDataReader((data) => {
      if (data === "[DONE]") return;
      const chunk = ChatCompletionChunk.safeParse(safeJson(data));
      // Unparseable events are the agent's to judge; we only skip them for accounting.
      if (!chunk.success) return;
      for (const choice of chunk.data.choices ?? []) if (choice.delta) completionText += generatedText(choice.delta);
      if (chunk.data.usage != null) upstreamUsage = normaliseUsage(chunk.data.usage);
    });

    const body = response.body;
    const source = body[Symbol.asyncIterator]();
    let yielded = false;
    let finished = false;
    const chunks: AsyncIterableIterator<Uint8Array> = {
      [Symbol.asyncIterator]() {
        return this;
      },
      async next(): Promise<IteratorResult<Uint8Array>> {
        if (finished) return { done: true, value: undefined };
        let step: IteratorResult<unknown>;
        try {
          step = await source.next();
        } catch (error) {
          finished = true;
          body.destroy();
          const failure = http.transportError(error, call.signal, "mid-stream");
          // Once bytes went to the agent a second attempt would repeat them: not retryable then.
          throw yielded && failure.retryable
            ? new ProviderError(failure.message, id, failure.status, false, { cause: failure.cause })
            : failure;
        }
        if (step.done) {
          finished = true;
          sse.end();
          return { done: true, value: undefined };
        }
        const bytes = step.value;
        if (!(bytes instanceof Uint8Array)) throw new ProviderError(`${id}: stream produced a non-byte chunk`, id, undefined, false);
        // The watcher only decodes; the very same Buffer goes on, as soon as it arrived.
        sse.push(bytes);
        yielded = true;
        return { done: false, value: bytes };
      },
      async return(): Promise<IteratorResult<Uint8Array>> {
        // The consumer stopped early (agent went away): release the upstream socket now.
        finished = true;
        body.destroy();
        return { done: true, value: undefined };
      },
    };

    return {
      provider: id,
      chunks,
      usage: () => upstreamUsage ?? estimate(call, completionText),
    };
  }

  async function embed(call: EmbedCall): Promise<EmbedResult> {
    const response = await http.postJson(embeddingsUrl, { authorization: `Bearer ${apiKey}`, accept: "application/json" }, { ...call.body, model: call.model.upstreamId ?? call.model.id }, call.signal);
    if (response.statusCode < 200 || response.statusCode > 299) throw await statusError(response, call.signal);
    const json = await http.readJson(response, call.signal);
    const parsed = EmbeddingList.safeParse(json);
    const body = JsonObject.safeParse(json);
    if (!parsed.success || !body.success) {
      throw new ProviderError(`${id} answered with a malformed embedding list`, id, response.statusCode, true, { cause: parsed.error ?? body.error });
    }
    const promptTokens = parsed.data.usage?.prompt_tokens ?? countTokens([call.body.input].flat().join("\n"));
    const usage: Usage = { promptTokens, completionTokens: 0, cachedPromptTokens: 0, reasoningTokens: 0, estimated: parsed.data.usage == null };
    return { body: body.data, usage, provider: id };
  }

  return {
    id,
    chat,
    chatStream,
    embed,
    close: () => http.close(),
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
