import type { ModelEntry } from "../catalog/schema.ts";

/** Token usage normalised across wire formats. `estimated` marks counts we computed ourselves. */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
  cachedPromptTokens: number;
  reasoningTokens: number;
  estimated: boolean;
}

/**
 * One upstream chat call in OpenAI chat-completions shape. `body` is the agent's validated body
 * with `model` set to the upstream id and `max_tokens` set to the paid-for output cap.
 */
export interface ChatCall {
  model: ModelEntry;
  body: Record<string, unknown> & { messages: unknown[]; max_tokens: number };
  signal: AbortSignal;
}

export interface ChatResult {
  /** OpenAI `chat.completion` object, as the upstream (or translation) produced it. */
  body: Record<string, unknown>;
  usage: Usage;
  /** Which provider actually served it ("simulator" for the simulator). */
  provider: string;
}

/**
 * A stream whose upstream answered 2xx. `chunks` yields the SSE bytes as they arrive
 * (OpenAI `chat.completion.chunk` events, `data: [DONE]` included); `usage()` is defined once
 * `chunks` is exhausted. Iteration throws ProviderError if the upstream fails mid-stream.
 */
export interface ChatStream {
  chunks: AsyncIterable<Uint8Array>;
  usage(): Usage;
  provider: string;
}

/** One upstream embeddings call in OpenAI's shape (POST /v1/embeddings). */
export interface EmbedCall {
  model: ModelEntry;
  body: Record<string, unknown> & { input: string | string[] };
  signal: AbortSignal;
}

export interface EmbedResult {
  /** OpenAI `list` of `embedding` objects, as the upstream produced it. */
  body: Record<string, unknown>;
  usage: Usage;
  provider: string;
}

export interface Provider {
  /** Provider key as used in the catalog, or "simulator". */
  readonly id: string;
  chat(call: ChatCall): Promise<ChatResult>;
  /** Resolves once the upstream has answered with a 2xx status; rejects with ProviderError otherwise. */
  chatStream(call: ChatCall): Promise<ChatStream>;
  /** Embeddings, for providers whose wire format has them. */
  embed?(call: EmbedCall): Promise<EmbedResult>;
  close?(): Promise<void>;
}

/** Failure talking to an upstream. `retryable` says whether another attempt or candidate may help. */
export class ProviderError extends Error {
  override readonly name = "ProviderError";
  /**
   * How long the upstream asked callers to wait before trying it again (a `retry-after` header,
   * or Google's RetryInfo detail), when it said. Advice for whoever schedules the next attempt
   * on this provider; failing over to another provider need not wait.
   */
  readonly retryAfterMs?: number;
  constructor(
    message: string,
    readonly provider: string,
    readonly status: number | undefined,
    readonly retryable: boolean,
    options?: { cause?: unknown; retryAfterMs?: number | undefined },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    if (options?.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}
